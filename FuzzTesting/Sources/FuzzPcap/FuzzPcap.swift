import FuzzDriver
import WeDio
import WeDioAnalysis

/// The whole pipeline fed a capture file: libpcap parses the bytes through fmemopen, then everything
/// downstream runs. Invariant: no trap; an unreadable input is reported, never fatal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPcap(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze(bytes: bytes, name: "fuzz")
    precondition(result.inputs.count == 1)
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer's driver.
@_cdecl("FuzzPcap_main")
public func fuzzPcapMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzPcap(data, size) }
}
