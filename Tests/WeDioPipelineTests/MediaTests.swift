import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioReport
import WeDioSTUN
import WeDioTestSupport

extension SyntheticCapture {
    /// An RTP packet (version 2) with `size` bytes of payload.
    mutating func rtp(
        from: String, to: String, at seconds: Double, ssrc: UInt32, sequence: UInt16, timestamp: UInt32, payloadType: UInt8 = 0,
        marker: Bool = false, size: Int = 160
    ) {
        guard let source = TransportAddress(from), let destination = TransportAddress(to) else { return }
        var header: [UInt8] = [0x80, payloadType | (marker ? 0x80 : 0)]
        header.appendBigEndian(sequence)
        header.appendBigEndian(timestamp)
        header.appendBigEndian(ssrc)
        addFrame(PacketBuilder.udpFrame(from: source, to: destination, payload: header + [UInt8](repeating: 0xD5, count: size)), at: seconds)
    }

    /// An RTCP receiver report (in clear) from `ssrc`.
    mutating func rtcp(from: String, to: String, at seconds: Double, ssrc: UInt32) {
        guard let source = TransportAddress(from), let destination = TransportAddress(to) else { return }
        var packet: [UInt8] = [0x80, 201, 0, 1]
        packet.appendBigEndian(ssrc)
        addFrame(PacketBuilder.udpFrame(from: source, to: destination, payload: packet), at: seconds)
    }

    /// A nominated, answered check from `a` to `b` (ufrags `aa`/`bb`), and consent checks every second from
    /// `consentFrom` to `consentUntil`, answered unless `unanswered` says otherwise; `mapped(t)` is the
    /// address B's answer reflects at time t (a change is a NAT rebinding).
    mutating func connect(
        _ a: String, _ b: String, at start: Double, consentUntil: Double, unanswered: (Double) -> Bool = { _ in false },
        mapped: (Double) -> String? = { _ in nil }
    ) {
        answeredBinding(from: a, to: b, mapped: mapped(start) ?? a, at: start, after: 0.002, Self.check(local: "aa", remote: "bb", nominate: true))
        var time = start + 1
        while time < consentUntil {
            if unanswered(time) {
                add(.binding, .request, id: newID(), from: a, to: b, at: time, Self.check(local: "aa", remote: "bb"))
            } else {
                answeredBinding(from: a, to: b, mapped: mapped(time) ?? a, at: time, after: 0.002, Self.check(local: "aa", remote: "bb"))
            }
            time += 1
        }
    }

    func write(_ name: String) throws -> String {
        let path = Scratch.path("media-\(name).pcap")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// tshark's `-z rtp,streams` on a file: per (source, destination, SSRC) its packets, lost and max jitter (ms).
enum TsharkRTP {
    struct Stream: Hashable {
        var source, destination, ssrc: String
        var packets, lost: Int
        var maxJitter, meanJitter: Double
    }

    static func streams(_ path: String) throws -> [Stream] {
        let output = try ProcessRunner.run(Tshark.path, ["-n", "-r", path, "-o", "rtp.heuristic_rtp:TRUE", "-q", "-z", "rtp,streams"])
        var streams: [Stream] = []
        for line in output.stdout.split(separator: "\n") {
            let tokens = line.split(separator: " ").map(String.init)
            guard tokens.count > 12, tokens[6].hasPrefix("0x"), let percent = tokens.firstIndex(where: { $0.hasPrefix("(") && $0.hasSuffix("%)") }),
                percent >= 9, percent + 6 < tokens.count, let packets = Int(tokens[percent - 2]), let lost = Int(tokens[percent - 1]),
                let mean = Double(tokens[percent + 5]), let max = Double(tokens[percent + 6])
            else { continue }
            streams.append(
                Stream(
                    source: "\(tokens[2]):\(tokens[3])", destination: "\(tokens[4]):\(tokens[5])", ssrc: tokens[6].lowercased(),
                    packets: packets, lost: lost, maxJitter: max, meanJitter: mean))
        }
        return streams
    }
}

@Suite("Media after connect: RTP streams, stalls, one-way media, pair switches")
struct MediaTests {
    static let a = "10.0.0.1:5000"
    static let b = "10.0.0.2:6000"

    static func analyze(_ capture: SyntheticCapture, _ name: String) throws -> AnalysisResult {
        Pipeline().analyze([InputSpec(path: try capture.write(name))])
    }

    /// The RFC 3550 §6.4.1 estimator written out plainly, the test's own oracle.
    static func jitter(arrivals: [Double], timestamps: [UInt32], rate: Double) -> (last: Double, max: Double) {
        var jitter = 0.0
        var maxJitter = 0.0
        for index in 1..<arrivals.count {
            let d = (arrivals[index] - arrivals[index - 1]) * rate - Double(Int64(timestamps[index]) - Int64(timestamps[index - 1]))
            jitter += (abs(d) - jitter) / 16
            maxJitter = max(maxJitter, jitter)
        }
        return (jitter * 1_000 / rate, maxJitter * 1_000 / rate)
    }

    @Test("One PCMU stream: loss, duplicates, reordering, marker bits and jitter exactly as RFC 3550 counts them")
    func streamCounters() throws {
        var capture = SyntheticCapture()
        capture.connect(Self.a, Self.b, at: 0, consentUntil: 11)
        var arrivals: [Double] = []
        var timestamps: [UInt32] = []
        // 500 packets from sequence 65 300 (wrapping past 65 535), 20 ms apart with a delay pattern of 0-8 ms;
        // 3 lost (never sent), 1 sent twice, 2 swapped.
        var order = Array(0..<500).filter { ![100, 101, 300].contains($0) }
        order.insert(200, at: order.firstIndex(of: 201) ?? 0)
        if let swap = order.firstIndex(of: 400) { order.swapAt(swap, swap + 1) }
        for (position, index) in order.enumerated() {
            let arrival = 0.5 + Double(position) * 0.02 + Double(position % 5) * 0.002
            let sequence = UInt16(truncatingIfNeeded: 65_300 + index)
            let timestamp = UInt32(1_000 + index * 160)
            capture.rtp(from: Self.a, to: Self.b, at: arrival, ssrc: 0x1234_5678, sequence: sequence, timestamp: timestamp, marker: index == 0)
            arrivals.append(arrival)
            timestamps.append(timestamp)
        }
        let result = try Self.analyze(capture, "counters")
        let summary = try #require(result.mediaStreams.first)
        let stream = summary.stream
        #expect(result.mediaStreams.count == 1)
        #expect(stream.ssrc == 0x1234_5678 && stream.flow.source.description == Self.a)
        #expect(stream.packets == 498 && stream.duplicates == 1 && stream.reordered == 1)
        #expect(stream.expected == 500 && stream.lost == 2)  // 3 missing, one duplicate counted as received (RFC 3550 A.3)
        #expect(stream.markers == 1)
        #expect(stream.codec == "PCMU/8000" && stream.clockRate == 8_000 && stream.clockSource == .staticPayloadType)
        #expect(summary.session == "ice-1")
        // Every packet in order of arrival, the late one included, the duplicate not (RFC 3550 §6.4.1).
        let inOrder = order.indices.filter { $0 != order.firstIndex(of: 201).map { $0 - 1 } }
        let expected = Self.jitter(arrivals: inOrder.map { arrivals[$0] }, timestamps: inOrder.map { timestamps[$0] }, rate: 8_000)
        #expect(abs((stream.jitterMilliseconds ?? -1) - expected.last) < 0.001)
        #expect(abs((stream.maxJitterMilliseconds ?? -1) - expected.max) < 0.001)
    }

    @Test("tshark's RTP analysis agrees: SSRC, packets, lost and maximum jitter of a synthetic PCMU call", .enabled(if: Tshark.isInstalled))
    func tsharkAgreesOnSynthetic() throws {
        var capture = SyntheticCapture()
        capture.connect(Self.a, Self.b, at: 0, consentUntil: 8)
        for index in 0..<300 where index % 50 != 7 {
            let jitter = Double((index * 7) % 11) * 0.0007
            capture.rtp(from: Self.a, to: Self.b, at: 0.5 + Double(index) * 0.02 + jitter, ssrc: 0xAAAA_0001, sequence: UInt16(index), timestamp: UInt32(index * 160))
            capture.rtp(from: Self.b, to: Self.a, at: 0.51 + Double(index) * 0.02, ssrc: 0xBBBB_0002, sequence: UInt16(1_000 + index), timestamp: UInt32(index * 160), payloadType: 8)
        }
        let path = try capture.write("tshark")
        let theirs = try TsharkRTP.streams(path)
        let ours = Pipeline().analyze([InputSpec(path: path)]).mediaStreams
        #expect(theirs.count == 2 && ours.count == 2)
        for stream in theirs {
            let match = try #require(
                ours.first { JSONReport.hex32($0.stream.ssrc) == stream.ssrc && $0.stream.flow.source.description == stream.source })
            #expect(match.stream.flow.destination.description == stream.destination)
            #expect(match.stream.packets == stream.packets && match.stream.lost == stream.lost, "\(stream)")
            #expect(abs((match.stream.maxJitterMilliseconds ?? -1) - stream.maxJitter) < 0.01, "\(stream)")
        }
    }

    static let labCaptures = ["ice/aiortc-call/a-inside.pcap", "ice/aiortc-call/a-outside.pcap", "browser/chromium-eim/a-lan.pcap",
        "browser/chromium-symmetric/a-lan.pcap", "browser/chromium-firefox/a-lan.pcap"]

    @Test("tshark's RTP analysis agrees on the lab's real calls: every stream it finds between the peers, with its packets and loss", .enabled(if: Tshark.isInstalled), arguments: labCaptures)
    func tsharkAgreesOnLabCalls(relative: String) throws {
        let path = Fixtures.path(relative)
        let ours = Pipeline().analyze([InputSpec(path: path)]).mediaStreams
        let theirs = try TsharkRTP.streams(path)
        #expect(!theirs.isEmpty)
        var compared = 0
        for stream in theirs {
            // tshark shows media relayed through TURN on the client ↔ server flow; WeDio on the relayed address ↔
            // peer flow (what the peer sees), so those are compared by SSRC and count only.
            let direct = ours.first {
                JSONReport.hex32($0.stream.ssrc) == stream.ssrc && $0.stream.flow.source.description == stream.source
                    && $0.stream.flow.destination.description == stream.destination
            }
            if let direct {
                #expect(direct.stream.packets == stream.packets && direct.stream.lost == stream.lost, "\(relative): \(stream)")
                compared += 1
            } else {
                let relayed = ours.filter { JSONReport.hex32($0.stream.ssrc) == stream.ssrc && $0.stream.throughTURN }
                #expect(relayed.contains { $0.stream.packets == stream.packets }, "\(relative): \(stream) not found")
            }
        }
        #expect(compared > 0)
    }

    @Test("A direction that stops for 5 s while consent checks go unanswered and the NAT rebinds: media-stall naming both")
    func stallWithCauses() throws {
        var capture = SyntheticCapture()
        capture.connect(
            Self.a, Self.b, at: 0, consentUntil: 12, unanswered: { $0 >= 4 && $0 < 8 },
            mapped: { $0 < 3 ? "198.51.100.9:6000" : "198.51.100.9:7000" })
        for index in 0..<550 {
            let time = 0.5 + Double(index) * 0.02
            capture.rtp(from: Self.a, to: Self.b, at: time, ssrc: 1, sequence: UInt16(index), timestamp: UInt32(index * 160))
            if time < 4.2 || time >= 9.2 {
                capture.rtp(from: Self.b, to: Self.a, at: time + 0.005, ssrc: 2, sequence: UInt16(index), timestamp: UInt32(index * 160))
            }
        }
        let result = try Self.analyze(capture, "stall")
        let stalls = result.findings.filter { $0.code == .mediaStall }
        let stall = try #require(stalls.first)
        #expect(stalls.count == 1 && stall.severity == .warning)
        #expect(stall.message.contains("no media remote → local (10.0.0.2:6000 → 198.51.100.9:6000) for 5.0"))
        #expect(stall.message.contains("while the other direction kept flowing"))
        #expect(stall.message.contains("consent checks on the pair went unanswered"))
        #expect(stall.message.contains("the NAT moved 10.0.0.1:5000 from 198.51.100.9:6000 to 198.51.100.9:7000"))
        let reports = Diagnosis.mediaStalls(result)
        #expect(reports.count == 1 && reports.first?.causeKinds == [.consentUnanswered, .natRebinding])
        // The stream of the silent direction has the same silence; the timeline has the stall and its end.
        let silent = try #require(result.mediaStreams.first { $0.stream.ssrc == 2 })
        #expect(silent.stream.gaps.count == 1 && abs((silent.stream.gaps.first?.milliseconds ?? 0) - 5_020) < 1)
        #expect(result.timeline.events.contains { $0.kind == .mediaStall } && result.timeline.events.contains { $0.kind == .mediaResumed })
    }

    @Test("A direction that stops for good while the other goes on: an error stall to the end, with nothing on the wire to blame")
    func stallToTheEnd() throws {
        var capture = SyntheticCapture()
        capture.connect(Self.a, Self.b, at: 0, consentUntil: 10)
        for index in 0..<450 {
            let time = 0.5 + Double(index) * 0.02
            capture.rtp(from: Self.a, to: Self.b, at: time, ssrc: 1, sequence: UInt16(index), timestamp: UInt32(index * 160))
            if time < 3 { capture.rtp(from: Self.b, to: Self.a, at: time + 0.005, ssrc: 2, sequence: UInt16(index), timestamp: UInt32(index * 160)) }
        }
        let result = try Self.analyze(capture, "stall-end")
        let stall = try #require(result.findings.first { $0.code == .mediaStall })
        #expect(stall.severity == .error)
        #expect(stall.message.contains("no media remote → local (10.0.0.2:6000 → 10.0.0.1:5000) from") && stall.message.contains("never came back"))
        #expect(stall.message.contains("Nothing on the wire here explains it."))
    }

    @Test("RTP one way only, RTCP the other: one-way-media saying the silent side is there but sends no media")
    func oneWay() throws {
        var capture = SyntheticCapture()
        capture.connect(Self.a, Self.b, at: 0, consentUntil: 10)
        for index in 0..<400 {
            capture.rtp(from: Self.a, to: Self.b, at: 0.5 + Double(index) * 0.02, ssrc: 1, sequence: UInt16(index), timestamp: UInt32(index * 160))
        }
        for second in 1..<9 { capture.rtcp(from: Self.b, to: Self.a, at: Double(second), ssrc: 77) }
        let result = try Self.analyze(capture, "one-way")
        let finding = try #require(result.findings.first { $0.code == .oneWayMedia })
        #expect(finding.severity == .error)
        #expect(finding.message.contains("400 RTP packets one way, 0 remote → local"))
        #expect(finding.message.contains("That side did send 8 RTCP packets"))
        #expect(!result.findings.contains { $0.code == .mediaStall })
    }

    @Test("Media moving to a second pair 2 s after the first stopped: pair-switch, and no stall blamed on the old pair")
    func pairSwitch() throws {
        var capture = SyntheticCapture()
        let other = "10.0.0.3:5002"
        capture.connect(Self.a, Self.b, at: 0, consentUntil: 5)
        capture.answeredBinding(from: other, to: Self.b, mapped: other, at: 6.9, after: 0.002, SyntheticCapture.check(local: "aa", remote: "bb", nominate: true))
        for index in 0..<450 {
            let time = 0.5 + Double(index) * 0.02
            guard time < 5 || time >= 7 else { continue }
            let from = time < 5 ? Self.a : other
            capture.rtp(from: from, to: Self.b, at: time, ssrc: 1, sequence: UInt16(index), timestamp: UInt32(index * 160))
            capture.rtp(from: Self.b, to: from, at: time + 0.005, ssrc: 2, sequence: UInt16(index), timestamp: UInt32(index * 160))
        }
        let result = try Self.analyze(capture, "switch")
        let switches = result.findings.filter { $0.code == .pairSwitch }
        let finding = try #require(switches.first)
        #expect(switches.count == 1 && finding.severity == .warning)
        #expect(finding.message.contains("media moved from 10.0.0.1:5000 ↔ 10.0.0.2:6000 to 10.0.0.3:5002 ↔ 10.0.0.2:6000"))
        #expect(finding.message.contains("2.01 s after the last packet on the old pair"))
        #expect(!result.findings.contains { $0.code == .mediaStall })
        // One stream per SSRC and flow: the same SSRC on the new pair is a new stream (as tshark counts).
        #expect(result.mediaStreams.count == 4)
    }

    @Test("The bitrate picture keeps a long call in 512 bins, merging them pairwise, every byte kept")
    func bitrateBins() {
        var series = BitrateSeries()
        var total = 0
        for second in 0..<1_200 {
            let bytes = 1_000 + second
            series.add(bytes, at: CaptureTime(seconds: 100 + Int64(second)))
            total += bytes
        }
        #expect(series.binMilliseconds == 4_000 && series.bins.count == 300)
        #expect(series.bins.reduce(0, +) == total)
        let firstBin = 1_000 + 1_001 + 1_002 + 1_003
        #expect(series.bins.first == firstBin)
    }

    @Test("SDP payload types: codecs and clock rates, rtx streams by apt, and the streams get them")
    func signalledCodecs() throws {
        let sdp = """
            v=0
            m=audio 9 UDP/TLS/RTP/SAVPF 111
            a=rtpmap:111 opus/48000/2
            m=video 9 UDP/TLS/RTP/SAVPF 96 97
            a=rtpmap:96 VP8/90000
            a=rtpmap:97 rtx/90000
            a=fmtp:97 apt=96
            """
        let codecs = SDPCodecs.parse(sdp)
        #expect(codecs.map(\.payloadType) == [111, 96, 97])
        #expect(codecs.map(\.clockRate) == [48_000, 90_000, 90_000])
        #expect(codecs.last?.associatedPayloadType == 96 && codecs.last?.role == .retransmission)
        var capture = SyntheticCapture()
        capture.connect(Self.a, Self.b, at: 0, consentUntil: 4)
        for index in 0..<100 {
            capture.rtp(from: Self.a, to: Self.b, at: 0.5 + Double(index) * 0.02, ssrc: 5, sequence: UInt16(index), timestamp: UInt32(index * 960), payloadType: 111)
            if index % 10 == 0 {
                capture.rtp(from: Self.a, to: Self.b, at: 0.51 + Double(index) * 0.02, ssrc: 6, sequence: UInt16(index / 10), timestamp: UInt32(index * 3_000), payloadType: 97)
            }
        }
        var options = Analyzer.Options()
        options.signalledCodecs = codecs
        let result = Pipeline(analyzerOptions: options).analyze([InputSpec(path: try capture.write("sdp"))])
        let opus = try #require(result.mediaStreams.first { $0.stream.ssrc == 5 })
        let rtx = try #require(result.mediaStreams.first { $0.stream.ssrc == 6 })
        #expect(opus.stream.codec == "opus/48000" && opus.stream.clockSource == .signalled && opus.stream.role == .media)
        #expect(rtx.stream.codec == "rtx/90000" && rtx.stream.role == .retransmission)
        // Without the SDP the opus stream's rate is inferred from its timestamps.
        let bare = Pipeline().analyze([InputSpec(path: try capture.write("sdp"))])
        let inferred = try #require(bare.mediaStreams.first { $0.stream.ssrc == 5 })
        #expect(inferred.stream.clockRate == 48_000 && inferred.stream.clockSource == .inferred && inferred.stream.codec == nil)
    }
}

/// The lab's staged calls (`fixtures/lab/make-ice-fixtures.sh media-one-way-drop media-nat-rebind`): real
/// aiortc calls where the network was changed under the call; runs differ in ports and times, so the checks
/// are on what was found and why, with durations in ranges.
@Suite("Media in the lab's staged calls")
struct MediaLabTests {
    static func analyze(_ scenario: String, _ vantages: [(String, String)]) -> AnalysisResult {
        Pipeline().analyze(vantages.map { InputSpec(path: Fixtures.path("ice/\(scenario)/\($0.1).pcap"), vantage: $0.0) })
    }

    @Test("B's router drops inbound UDP for 5 s: inside B, one stall of A's media of about 5 s, blamed on unanswered consent; inside A nothing is wrong")
    func oneWayDrop() throws {
        let atB = Self.analyze("media-one-way-drop", [("b-inside", "b-inside")])
        let stalls = Diagnosis.mediaStalls(atB)
        let stall = try #require(stalls.first)
        #expect(stalls.count == 1)
        #expect(stall.direction == "local → remote" && stall.end != nil && stall.otherDirectionFlowed)  // A (controlling) → B
        #expect(stall.milliseconds > 4_500 && stall.milliseconds < 5_600, "\(stall.milliseconds)")
        #expect(stall.causeKinds.contains(.consentUnanswered))
        #expect(atB.findings.filter { $0.code == .mediaStall }.map(\.severity) == [.warning])
        // The silent stream says the same: one gap of the same length, nothing lost by sequence number after it
        // (the router dropped them: those numbers never arrived).
        let silent = try #require(atB.mediaStreams.filter { $0.stream.flow.destination.ip == .v4(0x0A02_0002) }.max { $0.stream.packets < $1.stream.packets })
        #expect(silent.stream.gaps.count == 1 && silent.stream.lost > 0)
        let atA = Self.analyze("media-one-way-drop", [("a-inside", "a-inside")])
        #expect(!atA.findings.contains { $0.code == .mediaStall || $0.code == .oneWayMedia }, "\(atA.findings.map(\.message))")
    }

    @Test("A's router remaps A mid-call: inside A media from B stops for good, blamed on the rebinding seen between inside and outside; outside it is a NAT rebinding, not an ICE pair switch, and the NAT is not called symmetric")
    func natRebind() throws {
        let result = Self.analyze("media-nat-rebind", [("ai", "a-inside"), ("ao", "a-outside")])
        let inside = try #require(Diagnosis.mediaStalls(result).first { $0.vantage == "ai" })
        #expect(inside.end == nil && inside.direction == "remote → local")
        #expect(inside.causeKinds.isSuperset(of: [.natRebinding, .consentUnanswered]))
        let stall = try #require(result.findings.first { $0.code == .mediaStall && $0.message.hasPrefix("ICE ai/") })
        #expect(stall.severity == .error && stall.message.contains("(a rebinding: the peer still sends to the old address)"))
        let switched = try #require(result.findings.first { $0.code == .pairSwitch })
        #expect(switched.severity == .warning && switched.message.contains("Not a choice of ICE: the NAT in front of 10.1.0.2:"))
        #expect(!result.findings.contains { $0.code == .symmetricNATWithoutRelay })
        #expect(result.natBehaviour.allSatisfy { $0.mapping != .endpointDependent && $0.mapping != .addressAndPortDependent })
    }

    @Test("Relayed call whose allocations are not refreshed: inside B the stall is blamed on B's allocation expiring; inside A on the far end's relay, whose allocation A cannot see")
    func turnExpiry() throws {
        let atB = Self.analyze("media-turn-expiry", [("b-inside", "b-inside")])
        let stallAtB = try #require(Diagnosis.mediaStalls(atB).first)
        #expect(stallAtB.end == nil && stallAtB.causeKinds.contains(.turnExpired))
        #expect(atB.findings.contains { $0.code == .allocationExpired })
        #expect(atB.findings.contains { $0.code == .mediaStall && $0.severity == .error && $0.message.contains("expired at") })
        let atA = Self.analyze("media-turn-expiry", [("a-inside", "a-inside")])
        let stallAtA = try #require(Diagnosis.mediaStalls(atA).first)
        #expect(stallAtA.end == nil && stallAtA.causeKinds.contains(.relayElsewhere))
    }
}
