import FuzzDriver
import WeDioAnalysis
import WeDioBasics
import WeDioDecode

/// Link / IP / UDP / TCP decoding, fragment and stream reassembly, demux and analysis. The input is a
/// sequence of packets: byte 0 picks the link type; then each packet is a 2-byte length and its bytes,
/// fed to one decoder so reassembly state carries across packets. Invariant: no trap, bounded state.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPackets(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let selector = bytes.first else { return 0 }
    let links: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .ipv4, .ipv6]
    let link = links[Int(selector) % links.count]
    var decoder = PacketDecoder()
    var analyzer = Analyzer()
    var log = DiagnosticLog()
    var analysisLog = DiagnosticLog()
    var offset = 1
    var number = 0
    while offset + 2 <= bytes.count {
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        offset += 2
        let end = min(bytes.count, offset + length)
        let packet = Array(bytes[offset..<end])
        offset = end
        number += 1
        decoder.decode(
            link: link, ref: PacketRef(input: 0, packet: number), time: CaptureTime(seconds: Int64(number)),
            wireLength: length, bytes: packet.span, log: &log
        ) { payload, payloadBytes in
            analyzer.handle(payload, bytes: payloadBytes, log: &analysisLog)
        }
    }
    precondition(decoder.streams.trackedStreams <= Limits.tcpFlows)
    precondition(decoder.fragments.datagramsInFlight <= Limits.fragmentDatagramsInFlight)
    precondition(log.samples.count <= Limits.diagnosticSamplesPerInput)
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer's driver.
@_cdecl("FuzzPackets_main")
public func fuzzPacketsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzPackets(data, size) }
}
