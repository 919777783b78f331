import Dispatch
import Synchronization
import WeDioAnalysis
import WeDioBasics
import WeDioCapture
import WeDioDecode

/// What a live capture tells while it runs, in order, on the analysing thread.
public enum LiveOutput: Sendable {
    /// A timeline event as it happened (within about a quarter second).
    case event(TimelineEvent, start: CaptureTime?)
    /// Events of one kind held back by the rate limit, counted.
    case suppressed(LiveEventLimiter.Suppressed)
    /// The kernel's counters, about every `LivePipelineOptions.statsEvery` seconds and whenever drops grow.
    case stats(LiveStats)
}

/// One reading of a live input's counters for the stream.
public struct LiveStats: Sendable, Hashable {
    public var time: CaptureTime
    public var interface: String
    /// Packets wedio has taken from the kernel so far.
    public var packets: Int
    public var counters: CaptureCounters
    public var eventsSuppressed: Int
}

/// Live-only settings of the pipeline.
public struct LiveSettings: Sendable {
    /// Seconds between two `stats` lines when nothing was dropped.
    public var statsEvery: Double = 10
    /// The rate limit of each event kind (see `LiveEventLimiter`).
    public var eventBurst = 100
    public var eventsPerSecond = 20
    /// Seconds between two window reports (`--report-every`); nil: one report at the end.
    public var reportEvery: Double?
    /// With window reports: what has no end of its own (an ICE session, a NAT mapping, a media flow) is over
    /// once idle this long, and is forgotten after the window that saw it last.
    public var idleSeconds: Double = 60
    /// Set (by SIGUSR1) to have a report of the window so far written now.
    public var reportNow: ReportTrigger?
    /// Receives each window's report on the analysing thread (`reportEvery` or `reportNow`).
    public var windowReport: (@Sendable (AnalysisResult) -> Void)?

    public init() {}
}

/// Asks a running live capture for a report of the window so far; safe to set from a signal handler's queue.
public final class ReportTrigger: Sendable {
    private let asked = Atomic<Bool>(false)

    public init() {}

    public func fire() { asked.store(true, ordering: .releasing) }

    func take() -> Bool { asked.exchange(false, ordering: .acquiringAndReleasing) }
}

extension Pipeline {
    /// Captures from a live interface until stopped (token, duration or count), analysing as packets arrive.
    /// The capturing thread only takes packets from the kernel and copies them into batches; decoding and
    /// analysis run on a second thread fed through a bounded queue. When that thread falls behind, the
    /// capturing thread waits and packets wait in the kernel buffer; if that fills, the kernel drops them and
    /// its counters (read about once a second) say how many and when: those are in the result
    /// (`InputSummary.liveCounters`, `dropWindows`) and in `output` as they happen.
    public func sniff(
        _ options: LiveOptions, stop: CaptureStopToken, settings: LiveSettings = LiveSettings(),
        output: (@Sendable (LiveOutput) -> Void)? = nil
    ) throws(CaptureError) -> AnalysisResult {
        var effective = options
        if effective.filter == nil { effective.filter = filter }
        let capture = try LiveCapture(effective)
        let queue = Handoff<LivePacketBatch>(depth: LivePacketBatch.queueDepth)
        let analysis = LiveAnalysis(
            interface: options.interface, linkType: capture.linkType, options: analyzerOptions, settings: settings,
            output: output)
        analysis.start(queue)
        var batch = queue.emptyBatch().batch
        var lastSent = LiveCapture.monotonicSeconds()
        /// Hands the batch on when it is full, old, or the capture is idle (so events are not late).
        func send(force: Bool) {
            let now = LiveCapture.monotonicSeconds()
            guard batch.isFull || (force && (!batch.records.isEmpty || !batch.counters.isEmpty || now - lastSent >= 0.25))
                || (!batch.records.isEmpty && now - lastSent >= 0.1)
            else { return }
            batch.sentAt = LiveCapture.wallClock()
            queue.send(batch)
            batch = queue.emptyBatch().batch
            lastSent = now
        }
        var failure: CaptureError?
        do throws(CaptureError) {
            try capture.run(
                stop: stop, idle: { send(force: true) },
                counters: { counters, time in
                    batch.counters.append(LiveCounterReading(counters: counters, time: time))
                    send(force: true)
                }
            ) { record, bytes in
                batch.append(record, bytes)
                if batch.isFull || batch.records.count & 255 == 0 { send(force: false) }
            }
        } catch {
            failure = error
        }
        batch.isLast = true
        batch.sentAt = LiveCapture.wallClock()
        queue.send(batch)
        analysis.done.wait()
        return analysis.result(failure: failure)
    }
}

/// One reading of the kernel counters, and when it was taken (wall clock, the packets' clock).
struct LiveCounterReading: Sendable {
    var counters: CaptureCounters
    var time: CaptureTime
}

/// Packets copied out of libpcap's ring on the capturing thread, on their way to the analysing thread.
struct LivePacketBatch: HandoffBatch {
    static let packetsPerBatch = 4_096
    static let bytesPerBatch = 1_024 * 1_024
    /// Batches in circulation: up to 64 MiB of packets waiting in user space, beyond the kernel buffer.
    static let queueDepth = 64

    var records: [CaptureRecord] = []
    var ends: [Int] = []
    var bytes: [UInt8] = []
    var counters: [LiveCounterReading] = []
    var sentAt = CaptureTime(nanoseconds: 0)
    var isLast = false

    init() {
        records.reserveCapacity(Self.packetsPerBatch)
        ends.reserveCapacity(Self.packetsPerBatch)
        bytes.reserveCapacity(Self.bytesPerBatch + 65_536)
    }

    var isFull: Bool { records.count >= Self.packetsPerBatch || bytes.count >= Self.bytesPerBatch }

    mutating func append(_ record: CaptureRecord, _ source: borrowing Span<UInt8>) {
        source.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
        records.append(record)
        ends.append(bytes.count)
    }

    mutating func reset() {
        records.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        counters.removeAll(keepingCapacity: true)
        isLast = false
    }
}

/// The analysing thread of a live capture: decodes, analyses, derives events, follows the drop counters.
final class LiveAnalysis: @unchecked Sendable {
    // Written by the analysing thread only, read by the capturing thread after `done`.
    private var analyzer: Analyzer
    private var summary: InputSummary
    private var log = DiagnosticLog()
    private var decoder = PacketDecoder()
    let done = DispatchGroup()

    private let linkType: LinkType
    private let settings: LiveSettings
    private let output: (@Sendable (LiveOutput) -> Void)?
    private var limiter: LiveEventLimiter
    private var lastCounters = CaptureCounters()
    private var lastCountersTime: CaptureTime?
    private var lastStatsLine: CaptureTime?
    private var start: CaptureTime?
    private var windowStart: CaptureTime?
    private var windowIndex = 1

    init(
        interface: String, linkType: LinkType, options: Analyzer.Options, settings: LiveSettings,
        output: (@Sendable (LiveOutput) -> Void)?
    ) {
        analyzer = Analyzer(options: options)
        if output != nil { analyzer.followLive(vantage: interface) }
        summary = InputSummary(index: 0, path: interface, vantage: interface)
        summary.linkType = linkType.name
        summary.liveCounters = CaptureCounters()
        self.linkType = linkType
        self.settings = settings
        self.output = output
        limiter = LiveEventLimiter(burst: settings.eventBurst, perSecond: settings.eventsPerSecond)
    }

    func start(_ queue: Handoff<LivePacketBatch>) {
        done.enter()
        // A thread of its own for the whole capture (it blocks on the queue between batches).
        DispatchQueue(label: "wedio.live-analysis", qos: .userInitiated).async { [self] in
            var analysisLog = DiagnosticLog()
            while true {
                let batch = queue.receive()
                handle(batch, log: &analysisLog)
                let last = batch.isLast
                queue.recycle(batch)
                if last { break }
            }
            log.merge(analysisLog)
            done.leave()
        }
    }

    private func handle(_ batch: LivePacketBatch, log analysisLog: inout DiagnosticLog) {
        batch.bytes.withUnsafeBufferPointer { buffer in
            var begin = 0
            for index in batch.records.indices {
                let record = batch.records[index]
                let end = batch.ends[index]
                let bytes = UnsafeBufferPointer(rebasing: buffer[begin..<end])
                begin = end
                summary.count(time: record.time, wireLength: record.wireLength, capturedLength: bytes.count)
                decoder.decode(
                    link: linkType, ref: PacketRef(input: 0, packet: record.number), time: record.time,
                    wireLength: record.wireLength, bytes: bytes.span, log: &log
                ) { payload, payloadBytes in
                    analyzer.handle(payload, bytes: payloadBytes, log: &analysisLog)
                }
            }
        }
        for reading in batch.counters { note(reading) }
        if start == nil { start = summary.firstTime }
        if let output { stream(batch, output) }
        if !batch.isLast { windows(now: batch.sentAt) }
    }

    /// Window reports: one per `reportEvery` (then what was over is forgotten), or one now when asked.
    private func windows(now: CaptureTime) {
        guard let windowReport = settings.windowReport else { return }
        let begin = windowStart ?? now
        if windowStart == nil { windowStart = now }
        let due = settings.reportEvery.map { Double(now.nanoseconds - begin.nanoseconds) / 1e9 >= $0 } ?? false
        // A request that comes as a window ends is kept for the next batch, so that it still gets a report of
        // its own (taken here, the periodic report answered it and no "-now" report was written).
        let asked = !due && (settings.reportNow?.take() ?? false)
        guard due || asked else { return }
        var snapshot = analyzer
        snapshot.absorb(decoder)
        let inFlight = snapshot.finishWindow(at: now)
        var result = AnalysisResult(inputs: [snapshotSummary()], analyzer: snapshot)
        result.liveWindow = LiveWindow(
            index: windowIndex, start: begin, end: now, onDemand: !due, evicted: analyzer.evicted, inFlight: inFlight)
        windowReport(result)
        guard due else { return }
        analyzer.evict(
            before: now, idleBefore: CaptureTime(nanoseconds: now.nanoseconds - Int64(settings.idleSeconds * 1e9)))
        windowStart = now
        windowIndex += 1
    }

    /// The input as known so far (the decoder's and the log's counts included).
    private func snapshotSummary() -> InputSummary {
        var copy = summary
        for (reason, count) in log.sortedCounts { copy.errors[reason.rawValue] = count }
        copy.errorSamples = log.samples
        return copy
    }

    private func stream(_ batch: LivePacketBatch, _ output: @Sendable (LiveOutput) -> Void) {
        // Requests run out of time on the wall clock too: a quiet capture still reports them.
        let now = batch.isLast ? nil : batch.sentAt
        var events = analyzer.drainLiveEvents(now: now)
        if batch.isLast { events += analyzer.finishLiveEvents() }
        for line in limiter.admit(events, now: now) { write(line, output) }
        if batch.isLast { for line in limiter.flush() { write(line, output) } }
    }

    private func write(_ line: LiveEventLimiter.Line, _ output: @Sendable (LiveOutput) -> Void) {
        switch line {
        case .event(let event): output(.event(event, start: start))
        case .suppressed(let suppressed): output(.suppressed(suppressed))
        }
    }

    /// A reading of the kernel counters: drops since the last one make a drop window.
    private func note(_ reading: LiveCounterReading) {
        let counters = reading.counters
        let kernel = counters.droppedByKernel - lastCounters.droppedByKernel
        let interface = counters.droppedByInterface - lastCounters.droppedByInterface
        if kernel > 0 || interface > 0 {
            let from = lastCountersTime ?? summary.firstTime ?? reading.time
            summary.addDropWindow(
                CaptureDropWindow(start: from, end: reading.time, droppedByKernel: max(0, kernel), droppedByInterface: max(0, interface)))
        }
        lastCounters = counters
        lastCountersTime = reading.time
        summary.liveCounters = counters
        guard let output else { return }
        let due = lastStatsLine.map { Double(reading.time.nanoseconds - $0.nanoseconds) / 1e9 >= settings.statsEvery } ?? true
        if kernel > 0 || interface > 0 || due {
            lastStatsLine = reading.time
            output(
                .stats(
                    LiveStats(
                        time: reading.time, interface: summary.path, packets: summary.packets, counters: counters,
                        eventsSuppressed: limiter.suppressedTotal)))
        }
    }

    /// The whole result, once `done`.
    func result(failure: CaptureError?) -> AnalysisResult {
        if let failure { summary.record(failure, status: .damaged) }
        analyzer.absorb(decoder)
        for (reason, count) in log.sortedCounts { summary.errors[reason.rawValue] = count }
        summary.errorSamples = log.samples
        analyzer.finish()
        var result = AnalysisResult(inputs: [summary], analyzer: analyzer)
        if settings.reportEvery != nil, let begin = windowStart {
            result.liveWindow = LiveWindow(
                index: windowIndex, start: begin, end: summary.lastTime.map { max($0, begin) } ?? begin, onDemand: false,
                evicted: analyzer.evicted)
        }
        // What only the end decides goes to the stream from the finished report.
        if let output {
            for event in result.timeline.events where LiveEvents.fromFinalReport.contains(event.kind) {
                output(.event(event, start: result.timeline.start))
            }
        }
        return result
    }
}

extension Pipeline {
    /// Reads a capture held in memory as a live capture would analyse it, and returns the events the live
    /// stream would carry (before its rate limit) beside the result: the same derivation, testable without
    /// an interface. `unfinished` sees the analyzer after the last packet, before the end closes what is open.
    public func followLive(
        bytes: [UInt8], name: String = "<memory>", unfinished: ((Analyzer) -> Void)? = nil
    ) -> (events: [TimelineEvent], result: AnalysisResult) {
        var events: [TimelineEvent] = []
        let capture = Result { () throws(CaptureError) in try OfflineCapture(bytes: bytes, name: name) }
        let result = followLive(capture, name: name, unfinished: unfinished) { batch, _ in events += batch }
        return (events, result)
    }

    /// Reads a capture file as a live capture would analyse it (`wedio analyze --format ndjson`): `events`
    /// receives the live stream's events as they are derived, with the first packet's time; the result is
    /// the same as `analyze`'s for one input.
    public func followLive(_ input: InputSpec, events: ([TimelineEvent], CaptureTime?) -> Void) -> AnalysisResult {
        let capture = Result { () throws(CaptureError) in try OfflineCapture(path: input.path, filter: filter, mapped: mapsFiles) }
        return followLive(capture, name: input.path, vantage: input.vantage, unfinished: nil, events: events)
    }

    private func followLive(
        _ opened: Result<OfflineCapture, CaptureError>, name: String, vantage: String? = nil,
        unfinished: ((Analyzer) -> Void)?, events: ([TimelineEvent], CaptureTime?) -> Void
    ) -> AnalysisResult {
        let vantage = vantage ?? name
        var analyzer = Analyzer(options: analyzerOptions)
        analyzer.followLive(vantage: vantage)
        var decoder = PacketDecoder()
        var log = DiagnosticLog()
        var analysisLog = DiagnosticLog()
        var summary = InputSummary(index: 0, path: name, vantage: vantage)
        var reader: OfflineCapture?
        do throws(CaptureError) {
            let capture = try opened.get()
            reader = capture
            summary.linkType = capture.linkType.name
            try capture.forEach { record, packet in
                summary.count(time: record.time, wireLength: record.wireLength, capturedLength: packet.count)
                decoder.decode(
                    link: record.linkType ?? capture.linkType, ref: PacketRef(input: 0, packet: record.number), time: record.time,
                    wireLength: record.wireLength, bytes: packet, log: &log
                ) { payload, payloadBytes in
                    analyzer.handle(payload, bytes: payloadBytes, log: &analysisLog)
                }
                let fresh = analyzer.drainLiveEvents(now: record.time)
                if !fresh.isEmpty { events(fresh, summary.firstTime) }
            }
        } catch {
            summary.record(error, status: summary.packets == 0 ? .unreadable : .damaged)
        }
        if let reader { summary.describeInterfaces(of: reader, only: reader.interface) }
        analyzer.absorb(decoder)
        log.merge(analysisLog)
        for (reason, count) in log.sortedCounts { summary.errors[reason.rawValue] = count }
        summary.errorSamples = log.samples
        unfinished?(analyzer)
        let last = analyzer.finishLiveEvents()
        if !last.isEmpty { events(last, summary.firstTime) }
        analyzer.finish()
        let result = AnalysisResult(inputs: [summary], analyzer: analyzer)
        // What only the end decides comes from the finished report, as in a live capture.
        let decided = result.timeline.events.filter { LiveEvents.fromFinalReport.contains($0.kind) }
        if !decided.isEmpty { events(decided, result.timeline.start) }
        return result
    }
}
