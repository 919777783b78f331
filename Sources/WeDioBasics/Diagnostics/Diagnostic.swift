/// Which input and which packet (1-based, as Wireshark numbers frames) a thing came from.
public struct PacketRef: Hashable, Sendable, Comparable, CustomStringConvertible, BitwiseCopyable {
    public var input: Int
    public var packet: Int

    public init(input: Int, packet: Int) {
        self.input = input
        self.packet = packet
    }

    public static func < (lhs: PacketRef, rhs: PacketRef) -> Bool {
        (lhs.input, lhs.packet) < (rhs.input, rhs.packet)
    }

    public var description: String { "input \(input) packet \(packet)" }
}

/// Capture time: nanoseconds since the Unix epoch, as read from the capture (never the system clock).
public struct CaptureTime: Hashable, Sendable, Comparable, BitwiseCopyable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.nanoseconds = seconds &* 1_000_000_000 &+ nanoseconds
    }

    public static func < (lhs: CaptureTime, rhs: CaptureTime) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public func adding(milliseconds: Int64) -> CaptureTime {
        CaptureTime(nanoseconds: nanoseconds &+ milliseconds &* 1_000_000)
    }

    /// Moved back by a fractional number of milliseconds (a clock offset between captures), to the nanosecond.
    public func subtracting(milliseconds: Double) -> CaptureTime {
        CaptureTime(nanoseconds: nanoseconds &- Int64((milliseconds * 1e6).rounded()))
    }

    /// Milliseconds from `earlier` to `self`, with microsecond resolution.
    public func milliseconds(since earlier: CaptureTime) -> Double {
        Double((nanoseconds &- earlier.nanoseconds) / 1000) / 1000
    }
}

/// Why a packet (or part of it) could not be used. Stable raw values: reports and tests rely on them.
public enum DiagnosticReason: String, Hashable, Sendable, CaseIterable, Comparable {
    /// The capture cut the packet (caplen < len) before a header or payload we needed.
    case truncated
    /// Declared lengths or fields contradict the bytes (a malformed header).
    case malformedLink = "malformed-link"
    case malformedIP = "malformed-ip"
    case malformedUDP = "malformed-udp"
    case malformedTCP = "malformed-tcp"
    case malformedSTUN = "malformed-stun"
    case malformedChannelData = "malformed-channeldata"
    case unsupportedLinkType = "unsupported-link-type"
    case unsupportedNetwork = "unsupported-network"
    case fragmentOverlap = "fragment-overlap"
    case fragmentTimeout = "fragment-timeout"
    case fragmentEvicted = "fragment-evicted"
    case tcpGap = "tcp-gap"
    case tcpStreamEvicted = "tcp-stream-evicted"
    case tcpBufferLimit = "tcp-buffer-limit"
    case tcpFramingLost = "tcp-framing-lost"
    case fingerprintFailed = "fingerprint-failed"
    case readError = "read-error"

    public static func < (lhs: DiagnosticReason, rhs: DiagnosticReason) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One recorded problem: which input and packet, which layer and reason, and a short detail.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var ref: PacketRef
    public var reason: DiagnosticReason
    public var detail: String

    public init(ref: PacketRef, reason: DiagnosticReason, detail: String) {
        self.ref = ref
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "packet \(ref.packet): \(reason.rawValue): \(detail)" }
}

/// Per-reason counters plus the first few diagnostics kept in full (the rest only counted, to bound memory).
public struct DiagnosticLog: Sendable {
    public private(set) var counts: [DiagnosticReason: Int] = [:]
    public private(set) var samples: [Diagnostic] = []

    public init() {}

    public mutating func record(_ diagnostic: Diagnostic) {
        counts[diagnostic.reason, default: 0] += 1
        if samples.count < Limits.diagnosticSamplesPerInput { samples.append(diagnostic) }
    }

    public func count(_ reason: DiagnosticReason) -> Int { counts[reason] ?? 0 }

    /// Adds another log's counts and samples (samples ordered by packet, still capped).
    public mutating func merge(_ other: DiagnosticLog) {
        for (reason, count) in other.counts { counts[reason, default: 0] += count }
        samples = Array((samples + other.samples).sorted { $0.ref < $1.ref }.prefix(Limits.diagnosticSamplesPerInput))
    }

    public var total: Int { counts.values.reduce(0, +) }

    /// Counts in a stable order, for output.
    public var sortedCounts: [(DiagnosticReason, Int)] {
        counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
