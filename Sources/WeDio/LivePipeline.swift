import WeDioAnalysis
import WeDioBasics
import WeDioCapture
import WeDioDecode

extension Pipeline {
    /// Captures from a live interface until stopped (token, duration or count), analysing as packets arrive.
    /// The returned result holds everything seen; a capture error after start is recorded as damage.
    public func sniff(_ options: LiveOptions, stop: CaptureStopToken) throws(CaptureError) -> AnalysisResult {
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
        do throws(CaptureError) {
            try capture.run(stop: stop) { record, bytes in
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
            }
        } catch {
            summary.status = .damaged
            summary.failure = error.description
            summary.failureCode = error.code.rawValue
        }
        analyzer.absorb(decoder)
        log.merge(analysisLog)
        for (reason, count) in log.sortedCounts { summary.errors[reason.rawValue] = count }
        summary.errorSamples = log.samples
        analyzer.finish()
        return AnalysisResult(inputs: [summary], analyzer: analyzer)
    }
}
