import WeDioSTUN

/// ChannelData decoding over datagrams and streams. Invariant: the data range lies inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChannelData(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    for overStream in [false, true] {
        if let channelData = try? ChannelData.decode(bytes.span, overStream: overStream) {
            precondition(channelData.data.lowerBound == 4 && channelData.data.upperBound <= bytes.count)
        }
    }
    return 0
}
