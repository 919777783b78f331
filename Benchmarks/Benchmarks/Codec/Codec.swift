import Benchmark
import WeDioAnalysis
import WeDioBasics
import WeDioCrypto
import WeDioDecode
import WeDioSTUN

/// RFC 5769 §2.1: a Binding request with six attributes (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
/// MESSAGE-INTEGRITY, FINGERPRINT).
let bindingRequest: [UInt8] = hex(
    "00010058" + "2112a442" + "b7e7a701bc34d686fa87dfae" + "80220010" + "5354554e20746573" + "7420636c69656e74"
        + "00240004" + "6e0001ff" + "80290008" + "932ff9b151263b36" + "00060009" + "6576746a3a68367659202020"
        + "00080014" + "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2" + "80280004" + "e57a3bcf")

/// Ethernet / IPv4 / UDP / RTP (version 2, payload type 111, 160 bytes of payload).
let rtpFrame: [UInt8] = {
    var frame: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]
    let rtp: [UInt8] = [0x80, 111, 0, 1, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78] + Array(repeating: 0x55, count: 160)
    let udpLength = 8 + rtp.count
    let ip: [UInt8] = [0x45, 0, UInt8((20 + udpLength) >> 8), UInt8((20 + udpLength) & 0xFF), 0, 1, 0x40, 0, 64, 17, 0, 0,
        10, 0, 0, 1, 10, 0, 0, 2]
    let udp: [UInt8] = [0xC3, 0x50, 0x13, 0x88, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
    frame += ip + udp + rtp
    return frame
}()

func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex, let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) {
        if let byte = UInt8(text[index..<next], radix: 16) { out.append(byte) }
        index = next
    }
    return out
}

let benchmarks: @Sendable () -> Void = {
    // 1000 iterations per sample: the harness's own per-sample cost and allocations are amortised away.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], scalingFactor: .kilo, maxDuration: .seconds(2))

    Benchmark("Baseline: empty loop") { benchmark in
        for index in benchmark.scaledIterations { blackHole(index) }
    }

    Benchmark("STUN decode: Binding request, 6 attributes (RFC 5769 §2.1)") { benchmark in
        let bytes = bindingRequest
        for _ in benchmark.scaledIterations {
            blackHole(try? STUNMessage.decode(bytes.span))
        }
    }

    // RFC 5769 §2.1's password: the MAC of every message of a capture is checked with a key prepared once.
    Benchmark("MESSAGE-INTEGRITY check: Binding request (HMAC-SHA1, prepared key)") { benchmark in
        let bytes = bindingRequest
        let key = STUNKey.shortTerm(password: "VOkJxbRl1RmTxUk/WvJxBt")
        guard let message = try? STUNMessage.decode(bytes.span) else { return }
        for _ in benchmark.scaledIterations {
            blackHole(Integrity.verify(message, bytes: bytes.span, key: key))
        }
    }

    Benchmark("HMAC-SHA1 one-shot (OpenSSL 3 HMAC(), as before keys were prepared)") { benchmark in
        let key = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)
        let data = Array(bindingRequest.prefix(76))
        for _ in benchmark.scaledIterations {
            blackHole(Digests.hmacSHA1(key: key, data: data))
        }
    }

    Benchmark("FINGERPRINT check: Binding request") { benchmark in
        let bytes = bindingRequest
        guard let message = try? STUNMessage.decode(bytes.span) else { return }
        for _ in benchmark.scaledIterations {
            blackHole(Fingerprint.verify(message, bytes: bytes.span))
        }
    }

    Benchmark("Decode + classify: Ethernet/IPv4/UDP/RTP packet") { benchmark in
        var decoder = PacketDecoder()
        var log = DiagnosticLog()
        let frame = rtpFrame
        var kinds = 0
        for index in benchmark.scaledIterations {
            decoder.decode(
                link: .ethernet, ref: PacketRef(input: 0, packet: index), time: CaptureTime(nanoseconds: Int64(index)),
                wireLength: frame.count, bytes: frame.span, log: &log
            ) { payload, _ in
                kinds &+= payload.kind == .rtp ? 1 : 0
            }
        }
        blackHole(kinds)
    }

    Benchmark("Decode + classify + analyse: STUN Binding request packet") { benchmark in
        var decoder = PacketDecoder()
        var analyzer = Analyzer()
        var log = DiagnosticLog()
        var analysisLog = DiagnosticLog()
        var frame = rtpFrame.prefix(42) + bindingRequest
        frame[17] = UInt8((20 + 8 + bindingRequest.count) & 0xFF)
        frame[16] = UInt8((20 + 8 + bindingRequest.count) >> 8)
        frame[39] = UInt8((8 + bindingRequest.count) & 0xFF)
        frame[38] = UInt8((8 + bindingRequest.count) >> 8)
        let packet = Array(frame)
        for index in benchmark.scaledIterations {
            decoder.decode(
                link: .ethernet, ref: PacketRef(input: 0, packet: index), time: CaptureTime(nanoseconds: Int64(index)),
                wireLength: packet.count, bytes: packet.span, log: &log
            ) { payload, bytes in
                analyzer.handle(payload, bytes: bytes, log: &analysisLog)
            }
        }
        blackHole(analyzer.statistics.stunMessages)
    }

    Benchmark("Decode + classify + analyse: RTP packet") { benchmark in
        var decoder = PacketDecoder()
        var analyzer = Analyzer()
        var log = DiagnosticLog()
        var analysisLog = DiagnosticLog()
        let frame = rtpFrame
        for index in benchmark.scaledIterations {
            decoder.decode(
                link: .ethernet, ref: PacketRef(input: 0, packet: index), time: CaptureTime(nanoseconds: Int64(index)),
                wireLength: frame.count, bytes: frame.span, log: &log
            ) { payload, bytes in
                analyzer.handle(payload, bytes: bytes, log: &analysisLog)
            }
        }
        blackHole(analyzer.statistics.rtpPackets)
    }
}
