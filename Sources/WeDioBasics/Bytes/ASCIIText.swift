// Addresses spelled in ASCII straight into a byte buffer: a report of a server's capture spells a few
// million of them, and building a `String` for each (then copying its UTF-8 out) cost more than everything
// else the JSON writer does. Numbers: `ByteBuffer.appendDecimal` and `appendPadded`.

extension IPAddress {
    /// The address as `description` spells it.
    public func appendText(to out: inout ByteBuffer) {
        switch self {
        case .v4(let a):
            unsafe out.append(atMost: 15) { target in unsafe Self.writeIPv4(a, to: target) }
        case .v6:
            out.append(utf8: description)
        }
    }

    /// An IPv4 address dotted into `target` (at most 15 bytes); returns how many it wrote. Part by part, each
    /// part with its own room check and digit count, an address with its port cost 480 instructions.
    static func writeIPv4(_ address: UInt32, to target: UnsafeMutablePointer<UInt8>) -> Int {
        var at = 0
        func part(_ value: UInt32) {
            let digits = ByteBuffer.decimalDigitCount(UInt64(value))
            unsafe ByteBuffer.writeDigits(UInt64(value), count: digits, to: target + at)
            at &+= digits
        }
        func dot() {
            unsafe target[at] = UInt8(ascii: ".")
            at &+= 1
        }
        part(address >> 24)
        dot()
        part((address >> 16) & 0xFF)
        dot()
        part((address >> 8) & 0xFF)
        dot()
        part(address & 0xFF)
        return at
    }
}

extension TransportAddress {
    /// The address as `description` spells it: `IP:port` or `[v6]:port`.
    public func appendText(to out: inout ByteBuffer) {
        if case .v4(let a) = ip {
            // IPv4, the common case, address and port with one room check (at most 21 bytes).
            unsafe out.append(atMost: 21) { target in
                var at = unsafe IPAddress.writeIPv4(a, to: target)
                unsafe target[at] = UInt8(ascii: ":")
                at &+= 1
                let digits = ByteBuffer.decimalDigitCount(UInt64(port))
                unsafe ByteBuffer.writeDigits(UInt64(port), count: digits, to: target + at)
                return at &+ digits
            }
            return
        }
        out.append(UInt8(ascii: "["))
        ip.appendText(to: &out)
        out.append(UInt8(ascii: "]"))
        out.append(UInt8(ascii: ":"))
        out.appendDecimal(UInt64(port))
    }
}
