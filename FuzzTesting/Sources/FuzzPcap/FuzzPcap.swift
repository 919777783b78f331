import FuzzDriver
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioReport

/// The whole pipeline fed a capture file: libpcap parses the bytes through fmemopen, then everything
/// downstream runs, then every report. Invariants: no trap; an unreadable input is reported, never fatal;
/// analysing on a second thread gives the same JSON as on one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPcap(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze(bytes: bytes, name: "fuzz")
    precondition(result.inputs.count == 1)
    // Every report renders whatever the input: JSON encoding must not throw (no NaN or infinite numbers),
    // and redaction must keep the JSON parseable by construction.
    let json: String
    do {
        json = try JSONReport(toolVersion: "fuzz", includeMessages: true).render(result)
    } catch {
        preconditionFailure("JSON report failed: \(error)")
    }
    var threaded = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true))
    threaded.analysisThread = .always
    let second = try? JSONReport(toolVersion: "fuzz", includeMessages: true).render(threaded.analyze(bytes: bytes, name: "fuzz"))
    precondition(second == json, "one thread and two threads disagree")
    // Read as a live capture reads it: the same analysis (the live events only watch it), and every event
    // goes through the rate limit and a streaming redactor.
    let (events, live) = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).followLive(bytes: bytes, name: "fuzz")
    let liveJSON = try? JSONReport(toolVersion: "fuzz", includeMessages: true).render(live)
    precondition(liveJSON == json, "following live changed the analysis")
    var limiter = LiveEventLimiter()
    var streaming = Redactor()
    for line in limiter.admit(events, now: nil) + limiter.flush() {
        if case .event(let event) = line, let text = try? JSONReport.liveEventLine(event, start: nil) {
            streaming.learn(event)
            _ = streaming.redactAll(text, json: true)
        }
    }
    var redactor = Redactor(result)
    _ = redactor.redactAll(json, json: true)
    _ = redactor.redactAll(MarkdownReport(toolVersion: "fuzz").render(result), json: false)
    _ = TextReport(color: false, toolVersion: "fuzz").render(result)
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer's driver.
@_cdecl("FuzzPcap_main")
public func fuzzPcapMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzPcap(data, size) }
}
