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

/// One interface of a pcapng input: what its blocks said (name, link type, statistics).
public struct InputInterface: Sendable, Hashable {
    public var index: Int
    public var linkType: String
    public var name: String?
    public var description: String?
    public var packets: Int
    /// From the Interface Statistics Block (isb_ifrecv, isb_ifdrop, isb_osdrop), when the file has one.
    public var received: UInt64?
    public var droppedByInterface: UInt64?
    public var droppedByOS: UInt64?

    public init(
        index: Int, linkType: String, name: String?, description: String?, packets: Int, received: UInt64?,
        droppedByInterface: UInt64?, droppedByOS: UInt64?
    ) {
        self.index = index
        self.linkType = linkType
        self.name = name
        self.description = description
        self.packets = packets
        self.received = received
        self.droppedByInterface = droppedByInterface
        self.droppedByOS = droppedByOS
    }
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
    /// A live capture's kernel counters at the end (nil for files).
    public var liveCounters: CaptureCounters?
    /// A pcapng file read block by block: its interfaces, comments, and Decryption Secrets Blocks (counted).
    public var interfaces: [InputInterface] = []
    public var comments: [String] = []
    public var decryptionSecretsBlocks = 0
    /// When the live capture lost packets, at most `Limits.dropWindows`; later losses extend the last one.
    public private(set) var dropWindows: [CaptureDropWindow] = []

    public mutating func addDropWindow(_ window: CaptureDropWindow) {
        guard dropWindows.count >= Limits.dropWindows, let last = dropWindows.indices.last else {
            dropWindows.append(window)
            return
        }
        dropWindows[last].end = max(dropWindows[last].end, window.end)
        dropWindows[last].droppedByKernel += window.droppedByKernel
        dropWindows[last].droppedByInterface += window.droppedByInterface
    }

    public init(index: Int, path: String, vantage: String) {
        self.index = index
        self.path = path
        self.vantage = vantage
    }

    /// Counts one packet read (the live and replay paths; the file reader keeps its own counters in locals).
    public mutating func count(time: CaptureTime, wireLength: Int, capturedLength: Int) {
        packets += 1
        bytes += wireLength
        capturedBytes += capturedLength
        if firstTime == nil { firstTime = time }
        lastTime = time
    }

    public var durationSeconds: Double {
        guard let firstTime, let lastTime else { return 0 }
        return Double(lastTime.nanoseconds - firstTime.nanoseconds) / 1e9
    }
}

/// One window of a long live capture.
public struct LiveWindow: Sendable, Hashable {
    public var index: Int
    public var start: CaptureTime
    public var end: CaptureTime
    /// Asked for with SIGUSR1 rather than at the end of a period.
    public var onDemand: Bool
    /// Objects forgotten so far because they were over before an earlier window ended.
    public var evicted: Analyzer.Evicted
    /// Requests still waiting for their answer (under 39.5 s old) when the window ended: left out of this
    /// report, decided and reported in a later one.
    public var inFlight: Int

    public init(index: Int, start: CaptureTime, end: CaptureTime, onDemand: Bool, evicted: Analyzer.Evicted, inFlight: Int = 0) {
        self.index = index
        self.start = start
        self.end = end
        self.onDemand = onDemand
        self.evicted = evicted
        self.inFlight = inFlight
    }
}

/// One vantage point: its name, its inputs and how its clock relates to the reference (the first).
public struct VantageSummary: Sendable, Hashable {
    public var name: String
    public var inputs: [Int]
    /// Milliseconds to subtract from this vantage point's times to put them on the reference clock; nil
    /// when no transaction links it to the reference.
    public var clockOffsetMilliseconds: Double?
}

/// Everything one run found: the inputs, the counts, and (when asked) every decoded message. With several
/// vantage points, each transaction, session, allocation and mapping names the vantage point it was seen at.
public struct AnalysisResult: Sendable {
    public var inputs: [InputSummary]
    public var statistics: Statistics
    public var methodCounts: [String: Int]
    public var messages: [MessageRecord]
    public var transactions: TransactionTracker
    public var iceSessions: [ICESession]
    public var turnAllocations: [TURNAllocation] = []
    public var vantages: [VantageSummary] = []
    public var vantageLinks: [VantageLink] = []
    public var natMappings: [NATMapping] = []
    public var natBehaviour: [NATBehaviour] = []
    public var mappingChanges: [MappingChange] = []
    public var discoveryExchanges: [DiscoveryExchange] = []
    public var unsolicitedRequests: [UnsolicitedRequest] = []
    public var encryptedTURN: [EncryptedConnection] = []
    /// ICMP/ICMPv6 errors quoting a UDP datagram, each tied to the transaction it answered where one is known.
    public var icmpErrors: [ICMPReport] = []
    public var findings: [Finding] = []
    public var timeline = Timeline()
    /// The analysis' own counters of what its caps dropped (NAT observations).
    public var natObservationsDropped = 0
    /// ICE checks beyond the caps (per session, and in total), counted only.
    public var iceChecksDropped = 0
    /// Decoded messages beyond `Limits.messagesKept` per vantage point (`--messages`), counted only.
    public var messagesDropped = 0
    /// A live capture's report of one window (`wedio sniff --report-every`): which, when, and what earlier
    /// windows' eviction forgot. Its lists hold what was active in the window; its counters run from the start.
    public var liveWindow: LiveWindow?
    /// The calls: each ICE session seen at every vantage point and across its restarts, as one story.
    public var calls: [ICECall] = []
    /// Each browser's own view of its ICE (a webrtc-internals dump) against the wire's call.
    public var browserComparisons: [BrowserComparison] = []
    /// Every RTP stream (SSRC, direction, flow) at every vantage point, in order of first packet.
    public var mediaStreams: [MediaStreamSummary] = []
    /// Streams beyond `Limits.rtpStreams`, counted only.
    public var mediaStreamsDropped = 0
    /// Every silence of a session's media with what happened just before it (`Diagnosis.mediaStalls`), worked
    /// out once for the findings and the timeline.
    public var mediaStalls: [MediaStallReport] = []

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

    /// The result of one finished analyzer (one vantage point).
    public init(inputs: [InputSummary], analyzer: consuming Analyzer) {
        self.init(inputs: inputs, vantages: [(name: inputs.first?.vantage ?? "capture", analyzer: analyzer)])
    }

    /// The results of several finished analyzers, one per vantage point, merged and correlated into calls
    /// (the second stage: `CallAssembly`).
    public init(inputs: [InputSummary], vantages: consuming [(name: String, analyzer: Analyzer)]) {
        self = CallAssembly.assemble(inputs: inputs, vantages: vantages)
    }

    /// True when some input could not be read at all.
    public var hasUnreadableInput: Bool { inputs.contains { $0.status == .unreadable } }
    /// True when some input was damaged part-way.
    public var hasDamagedInput: Bool { inputs.contains { $0.status == .damaged } }
}
