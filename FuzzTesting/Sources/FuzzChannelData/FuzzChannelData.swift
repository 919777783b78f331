import FuzzDriver
import WeDioSTUN

/// ChannelData decoding over datagrams and streams. Invariant: the data range lies inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChannelData(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    for overStream in [false, true] {
        if let channelData = try? ChannelData.decode(bytes.span, overStream: overStream) {
            precondition(channelData.data.lowerBound == 4 && channelData.data.upperBound <= bytes.count)
        }
    }
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer's driver.
@_cdecl("FuzzChannelData_main")
public func fuzzChannelDataMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzChannelData(data, size) }
}
