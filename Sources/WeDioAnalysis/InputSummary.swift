import WeDioBasics

/// How reading one input ended.
public enum InputStatus: String, Sendable, Hashable {
    /// Read to the end.
    case complete
    /// Read part-way, then damaged (truncated file, bad record): everything before is kept.
    case damaged
    /// Could not be read at all (missing, unreadable, not a capture).
    case unreadable
}

/// One input as remembered for the report: where it came from and what reading it found.
public struct InputSummary: Sendable, Hashable {
    public var index: Int
    public var path: String
    public var vantage: String
    public var linkType: String?
    public var packets = 0
    /// Bytes on the wire (original lengths).
    public var bytes = 0
    public var capturedBytes = 0
    public var firstTime: CaptureTime?
    public var lastTime: CaptureTime?
    public var status: InputStatus = .complete
    /// The input-level error, when reading stopped (names the file and packet).
    public var failure: String?
    public var failureCode: String?
    /// Per-reason counts of per-packet problems, and the first few in full.
    public var errors: [String: Int] = [:]
    public var errorSamples: [Diagnostic] = []

    public init(index: Int, path: String, vantage: String) {
        self.index = index
        self.path = path
        self.vantage = vantage
    }

    public var durationSeconds: Double {
        guard let firstTime, let lastTime else { return 0 }
        return Double(lastTime.nanoseconds - firstTime.nanoseconds) / 1e9
    }
}

/// Everything one run found: the inputs, the counts, and (when asked) every decoded message.
public struct AnalysisResult: Sendable {
    public var inputs: [InputSummary]
    public var statistics: Statistics
    public var methodCounts: [String: Int]
    public var messages: [MessageRecord]
    public var transactions: TransactionTracker
    public var iceSessions: [ICESession]
    public var turnAllocations: [TURNAllocation] = []

    public init(
        inputs: [InputSummary], statistics: Statistics, methodCounts: [String: Int], messages: [MessageRecord],
        transactions: TransactionTracker = TransactionTracker(), iceSessions: [ICESession] = []
    ) {
        self.inputs = inputs
        self.statistics = statistics
        self.methodCounts = methodCounts
        self.messages = messages
        self.transactions = transactions
        self.iceSessions = iceSessions
    }

    /// The result of a finished analyzer.
    public init(inputs: [InputSummary], analyzer: Analyzer) {
        self.init(
            inputs: inputs, statistics: analyzer.statistics, methodCounts: analyzer.methodCounts,
            messages: analyzer.messages, transactions: analyzer.transactions,
            iceSessions: analyzer.ice.sessions(media: analyzer.media, end: analyzer.lastTime))
        turnAllocations = analyzer.turn.allocations
    }

    /// True when some input could not be read at all.
    public var hasUnreadableInput: Bool { inputs.contains { $0.status == .unreadable } }
    /// True when some input was damaged part-way.
    public var hasDamagedInput: Bool { inputs.contains { $0.status == .damaged } }
}
