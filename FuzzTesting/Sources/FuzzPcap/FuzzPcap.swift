import WeDio
import WeDioAnalysis

/// The whole pipeline fed a capture file: libpcap parses the bytes through fmemopen, then everything
/// downstream runs. Invariant: no trap; an unreadable input is reported, never fatal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPcap(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze(bytes: bytes, name: "fuzz")
    precondition(result.inputs.count == 1)
    return 0
}
