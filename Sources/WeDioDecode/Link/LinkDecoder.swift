import WeDioBasics

/// The network-layer protocol found under a link header.
public enum NetworkProtocol: Sendable, Equatable {
    case ipv4
    case ipv6
    /// Something that is not IP (ARP, LLDP, …): counted, not an error.
    case other(UInt16)
}

/// Where the network header starts and what it is.
public struct LinkPayload: Sendable, Equatable {
    public var network: NetworkProtocol
    public var offset: Int
}

/// Link-layer decoders: Ethernet with 802.1Q/QinQ tags, Linux cooked v1/v2, BSD NULL and OpenBSD LOOP,
/// raw IP. Each finds the network header; none copies bytes.
public enum LinkDecoder {
    static let etherTypeIPv4: UInt16 = 0x0800
    static let etherTypeIPv6: UInt16 = 0x86DD
    /// 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100 QinQ tag. A switch, not a Set: this runs per packet.
    static func isVLANTag(_ etherType: UInt16) -> Bool {
        switch etherType {
        case 0x8100, 0x88A8, 0x9100: true
        default: false
        }
    }
    /// VLAN tags followed before giving up (QinQ uses two; more is unusual but legal).
    static let maximumVLANTags = 8

    public static func decode(_ link: LinkType, _ bytes: borrowing Span<UInt8>) throws(DecodeError) -> LinkPayload {
        switch link {
        case .ethernet:
            return try ethernet(bytes)
        case .linuxSLL:
            // 16-byte header; protocol type at offset 14 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html).
            guard let proto = ByteCursor.getUInt16(bytes, at: 14) else { throw .truncated("LINUX_SLL header") }
            return LinkPayload(network: network(etherType: proto), offset: 16)
        case .linuxSLL2:
            // 20-byte header; protocol type at offset 0 (LINKTYPE_LINUX_SLL2).
            guard bytes.count >= 20, let proto = ByteCursor.getUInt16(bytes, at: 0) else {
                throw .truncated("LINUX_SLL2 header")
            }
            return LinkPayload(network: network(etherType: proto), offset: 20)
        case .null, .loop:
            guard let raw = ByteCursor.getUInt32(bytes, at: 0) else { throw .truncated("loopback header") }
            // NULL is in the writer's byte order: accept either order (families are small numbers).
            let family = link == .loop ? raw : (raw > 0xFFFF ? raw.byteSwapped : raw)
            switch family {
            case 2: return LinkPayload(network: .ipv4, offset: 4)
            // AF_INET6 differs per OS: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
            case 10, 24, 28, 30: return LinkPayload(network: .ipv6, offset: 4)
            default: return LinkPayload(network: .other(UInt16(truncatingIfNeeded: family)), offset: 4)
            }
        case .raw:
            guard let first = ByteCursor.getUInt8(bytes, at: 0) else { throw .truncated("raw IP header") }
            switch first >> 4 {
            case 4: return LinkPayload(network: .ipv4, offset: 0)
            case 6: return LinkPayload(network: .ipv6, offset: 0)
            default: throw .malformed(.link, "raw IP version \(first >> 4)")
            }
        case .ipv4:
            return LinkPayload(network: .ipv4, offset: 0)
        case .ipv6:
            return LinkPayload(network: .ipv6, offset: 0)
        case .other(let value):
            throw .unsupportedLinkType(value)
        }
    }

    private static func ethernet(_ bytes: borrowing Span<UInt8>) throws(DecodeError) -> LinkPayload {
        var offset = 12
        guard var etherType = ByteCursor.getUInt16(bytes, at: offset) else { throw .truncated("Ethernet header") }
        offset += 2
        var tags = 0
        while isVLANTag(etherType) {
            tags += 1
            guard tags <= maximumVLANTags else { throw .malformed(.link, "more than \(maximumVLANTags) VLAN tags") }
            // Tag: 2 bytes TCI, then the next EtherType.
            guard let next = ByteCursor.getUInt16(bytes, at: offset + 2) else { throw .truncated("VLAN tag") }
            etherType = next
            offset += 4
        }
        if etherType <= 1500 {
            // IEEE 802.3 length field with LLC/SNAP: not IP as used by WebRTC; counted as other.
            return LinkPayload(network: .other(etherType), offset: offset)
        }
        return LinkPayload(network: network(etherType: etherType), offset: offset)
    }

    static func network(etherType: UInt16) -> NetworkProtocol {
        switch etherType {
        case etherTypeIPv4: .ipv4
        case etherTypeIPv6: .ipv6
        default: .other(etherType)
        }
    }
}
