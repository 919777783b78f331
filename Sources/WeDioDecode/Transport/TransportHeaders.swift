import WeDioBasics

/// UDP (RFC 768): ports and the payload range honouring the length field.
public struct UDPHeader: Sendable, Equatable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payload: Range<Int>

    /// `range` is the IP payload; `capturedIsShort` says whether the capture cut the packet.
    public static func decode(_ bytes: borrowing Span<UInt8>, range: Range<Int>, capturedIsShort: Bool)
        throws(DecodeError) -> UDPHeader
    {
        let start = range.lowerBound
        // Checked once, then read at constant offsets of an 8-byte span (as IPv4's header).
        guard range.count >= 8, start >= 0, start <= bytes.count - 8,
            case let header = bytes.extracting(start..<(start + 8)),
            let source = ByteCursor.getUInt16(header, at: 0),
            let destination = ByteCursor.getUInt16(header, at: 2),
            let length16 = ByteCursor.getUInt16(header, at: 4)
        else {
            if capturedIsShort { throw .truncated("UDP header") }
            throw .malformed(.udp, "UDP header needs 8 bytes, the IP payload has \(range.count)")
        }
        let length = Int(length16)
        var end = range.upperBound
        if length == 0 {
            // RFC 2675 jumbograms (and some offloaded captures) carry 0: use the IP payload.
        } else if length < 8 {
            throw .malformed(.udp, "UDP length \(length) < 8")
        } else if length > range.count {
            guard capturedIsShort else {
                throw .malformed(.udp, "UDP length \(length) exceeds the \(range.count) bytes of the IP payload")
            }
        } else {
            end = start + length
        }
        return UDPHeader(sourcePort: source, destinationPort: destination, payload: (start + 8)..<end)
    }
}

/// TCP (RFC 9293) header fields the stream reassembler needs.
public struct TCPHeader: Sendable, Equatable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var flags: UInt8
    public var payload: Range<Int>

    public var syn: Bool { flags & 0x02 != 0 }
    public var fin: Bool { flags & 0x01 != 0 }
    public var rst: Bool { flags & 0x04 != 0 }

    public static func decode(_ bytes: borrowing Span<UInt8>, range: Range<Int>, capturedIsShort: Bool)
        throws(DecodeError) -> TCPHeader
    {
        let start = range.lowerBound
        guard range.count >= 20, let source = ByteCursor.getUInt16(bytes, at: start),
            let destination = ByteCursor.getUInt16(bytes, at: start + 2),
            let sequence = ByteCursor.getUInt32(bytes, at: start + 4),
            let offsetByte = ByteCursor.getUInt8(bytes, at: start + 12),
            let flags = ByteCursor.getUInt8(bytes, at: start + 13)
        else {
            if capturedIsShort { throw .truncated("TCP header") }
            throw .malformed(.tcp, "TCP header needs 20 bytes, the IP payload has \(range.count)")
        }
        let headerLength = Int(offsetByte >> 4) * 4
        guard headerLength >= 20 else { throw .malformed(.tcp, "TCP data offset \(headerLength) < 20") }
        guard headerLength <= range.count else {
            if capturedIsShort { throw .truncated("TCP options") }
            throw .malformed(.tcp, "TCP data offset \(headerLength) exceeds the \(range.count)-byte IP payload")
        }
        return TCPHeader(
            sourcePort: source, destinationPort: destination, sequence: sequence, flags: flags,
            payload: (start + headerLength)..<range.upperBound)
    }
}
