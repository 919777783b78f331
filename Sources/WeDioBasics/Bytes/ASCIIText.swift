// Addresses spelled in ASCII straight into a byte buffer: a report of a server's capture spells a few
// million of them, and building a `String` for each (then copying its UTF-8 out) cost more than everything
// else the JSON writer does. Numbers: `ByteBuffer.appendDecimal` and `appendPadded`.

extension IPAddress {
    /// The address as `description` spells it.
    public func appendText(to out: inout ByteBuffer) {
        switch self {
        case .v4(let a):
            out.appendDecimal(UInt64(a >> 24))
            out.append(UInt8(ascii: "."))
            out.appendDecimal(UInt64((a >> 16) & 0xFF))
            out.append(UInt8(ascii: "."))
            out.appendDecimal(UInt64((a >> 8) & 0xFF))
            out.append(UInt8(ascii: "."))
            out.appendDecimal(UInt64(a & 0xFF))
        case .v6:
            out.append(utf8: description)
        }
    }
}

extension TransportAddress {
    /// The address as `description` spells it: `IP:port` or `[v6]:port`.
    public func appendText(to out: inout ByteBuffer) {
        if case .v4(let a) = ip {
            // IPv4, the common case, in one write with one room check (at most 21 bytes): part by part, each with
            // its own check and digit count, an address cost 480 instructions.
            unsafe out.append(atMost: 21) { target in
                var at = 0
                func number(_ value: UInt32) {
                    var digits = 1
                    var limit: UInt32 = 10
                    while value >= limit && digits < 5 {
                        digits += 1
                        limit &*= 10
                    }
                    var rest = value
                    var index = at &+ digits
                    while index > at {
                        index &-= 1
                        unsafe target[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                        rest /= 10
                    }
                    at &+= digits
                }
                number(a >> 24)
                unsafe target[at] = UInt8(ascii: ".")
                at &+= 1
                number((a >> 16) & 0xFF)
                unsafe target[at] = UInt8(ascii: ".")
                at &+= 1
                number((a >> 8) & 0xFF)
                unsafe target[at] = UInt8(ascii: ".")
                at &+= 1
                number(a & 0xFF)
                unsafe target[at] = UInt8(ascii: ":")
                at &+= 1
                number(UInt32(port))
                return at
            }
            return
        }
        if case .v6 = ip { out.append(UInt8(ascii: "[")) }
        ip.appendText(to: &out)
        if case .v6 = ip { out.append(UInt8(ascii: "]")) }
        out.append(UInt8(ascii: ":"))
        out.appendDecimal(UInt64(port))
    }
}
