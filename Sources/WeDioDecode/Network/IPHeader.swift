import WeDioBasics

/// Fragment fields of an IPv4 header or an IPv6 Fragment extension header.
public struct FragmentInfo: Sendable, Equatable {
    /// Datagram identification (16 bits for IPv4, 32 for IPv6).
    public var identification: UInt32
    /// Offset of this fragment's data in bytes.
    public var offset: Int
    public var moreFragments: Bool
}

/// What the IP layer yields: addresses, the upper-layer protocol and where its bytes are.
public struct IPPacket: Sendable, Equatable {
    public var source: IPAddress
    public var destination: IPAddress
    /// Upper-layer protocol number (17 UDP, 6 TCP, …).
    public var upperProtocol: UInt8
    /// Absolute range of the upper-layer bytes in the packet span.
    public var payload: Range<Int>
    /// Set when this packet is a fragment (offset ≠ 0 or more fragments follow).
    public var fragment: FragmentInfo?

    /// The five-tuple of a transport segment carried in this packet.
    func flow(_ sourcePort: UInt16, _ destinationPort: UInt16, _ transport: Transport) -> FiveTuple {
        FiveTuple(
            source: TransportAddress(ip: source, port: sourcePort),
            destination: TransportAddress(ip: destination, port: destinationPort), transport: transport)
    }
}

public enum IPDecoder {
    public static let protocolTCP: UInt8 = 6
    public static let protocolUDP: UInt8 = 17
    public static let protocolICMP: UInt8 = 1
    public static let protocolICMPv6: UInt8 = 58

    /// IPv4 (RFC 791): options skipped by IHL; total length honoured (Ethernet padding dropped).
    /// `wireLength` is the packet's original length, to tell a capture cut (truncated) from a lie (malformed).
    public static func ipv4(_ bytes: borrowing Span<UInt8>, at start: Int, capturedIsShort: Bool) throws(DecodeError)
        -> IPPacket
    {
        // The fixed 20 bytes checked once, their fields read at constant offsets of a span that size (reading
        // each field from the packet with its own overflow tests was 150 instructions a packet).
        guard start >= 0, start <= bytes.count - 20 else { throw .truncated("IPv4 header") }
        let header = bytes.extracting(start..<(start + 20))
        guard let versionIHL = ByteCursor.getUInt8(header, at: 0),
            let totalLength16 = ByteCursor.getUInt16(header, at: 2),
            let identification = ByteCursor.getUInt16(header, at: 4),
            let flagsOffset = ByteCursor.getUInt16(header, at: 6),
            let proto = ByteCursor.getUInt8(header, at: 9),
            let source = ByteCursor.getUInt32(header, at: 12),
            let destination = ByteCursor.getUInt32(header, at: 16)
        else { throw .truncated("IPv4 header") }
        guard versionIHL >> 4 == 4 else { throw .malformed(.ip, "IPv4 version field is \(versionIHL >> 4)") }
        let headerLength = Int(versionIHL & 0x0F) * 4
        let totalLength = Int(totalLength16)
        guard headerLength >= 20 else { throw .malformed(.ip, "IPv4 header length \(headerLength) < 20") }
        guard totalLength >= headerLength else {
            // TCP segmentation offload writes 0 here on captures from the sending host.
            if totalLength == 0 {
                return try ipv4TSO(bytes, start, headerLength, proto, source, destination)
            }
            throw .malformed(.ip, "IPv4 total length \(totalLength) < header length \(headerLength)")
        }
        let available = bytes.count - start
        guard headerLength <= available else { throw .truncated("IPv4 options") }
        var end = start + totalLength
        if totalLength > available {
            guard capturedIsShort else {
                throw .malformed(.ip, "IPv4 total length \(totalLength) exceeds the \(available) bytes on the wire")
            }
            end = bytes.count  // the capture cut it; the upper layers see what there is and report truncation
        }
        let moreFragments = flagsOffset & 0x2000 != 0
        let offset = Int(flagsOffset & 0x1FFF) * 8
        let fragment =
            (moreFragments || offset != 0)
            ? FragmentInfo(identification: UInt32(identification), offset: offset, moreFragments: moreFragments) : nil
        return IPPacket(
            source: .v4(source), destination: .v4(destination), upperProtocol: proto,
            payload: (start + headerLength)..<end, fragment: fragment)
    }

    private static func ipv4TSO(
        _ bytes: borrowing Span<UInt8>, _ start: Int, _ headerLength: Int, _ proto: UInt8, _ source: UInt32,
        _ destination: UInt32
    ) throws(DecodeError) -> IPPacket {
        guard start + headerLength <= bytes.count else { throw .truncated("IPv4 options") }
        return IPPacket(
            source: .v4(source), destination: .v4(destination), upperProtocol: proto,
            payload: (start + headerLength)..<bytes.count, fragment: nil)
    }

    /// IPv6 (RFC 8200) with a bounded walk over extension headers; the Fragment header is reported.
    public static func ipv6(_ bytes: borrowing Span<UInt8>, at start: Int, capturedIsShort: Bool) throws(DecodeError)
        -> IPPacket
    {
        guard let first = ByteCursor.getUInt8(bytes, at: start),
            let payloadLength16 = ByteCursor.getUInt16(bytes, at: start + 4),
            var nextHeader = ByteCursor.getUInt8(bytes, at: start + 6),
            start + 40 <= bytes.count
        else { throw .truncated("IPv6 header") }
        guard first >> 4 == 6 else { throw .malformed(.ip, "IPv6 version field is \(first >> 4)") }
        var source: UInt128 = 0
        var destination: UInt128 = 0
        for index in 0..<16 {
            source = source << 8 | UInt128(bytes[start + 8 + index])
            destination = destination << 8 | UInt128(bytes[start + 24 + index])
        }
        let available = bytes.count - start - 40
        var end = start + 40 + Int(payloadLength16)
        if payloadLength16 == 0 {
            end = bytes.count  // jumbogram or offloaded: take what was captured
        } else if Int(payloadLength16) > available {
            guard capturedIsShort else {
                throw .malformed(.ip, "IPv6 payload length \(payloadLength16) exceeds the \(available) bytes on the wire")
            }
            end = bytes.count
        }
        var offset = start + 40
        var fragment: FragmentInfo?
        var walked = 0
        while true {
            let isExtension: Bool =
                switch nextHeader {
                case 0, 43, 44, 51, 60, 135, 139, 140: true
                default: false
                }
            if isExtension {
                walked += 1
                guard walked <= Limits.ipv6ExtensionHeaders else {
                    throw .malformed(.ip, "more than \(Limits.ipv6ExtensionHeaders) IPv6 extension headers")
                }
            }
            switch nextHeader {
            case 0, 43, 60, 135, 139, 140:
                // Hop-by-hop, Routing, Destination Options, Mobility, HIP, Shim6: length in 8-octet units past the first 8.
                guard let next = ByteCursor.getUInt8(bytes, at: offset),
                    let length = ByteCursor.getUInt8(bytes, at: offset + 1)
                else { throw .truncated("IPv6 extension header") }
                nextHeader = next
                offset += (Int(length) + 1) * 8
            case 44:
                guard let next = ByteCursor.getUInt8(bytes, at: offset),
                    let offsetFlags = ByteCursor.getUInt16(bytes, at: offset + 2),
                    let identification = ByteCursor.getUInt32(bytes, at: offset + 4)
                else { throw .truncated("IPv6 fragment header") }
                nextHeader = next
                let fragmentOffset = Int(offsetFlags >> 3) * 8
                let more = offsetFlags & 1 != 0
                // An atomic fragment (offset 0, M=0, RFC 6946) is a whole datagram.
                if more || fragmentOffset != 0 {
                    fragment = FragmentInfo(identification: identification, offset: fragmentOffset, moreFragments: more)
                }
                offset += 8
            case 51:
                // Authentication Header: length in 4-octet units minus 2 (RFC 4302).
                guard let next = ByteCursor.getUInt8(bytes, at: offset),
                    let length = ByteCursor.getUInt8(bytes, at: offset + 1)
                else { throw .truncated("IPv6 authentication header") }
                nextHeader = next
                offset += (Int(length) + 2) * 4
            default:
                guard offset <= end else {
                    if capturedIsShort { throw .truncated("IPv6 extension headers") }
                    throw .malformed(.ip, "IPv6 extension headers run past the payload")
                }
                return IPPacket(
                    source: .v6(source), destination: .v6(destination), upperProtocol: nextHeader,
                    payload: offset..<end, fragment: fragment)
            }
            guard offset <= end else {
                if capturedIsShort { throw .truncated("IPv6 extension headers") }
                throw .malformed(.ip, "IPv6 extension headers run past the payload")
            }
        }
    }
}
