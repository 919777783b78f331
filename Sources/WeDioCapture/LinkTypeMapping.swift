import CPcap
import WeDioBasics

/// libpcap DLT_ values → `LinkType` (DLT numbers differ from the LINKTYPE_ numbers in files for a few types).
enum LinkTypeMapping {
    static func linkType(dlt: Int32) -> LinkType {
        switch dlt {
        case DLT_EN10MB: .ethernet
        case DLT_LINUX_SLL: .linuxSLL
        case 276: .linuxSLL2  // DLT_LINUX_SLL2
        case DLT_NULL: .null
        case DLT_LOOP: .loop
        case DLT_RAW, 101, 12, 14: .raw  // DLT_RAW is 12 or 14 depending on the platform; LINKTYPE_RAW is 101
        case 228: .ipv4  // DLT_IPV4
        case 229: .ipv6  // DLT_IPV6
        default: .other(dlt)
        }
    }
}

extension LinkType {
    /// The libpcap DLT_ value (for pcap_open_dead: BPF programs for packets read without libpcap).
    var dataLink: Int32 {
        switch self {
        case .ethernet: DLT_EN10MB
        case .linuxSLL: DLT_LINUX_SLL
        case .linuxSLL2: 276
        case .null: DLT_NULL
        case .loop: DLT_LOOP
        case .raw: DLT_RAW
        case .ipv4: 228
        case .ipv6: 229
        case .other(let value): value
        }
    }
}
