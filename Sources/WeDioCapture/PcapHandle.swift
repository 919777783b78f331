import CPcap
import Glibc
import WeDioBasics

/// The one owner of a `pcap_t`: closes it when released.
final class PcapHandle {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { pcap_close(pointer) }

    var lastError: String {
        guard let message = pcap_geterr(pointer) else { return "unknown libpcap error" }
        return String(validatingCString: message) ?? "unreadable libpcap error"
    }

    var linkType: LinkType { LinkTypeMapping.linkType(dlt: pcap_datalink(pointer)) }

    var snapshotLength: Int { Int(pcap_snapshot(pointer)) }

    var dataLink: Int32 { pcap_datalink(pointer) }

    /// Compiles and installs a BPF filter (works on files as well as live handles).
    func setFilter(_ expression: String, input: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(pointer, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw CaptureError(code: .badFilter, input: input, detail: "bad filter '\(expression)': \(lastError)")
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(pointer, &program) == 0 else {
            throw CaptureError(code: .badFilter, input: input, detail: "cannot apply filter '\(expression)': \(lastError)")
        }
    }
}

/// One captured packet's metadata; its bytes travel beside it as a borrowed span.
public struct CaptureRecord: Sendable {
    public var number: Int
    public var time: CaptureTime
    /// Original length on the wire; the span may be shorter (snaplen).
    public var wireLength: Int
    /// The packet's own link type and interface, when the file's interfaces differ (pcapng); nil: the capture's.
    public var linkType: LinkType?
    public var interface: Int?

    public init(number: Int, time: CaptureTime, wireLength: Int, linkType: LinkType? = nil, interface: Int? = nil) {
        self.number = number
        self.time = time
        self.wireLength = wireLength
        self.linkType = linkType
        self.interface = interface
    }
}

/// A BPF program compiled for one link type, applied to packets read without libpcap (pcapng interfaces).
final class BPFProgram {
    private var program = bpf_program()
    private var compiled = false

    init?(_ expression: String, linkType: LinkType) {
        guard let dead = pcap_open_dead(linkType.dataLink, 262_144) else { return nil }
        defer { pcap_close(dead) }
        guard pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else { return nil }
        compiled = true
    }

    deinit { if compiled { pcap_freecode(&program) } }

    func matches(_ data: UnsafeRawBufferPointer, wireLength: Int) -> Bool {
        guard let base = data.baseAddress else { return false }
        var header = pcap_pkthdr()
        header.caplen = UInt32(data.count)
        header.len = UInt32(wireLength)
        return pcap_offline_filter(&program, &header, base.assumingMemoryBound(to: UInt8.self)) != 0
    }
}

/// Reads a libpcap timestamp (nanosecond precision was requested at open).
func captureTime(_ header: UnsafePointer<pcap_pkthdr>, nanoseconds: Bool) -> CaptureTime {
    let seconds = Int64(header.pointee.ts.tv_sec)
    let fraction = Int64(header.pointee.ts.tv_usec)
    return CaptureTime(seconds: seconds, nanoseconds: nanoseconds ? fraction : fraction * 1000)
}

/// A NUL-terminated C buffer as a String (libpcap error buffers).
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// BPF filter checks that need no capture (for command-line validation).
public enum BPF {
    /// nil when `expression` compiles for `linkType` (Ethernet by default), else libpcap's complaint.
    public static func problem(with expression: String, linkType: Int32 = DLT_EN10MB) -> String? {
        guard let dead = pcap_open_dead(linkType, 262_144) else { return "cannot check the filter" }
        defer { pcap_close(dead) }
        var program = bpf_program()
        guard pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            guard let message = pcap_geterr(dead) else { return "invalid filter" }
            return String(validatingCString: message) ?? "invalid filter"
        }
        pcap_freecode(&program)
        return nil
    }
}
