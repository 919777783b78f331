/// Numbers and addresses spelled in ASCII straight into a byte buffer: a report of a server's capture
/// spells a few million of them, and building a `String` for each (then copying its UTF-8 out) cost
/// more than everything else the JSON writer does.
public enum ASCIIText {
    /// `value` in decimal, as `String(value)` spells it: the digits appended lowest first, then turned
    /// round in place (no String, no buffer of its own).
    @inlinable
    public static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        let start = out.count
        var rest = value
        repeat {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10))
            rest /= 10
        } while rest > 0
        turnRound(&out, from: start)
    }

    /// `value` in decimal with a leading "-" when negative, as `String(value)` spells it.
    @inlinable
    public static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude, to: &out)
    }

    /// Any integer in decimal (sign included), as `String(value)` spells it.
    @inlinable
    public static func appendDecimal<Number: BinaryInteger>(_ value: Number, to out: inout [UInt8]) {
        if let small = UInt64(exactly: value) {
            appendDecimal(small, to: &out)
        } else if let signed = Int64(exactly: value) {
            appendDecimal(signed, to: &out)
        } else {
            out.append(contentsOf: String(value).utf8)
        }
    }

    /// `value` in exactly `width` decimal digits, zero-padded (the caller keeps it below 10^width).
    @inlinable
    public static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        let start = out.count
        var rest = value.magnitude
        for _ in 0..<width {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10))
            rest /= 10
        }
        turnRound(&out, from: start)
    }
}

extension ASCIIText {
    /// Reverses `out[start...]` by swaps on the array itself (reversing the slice copied the whole array).
    @inlinable
    static func turnRound(_ out: inout [UInt8], from start: Int) {
        var low = start
        var high = out.count - 1
        while low < high {
            out.swapAt(low, high)
            low += 1
            high -= 1
        }
    }
}

extension IPAddress {
    /// The address as `description` spells it.
    public func appendText(to out: inout [UInt8]) {
        switch self {
        case .v4(let a):
            ASCIIText.appendDecimal(UInt64(a >> 24), to: &out)
            out.append(UInt8(ascii: "."))
            ASCIIText.appendDecimal(UInt64((a >> 16) & 0xFF), to: &out)
            out.append(UInt8(ascii: "."))
            ASCIIText.appendDecimal(UInt64((a >> 8) & 0xFF), to: &out)
            out.append(UInt8(ascii: "."))
            ASCIIText.appendDecimal(UInt64(a & 0xFF), to: &out)
        case .v6:
            out.append(contentsOf: description.utf8)
        }
    }
}

extension TransportAddress {
    /// The address as `description` spells it: `IP:port` or `[v6]:port`.
    public func appendText(to out: inout [UInt8]) {
        if case .v6 = ip { out.append(UInt8(ascii: "[")) }
        ip.appendText(to: &out)
        if case .v6 = ip { out.append(UInt8(ascii: "]")) }
        out.append(UInt8(ascii: ":"))
        ASCIIText.appendDecimal(UInt64(port), to: &out)
    }
}
