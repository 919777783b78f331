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
        if case .v6 = ip { out.append(UInt8(ascii: "[")) }
        ip.appendText(to: &out)
        if case .v6 = ip { out.append(UInt8(ascii: "]")) }
        out.append(UInt8(ascii: ":"))
        out.appendDecimal(UInt64(port))
    }
}
