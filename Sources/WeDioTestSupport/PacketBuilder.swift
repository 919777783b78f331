import WeDioBasics

/// Builds Ethernet / IPv4 / IPv6 / UDP / TCP packets with correct lengths and checksums.
public enum PacketBuilder {
    public static func ethernet(_ payload: [UInt8], etherType: UInt16, vlanTags: [UInt16] = [], outerTagType: UInt16 = 0x8100)
        -> [UInt8]
    {
        var out: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]
        for (index, tag) in vlanTags.enumerated() {
            append16(&out, index == 0 && vlanTags.count > 1 ? outerTagType : 0x8100)
            append16(&out, tag)
        }
        append16(&out, etherType)
        return out + payload
    }

    public static func ipv4(
        source: IPAddress, destination: IPAddress, protocol proto: UInt8, payload: [UInt8], identification: UInt16 = 1,
        fragmentOffset: Int = 0, moreFragments: Bool = false, options: [UInt8] = [], totalLengthOverride: Int? = nil
    ) -> [UInt8] {
        let headerLength = 20 + options.count
        var out: [UInt8] = [UInt8(0x40 | (headerLength / 4)), 0]
        append16(&out, UInt16(truncatingIfNeeded: totalLengthOverride ?? (headerLength + payload.count)))
        append16(&out, identification)
        append16(&out, UInt16(truncatingIfNeeded: (moreFragments ? 0x2000 : 0) | (fragmentOffset / 8)))
        out.append(64)
        out.append(proto)
        append16(&out, 0)
        out.append(contentsOf: source.bytes)
        out.append(contentsOf: destination.bytes)
        out.append(contentsOf: options)
        let checksum = internetChecksum(out)
        out[10] = UInt8(checksum >> 8)
        out[11] = UInt8(truncatingIfNeeded: checksum)
        return out + payload
    }

    /// IPv6 with optional extension headers given as (next-header value, raw header bytes).
    public static func ipv6(
        source: IPAddress, destination: IPAddress, protocol proto: UInt8, payload: [UInt8],
        extensionHeaders: [(type: UInt8, bytes: [UInt8])] = []
    ) -> [UInt8] {
        var chain: [UInt8] = []
        var firstNext = proto
        if !extensionHeaders.isEmpty {
            firstNext = extensionHeaders[0].type
            for (index, header) in extensionHeaders.enumerated() {
                var bytes = header.bytes
                bytes[0] = index + 1 < extensionHeaders.count ? extensionHeaders[index + 1].type : proto
                chain += bytes
            }
        }
        var out: [UInt8] = [0x60, 0, 0, 0]
        append16(&out, UInt16(truncatingIfNeeded: chain.count + payload.count))
        out.append(firstNext)
        out.append(64)
        out.append(contentsOf: source.bytes)
        out.append(contentsOf: destination.bytes)
        return out + chain + payload
    }

    /// An IPv6 Fragment extension header (RFC 8200 §4.5).
    public static func ipv6FragmentHeader(offset: Int, more: Bool, identification: UInt32) -> (type: UInt8, bytes: [UInt8]) {
        var bytes: [UInt8] = [0, 0]
        append16(&bytes, UInt16(truncatingIfNeeded: (offset / 8) << 3 | (more ? 1 : 0)))
        append32(&bytes, identification)
        return (44, bytes)
    }

    public static func udp(source: TransportAddress, destination: TransportAddress, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        append16(&out, source.port)
        append16(&out, destination.port)
        append16(&out, UInt16(truncatingIfNeeded: 8 + payload.count))
        append16(&out, 0)
        out += payload
        let checksum = transportChecksum(out, source: source.ip, destination: destination.ip, proto: 17)
        out[6] = UInt8(checksum >> 8)
        out[7] = UInt8(truncatingIfNeeded: checksum)
        return out
    }

    public static func tcp(
        source: TransportAddress, destination: TransportAddress, sequence: UInt32, acknowledgement: UInt32 = 0,
        flags: UInt8 = 0x18, payload: [UInt8]
    ) -> [UInt8] {
        var out: [UInt8] = []
        append16(&out, source.port)
        append16(&out, destination.port)
        append32(&out, sequence)
        append32(&out, acknowledgement)
        out.append(0x50)
        out.append(flags)
        append16(&out, 65_535)
        append16(&out, 0)
        append16(&out, 0)
        out += payload
        let checksum = transportChecksum(out, source: source.ip, destination: destination.ip, proto: 6)
        out[16] = UInt8(checksum >> 8)
        out[17] = UInt8(truncatingIfNeeded: checksum)
        return out
    }

    /// A whole Ethernet frame carrying UDP over IPv4 or IPv6.
    public static func udpFrame(from source: TransportAddress, to destination: TransportAddress, payload: [UInt8]) -> [UInt8] {
        let segment = udp(source: source, destination: destination, payload: payload)
        return ipFrame(source: source.ip, destination: destination.ip, proto: 17, segment: segment)
    }

    public static func tcpFrame(
        from source: TransportAddress, to destination: TransportAddress, sequence: UInt32, flags: UInt8 = 0x18,
        payload: [UInt8]
    ) -> [UInt8] {
        let segment = tcp(source: source, destination: destination, sequence: sequence, flags: flags, payload: payload)
        return ipFrame(source: source.ip, destination: destination.ip, proto: 6, segment: segment)
    }

    static func ipFrame(source: IPAddress, destination: IPAddress, proto: UInt8, segment: [UInt8]) -> [UInt8] {
        if source.isIPv4 {
            return ethernet(ipv4(source: source, destination: destination, protocol: proto, payload: segment), etherType: 0x0800)
        }
        return ethernet(ipv6(source: source, destination: destination, protocol: proto, payload: segment), etherType: 0x86DD)
    }

    static func transportChecksum(_ segment: [UInt8], source: IPAddress, destination: IPAddress, proto: UInt8) -> UInt16 {
        var pseudo = source.bytes + destination.bytes
        if source.isIPv4 {
            pseudo += [0, proto]
            append16(&pseudo, UInt16(truncatingIfNeeded: segment.count))
        } else {
            append32(&pseudo, UInt32(segment.count))
            pseudo += [0, 0, 0, proto]
        }
        let value = internetChecksum(pseudo + segment)
        return value == 0 ? 0xFFFF : value
    }

    public static func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt64 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt64(bytes[index]) << 8 | UInt64(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt64(bytes[index]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func append16(_ out: inout [UInt8], _ value: UInt16) { out.appendBigEndian(value) }

    static func append32(_ out: inout [UInt8], _ value: UInt32) { out.appendBigEndian(value) }
}
