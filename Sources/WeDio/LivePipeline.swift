import WeDioAnalysis
import WeDioBasics
import WeDioCapture
import WeDioDecode

extension Pipeline {
    /// Captures from a live interface until stopped (token, duration or count), analysing as packets arrive.
    /// The returned result holds everything seen; a capture error after start is recorded as damage.
    /// `events` receives timeline events as they happen (within a quarter second), each once, in time order
    /// per batch; events that only the end of the capture can decide (timeouts, failures, expiry) come last.
    public func sniff(
        _ options: LiveOptions, stop: CaptureStopToken, events: ((TimelineEvent, CaptureTime?) -> Void)? = nil
    ) throws(CaptureError) -> AnalysisResult {
        var effective = options
        if effective.filter == nil { effective.filter = filter }
        let capture = try LiveCapture(effective)
        var analyzer = Analyzer(options: analyzerOptions)
        var decoder = PacketDecoder()
        var log = DiagnosticLog()
        var analysisLog = DiagnosticLog()
        var summary = InputSummary(index: 0, path: options.interface, vantage: options.interface)
        summary.linkType = capture.linkType.name
        let link = capture.linkType
        var emitted: Set<String> = []
        var dirty = false
        var lastEmission = ContinuousClock.now
        /// Builds the timeline of what is known so far and hands on the events not yet reported.
        func emit(final: Bool) {
            guard let events, dirty || final else { return }
            dirty = false
            lastEmission = ContinuousClock.now
            var snapshot = analyzer
            if final { snapshot.finish() }
            let result = AnalysisResult(inputs: [summary], analyzer: snapshot)
            for event in result.timeline.events {
                if !final && LiveEvents.decidedAtEnd.contains(event.kind) { continue }
                let key = "\(event.kind.rawValue)|\(event.vantage)|\(event.time.nanoseconds)|\(event.summary)"
                guard emitted.count < Limits.timelineEvents * 4, emitted.insert(key).inserted else { continue }
                events(event, result.timeline.start)
            }
        }
        do throws(CaptureError) {
            try capture.run(stop: stop, idle: { emit(final: false) }) { record, bytes in
                summary.packets += 1
                summary.bytes += record.wireLength
                summary.capturedBytes += bytes.count
                if summary.firstTime == nil { summary.firstTime = record.time }
                summary.lastTime = record.time
                decoder.decode(
                    link: link, ref: PacketRef(input: 0, packet: record.number), time: record.time,
                    wireLength: record.wireLength, bytes: bytes, log: &log
                ) { payload, payloadBytes in
                    analyzer.handle(payload, bytes: payloadBytes, log: &analysisLog)
                }
                dirty = true
                if events != nil, ContinuousClock.now - lastEmission >= .milliseconds(250) { emit(final: false) }
            }
        } catch {
            summary.record(error, status: .damaged)
        }
        analyzer.absorb(decoder)
        log.merge(analysisLog)
        for (reason, count) in log.sortedCounts { summary.errors[reason.rawValue] = count }
        summary.errorSamples = log.samples
        emit(final: true)
        analyzer.finish()
        return AnalysisResult(inputs: [summary], analyzer: analyzer)
    }
}

/// What the live stream holds back until the capture ends.
public enum LiveEvents {
    /// Kinds that mean "nothing happened" (no answer, no success, no refresh): only the end decides them.
    public static let decidedAtEnd: Set<TimelineKind> = [.stunTimeout, .iceFailed, .turnExpired, .turnPermissionExpired, .turnChannelExpired, .consentLost]
}
