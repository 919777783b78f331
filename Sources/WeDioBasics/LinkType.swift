/// Link-layer header types WeDio decodes (tcpdump.org LINKTYPE_ values; libpcap DLT_ values are mapped
/// at the capture boundary).
public enum LinkType: Hashable, Sendable, CustomStringConvertible {
    case ethernet
    case linuxSLL
    case linuxSLL2
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    case null
    /// OpenBSD loopback: 4-byte address family in network byte order.
    case loop
    /// Raw IP, version read from the first nibble.
    case raw
    case ipv4
    case ipv6
    case other(Int32)

    /// The LINKTYPE_ number used in files.
    public var linkTypeNumber: Int32 {
        switch self {
        case .ethernet: 1
        case .linuxSLL: 113
        case .linuxSLL2: 276
        case .null: 0
        case .loop: 108
        case .raw: 101
        case .ipv4: 228
        case .ipv6: 229
        case .other(let value): value
        }
    }

    public var name: String {
        switch self {
        case .ethernet: "EN10MB"
        case .linuxSLL: "LINUX_SLL"
        case .linuxSLL2: "LINUX_SLL2"
        case .null: "NULL"
        case .loop: "LOOP"
        case .raw: "RAW"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        case .other(let value): "DLT_\(value)"
        }
    }

    public var description: String { name }
}
