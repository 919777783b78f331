import WeDioBasics

public enum Severity: String, Sendable, Hashable, Comparable, CaseIterable {
    case info, warning, error

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// What a finding rests on: a sentence, and the transactions, packets and times to look at.
public struct Evidence: Sendable, Hashable {
    public var summary: String
    public var vantage: String?
    /// Transaction ids (hex).
    public var transactions: [String] = []
    public var packets: [PacketRef] = []
    public var times: [CaptureTime] = []

    public init(
        _ summary: String, vantage: String? = nil, transactions: [String] = [], packets: [PacketRef] = [],
        times: [CaptureTime] = []
    ) {
        self.summary = summary
        self.vantage = vantage
        self.transactions = Array(transactions.prefix(Finding.evidenceItemsKept))
        self.packets = Array(packets.prefix(Finding.evidenceItemsKept))
        self.times = Array(times.prefix(Finding.evidenceItemsKept))
    }
}

/// One diagnosis: a stable code (documented in the README), a sentence a non-expert understands, the
/// evidence, and the likely fix.
public struct Finding: Sendable, Hashable {
    /// Ids, packets and times listed per piece of evidence (the rest are counted in the summary).
    static let evidenceItemsKept = 8

    public var severity: Severity
    public var code: FindingCode
    public var message: String
    public var evidence: [Evidence]
    public var fix: String
    /// When it happened (the first evidence), on the reference clock.
    public var time: CaptureTime?
    /// The same problem seen from several vantage points is one finding: equal keys merge their evidence.
    var mergeKey: String?
}

/// The stable finding codes. Scripts match on these spellings.
public enum FindingCode: String, Sendable, Hashable, CaseIterable {
    case iceFailedNoResponse = "ice-failed-no-response"
    case iceFailedAllPairs = "ice-failed-all-pairs"
    case turnAuthFailed = "turn-auth-failed"
    case turnStaleNonceLoop = "turn-stale-nonce-loop"
    case turnAllocationFailed = "turn-allocation-failed"
    case symmetricNATWithoutRelay = "symmetric-nat-without-relay"
    case filteringBlocksPeer = "filtering-blocks-peer"
    case consentLost = "consent-lost"
    case consentInterrupted = "consent-interrupted"
    case icmpUnreachable = "icmp-unreachable"
    case browserDisagrees = "browser-disagrees"
    case slowConnect = "slow-connect"
    case roleConflict = "role-conflict"
    case integrityFailed = "integrity-failed"
    case fingerprintFailed = "fingerprint-failed"
    case permissionMissing = "permission-missing"
    case allocationExpired = "allocation-expired"
    case unansweredSTUNServer = "unanswered-stun-server"
    case oneSidedCapture = "one-sided-capture"
    case retransmissionsTooFast = "retransmissions-too-fast"
    case captureDroppedPackets = "capture-dropped-packets"
    case mediaStall = "media-stall"
    case oneWayMedia = "one-way-media"
    case pairSwitch = "pair-switch"
}
