import WeDioBasics

/// Input-level failures of the capture layer: each names the input and says what to do.
public struct CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The input could not be opened or is not a capture at all.
        case cannotOpen = "cannot-open"
        /// Reading stopped part-way (truncated file, damaged record).
        case readFailed = "read-failed"
        /// A pcapng file whose interfaces have different link types (libpcap reads one per handle).
        case mixedLinkTypes = "mixed-link-types"
        case badFilter = "bad-filter"
        case permissionDenied = "permission-denied"
        case noSuchInterface = "no-such-interface"
        case liveCaptureFailed = "live-capture-failed"
        case cannotWrite = "cannot-write"
    }

    public var code: Code
    /// File path or interface name.
    public var input: String
    /// 1-based number of the packet where reading stopped, when known.
    public var packet: Int?
    public var detail: String

    public init(code: Code, input: String, packet: Int? = nil, detail: String) {
        self.code = code
        self.input = input
        self.packet = packet
        self.detail = detail
    }

    public static func == (lhs: CaptureError, rhs: CaptureError) -> Bool { lhs.code == rhs.code }

    public var description: String {
        var text = "\(input): "
        if let packet {
            text += packet > 0 ? "after packet \(packet): " : "before the first packet: "
        }
        return text + detail
    }
}
