import Benchmark
import WeDioAnalysis
import WeDioBasics
import WeDioDecode
import WeDioReport
import WeDioSTUN

// The report of a server's capture, measured apart from reading it: 3 500 concurrent ICE sessions (the
// ice-dense shape of scripts/bench/make_capture.py, 40 answered checks each, 280 000 messages) analysed
// once in setup; then building the result (sessions, pairs, calls, findings: `AnalysisResult`) and writing
// its JSON are timed. Thresholds: `Thresholds/` holds the p90 of a run on the reference machine
// (`swift package --allow-writing-to-package-directory benchmark thresholds update`); `swift package
// benchmark thresholds check` fails when one is more than 20 % worse.

let sessionCount = 3_500
let stepsPerSession = 40

/// A STUN message with the given attributes (type, value), then FINGERPRINT.
func stunMessage(type: UInt16, transaction: [UInt8], attributes: [(UInt16, [UInt8])]) -> [UInt8] {
    var body: [UInt8] = []
    for (attributeType, value) in attributes {
        body += be16(attributeType) + be16(UInt16(value.count)) + value
        body += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }
    var message = be16(type) + be16(UInt16(body.count + 8)) + [0x21, 0x12, 0xA4, 0x42] + transaction + body
    let offset = message.count
    message += [0x80, 0x28, 0, 4, 0, 0, 0, 0]
    let crc = Fingerprint.expected(message.span, attributeOffset: offset)
    message[offset + 4] = UInt8(truncatingIfNeeded: crc >> 24)
    message[offset + 5] = UInt8(truncatingIfNeeded: crc >> 16)
    message[offset + 6] = UInt8(truncatingIfNeeded: crc >> 8)
    message[offset + 7] = UInt8(truncatingIfNeeded: crc)
    return message
}

func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

/// Ethernet / IPv4 / UDP around a payload (checksums left zero).
func frame(from source: (UInt32, UInt16), to destination: (UInt32, UInt16), payload: [UInt8]) -> [UInt8] {
    let udpLength = 8 + payload.count
    var ip: [UInt8] = [0x45, 0] + be16(UInt16(20 + udpLength)) + [0, 0, 0, 0, 64, 17, 0, 0]
    ip += be32(source.0) + be32(destination.0)
    let udp = be16(source.1) + be16(destination.1) + be16(UInt16(udpLength)) + [0, 0]
    return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00] + ip + udp + payload
}

/// The analysed capture, built once.
let analysed: (inputs: [InputSummary], analyzer: Analyzer) = {
    var decoder = PacketDecoder()
    var analyzer = Analyzer()
    var log = DiagnosticLog()
    var analysisLog = DiagnosticLog()
    var summary = InputSummary(index: 0, path: "ice-dense", vantage: "server")
    var generator = SystemRandomNumberGenerator()
    var packet = 0
    var time: Int64 = 1_700_000_000_000_000_000
    func deliver(_ bytes: [UInt8]) {
        decoder.decode(
            link: .ethernet, ref: PacketRef(input: 0, packet: packet), time: CaptureTime(nanoseconds: time),
            wireLength: bytes.count, bytes: bytes.span, log: &log
        ) { payload, span in
            analyzer.handle(payload, bytes: span, log: &analysisLog)
        }
        packet += 1
        summary.packets += 1
        summary.bytes += bytes.count
    }
    for step in 0..<(sessionCount * stepsPerSession) {
        let session = step % sessionCount
        let server = session % 200
        let client = (UInt32(0x0A14_0000) + UInt32(session / 250) << 8 + UInt32(session % 250 + 1), UInt16(40_000 + session))
        let serverAddress = (UInt32(0xC633_6400) + UInt32(1 + server % 250), UInt16(3_478 + server / 250))
        let transaction = (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var attributes: [(UInt16, [UInt8])] = [
            (0x0006, Array("srv\(String(1_000 + server).dropFirst()):c\(String(10_000 + session).dropFirst())".utf8)),
            (0x0024, be32(0x6E7F_1EFF)), (0x802A, (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }),
        ]
        if step / sessionCount % 5 == 0 { attributes.append((0x0025, [])) }
        attributes.append((0x0008, [UInt8](repeating: 0xA5, count: 20)))
        deliver(frame(from: client, to: serverAddress, payload: stunMessage(type: 0x0001, transaction: transaction, attributes: attributes)))
        time += 400_000
        let mapped: [UInt8] = [0, 1] + be16(client.1 ^ 0x2112) + be32(client.0 ^ 0x2112_A442)
        deliver(frame(
            from: serverAddress, to: client,
            payload: stunMessage(type: 0x0101, transaction: transaction, attributes: [(0x0020, mapped), (0x0008, [UInt8](repeating: 0x5A, count: 20))])))
        time += 100_000
    }
    analyzer.finish()
    return ([summary], analyzer)
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .peakMemoryResident], maxDuration: .seconds(10), maxIterations: 15,
        thresholds: [
            // Static thresholds are checked on the p90 (the tool's rule); 20 % either way is reported.
            .wallClock: BenchmarkThresholds(relative: [.p90: 20.0]),
            .peakMemoryResident: BenchmarkThresholds(relative: [.p90: 20.0]),
        ])

    // Names without spaces: the tool writes threshold files under a cleaned-up name but reads them by the raw one.
    Benchmark("ReportBuilding-3500-ICE-sessions") { benchmark in
        let (inputs, analyzer) = analysed
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(AnalysisResult(inputs: inputs, analyzer: analyzer))
        }
    }

    Benchmark("JSONWriter-3500-ICE-sessions") { benchmark in
        let result = AnalysisResult(inputs: analysed.inputs, analyzer: analysed.analyzer)
        let report = JSONReport(toolVersion: "bench", includeMessages: false)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try? report.renderBytes(result))
        }
    }
}
