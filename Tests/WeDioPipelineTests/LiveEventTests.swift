import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// The live stream's events, derived message by message, against what the synthetic capture holds; its rate
/// limit's accounting; and what eviction forgets.
@Suite("Live events and eviction")
struct LiveEventTests {
    typealias S = SyntheticCapture

    /// A STUN server's answer, a TURN allocation's life, an ICE session to connection, and a request nobody answers.
    static func call() -> SyntheticCapture {
        var capture = SyntheticCapture()
        capture.answeredBinding(from: "10.0.0.5:5000", to: "192.0.2.1:3478", mapped: "203.0.113.5:6000", at: 0)
        let first = capture.newID()
        capture.add(.allocate, .request, id: first, from: "10.0.0.5:5001", to: "192.0.2.10:3478", at: 0.1)
        capture.add(.allocate, .errorResponse, id: first, from: "192.0.2.10:3478", to: "10.0.0.5:5001", at: 0.11, [S.error(401, "Unauthorized")])
        let second = capture.newID()
        capture.add(.allocate, .request, id: second, from: "10.0.0.5:5001", to: "192.0.2.10:3478", at: 0.2, [S.text(.username, "alice")])
        capture.add(
            .allocate, .successResponse, id: second, from: "192.0.2.10:3478", to: "10.0.0.5:5001", at: 0.21,
            [S.address(.xorRelayedAddress, "192.0.2.10:49152"), STUNAttribute(type: .lifetime, value: .uint32(600))])
        let permission = capture.newID()
        capture.add(
            .createPermission, .request, id: permission, from: "10.0.0.5:5001", to: "192.0.2.10:3478", at: 0.3,
            [S.address(.xorPeerAddress, "198.51.100.7:7000")])
        capture.add(.createPermission, .successResponse, id: permission, from: "192.0.2.10:3478", to: "10.0.0.5:5001", at: 0.31)
        let check = capture.newID()
        capture.add(
            .binding, .request, id: check, from: "10.0.0.5:5000", to: "198.51.100.7:7000", at: 0.5,
            S.check(local: "LOCA", remote: "REMO", nominate: true))
        capture.add(
            .binding, .successResponse, id: check, from: "198.51.100.7:7000", to: "10.0.0.5:5000", at: 0.52,
            [S.address(.xorMappedAddress, "203.0.113.5:6000")])
        capture.add(.binding, .request, id: capture.newID(), from: "10.0.0.5:5002", to: "192.0.2.99:3478", at: 1)
        let refresh = capture.newID()
        capture.add(
            .refresh, .request, id: refresh, from: "10.0.0.5:5001", to: "192.0.2.10:3478", at: 50,
            [STUNAttribute(type: .lifetime, value: .uint32(0))])
        capture.add(
            .refresh, .successResponse, id: refresh, from: "192.0.2.10:3478", to: "10.0.0.5:5001", at: 50.01,
            [STUNAttribute(type: .lifetime, value: .uint32(0))])
        return capture
    }

    @Test("Each event comes when its message arrives, with its keys; the unanswered request is reported when its 39.5 s pass")
    func derivedEvents() throws {
        let (events, result) = Pipeline().followLive(bytes: Self.call().bytes, name: "lan")
        let kinds = events.map(\.kind)
        #expect(
            kinds == [
                .stunBinding, .turnAllocateError, .turnAllocated, .turnPermission, .iceChecksStarted, .icePairSucceeded,
                .iceNominated, .iceConnected, .stunTimeout, .turnDeleted,
            ], "\(kinds)")
        let start = 1_700_000_000 * 1_000_000_000 as Int64
        func at(_ kind: TimelineKind) -> Double? {
            events.first { $0.kind == kind }.map { Double($0.time.nanoseconds - start) / 1e9 }
        }
        #expect(at(.turnAllocated) == 0.21)
        #expect(at(.iceConnected) == 0.52)
        // Decided at 1 s + 39.5 s, before the Refresh at 50 s: not held back to the end.
        #expect(at(.stunTimeout) == 40.5)
        let allocated = try #require(events.first { $0.kind == .turnAllocated })
        #expect(allocated.summary == "TURN allocation at 192.0.2.10:3478 for 10.0.0.5:5001: relayed 192.0.2.10:49152, lifetime 600 s")
        #expect(allocated.keys["relayed"] == "192.0.2.10:49152")
        #expect(allocated.keys["turnClient"] == "udp 10.0.0.5:5001 → 192.0.2.10:3478")
        #expect(events.first { $0.kind == .turnAllocateError }?.summary == "Allocate 10.0.0.5:5001 → 192.0.2.10:3478: 401 Unauthorized")
        #expect(events.first { $0.kind == .turnPermission }?.summary == "permission for 198.51.100.7")
        #expect(events.first { $0.kind == .iceChecksStarted }?.keys["ice"] == "LOCA:REMO")
        #expect(events.first { $0.kind == .stunTimeout }?.summary == "10.0.0.5:5002 asked STUN server 192.0.2.99:3478: no answer in 39.5 s")
        // The same story as the finished report's.
        #expect(result.timeline.events.filter { $0.kind == .stunTimeout }.count == 1)
        #expect(result.iceSessions.first?.outcome == .connected)
    }

    @Test("The rate limit holds back repeats of one kind, counts every one it holds, and lets other kinds through")
    func limiterAccounting() {
        var limiter = LiveEventLimiter(burst: 100, perSecond: 20)
        var lines: [LiveEventLimiter.Line] = []
        func event(_ kind: TimelineKind, _ milliseconds: Int64) -> TimelineEvent {
            TimelineEvent(time: CaptureTime(nanoseconds: milliseconds * 1_000_000), vantage: "v", kind: kind, summary: "", refs: [])
        }
        // 3 000 Bindings over 3 s, in batches of 100, and an ICE session starting every 300 ms.
        for batch in 0..<30 {
            var events: [TimelineEvent] = []
            for index in 0..<100 { events.append(event(.stunBinding, Int64(batch * 100 + index))) }
            if batch % 3 == 0 { events.append(event(.iceChecksStarted, Int64(batch * 100 + 50))) }
            lines += limiter.admit(events, now: events.last?.time)
        }
        lines += limiter.flush()
        var passed: [TimelineKind: Int] = [:]
        var held: [TimelineKind: Int] = [:]
        for line in lines {
            switch line {
            case .event(let event): passed[event.kind, default: 0] += 1
            case .suppressed(let suppressed): held[suppressed.kind, default: 0] += suppressed.count
            }
        }
        #expect(passed[.stunBinding, default: 0] + held[.stunBinding, default: 0] == 3_000)
        // 100 at once, then 20 a second over the 3 s.
        #expect((158...160).contains(passed[.stunBinding, default: 0]), "\(passed)")
        #expect(passed[.iceChecksStarted] == 10)
        #expect(held[.iceChecksStarted] == nil)
        #expect(limiter.suppressedTotal == held[.stunBinding])
        // Held-back counts are reported at least once a second, not only at the end.
        let reports = lines.filter { if case .suppressed = $0 { true } else { false } }
        #expect(reports.count >= 3, "\(reports.count)")
    }

    @Test("Eviction forgets what was over (finished transactions, a deleted allocation, an idle session) and counts it; what is active stays")
    func eviction() throws {
        var capture = Self.call()
        // Four more ICE sessions, active late, their checks interleaved (each with a pair per step): after the
        // first session is forgotten, each check's session place is renumbered, or its checks would be grouped
        // with the wrong session.
        let late = ["LATE", "NEXT", "MORE", "LAST"]
        for (step, second) in stride(from: 90.0, through: 100.0, by: 2.5).enumerated() {
            for (agent, name) in late.enumerated() {
                capture.answeredBinding(
                    from: "10.0.0.\(6 + agent):\(5000 + step * agent)", to: "198.51.100.8:7000", mapped: "203.0.113.6:6000",
                    at: second + 0.1 * Double(agent), S.check(local: name, remote: "PEER"))
            }
        }
        let pipeline = Pipeline()
        let (_, whole) = pipeline.followLive(bytes: capture.bytes)
        #expect(whole.iceSessions.count == 5)
        #expect(whole.turnAllocations.count == 1)

        var analyzer = try Self.analyzer(capture.bytes)
        let cutoff = CaptureTime(seconds: 1_700_000_080)
        analyzer.evict(before: cutoff, idleBefore: cutoff)
        let result = AnalysisResult(inputs: [], analyzer: analyzer)
        #expect(result.iceSessions.map { Set($0.ufrags) } == late.map { ["PEER", $0] })
        for (agent, kept) in result.iceSessions.enumerated() {
            let before = try #require(whole.iceSessions.first { Set($0.ufrags) == Set(kept.ufrags) })
            #expect(kept.checksSeen == 5)
            #expect(kept.pairs.count == (agent == 0 ? 1 : 5))
            #expect(kept.pairs.map(\.local) == before.pairs.map(\.local))
            #expect(kept.pairs.map(\.checks) == before.pairs.map(\.checks))
        }
        #expect(result.turnAllocations.isEmpty, "deleted at 50 s")
        #expect(result.transactions.transactions.allSatisfy { $0.requestTime >= cutoff })
        #expect(analyzer.evicted.iceSessions == 1)
        #expect(analyzer.evicted.turnAllocations == 1)
        #expect(analyzer.evicted.transactions == whole.transactions.transactions.count - 20)
        // Totals still count what was forgotten.
        #expect(result.transactions.summary().count == whole.transactions.summary().count)
    }

    @Test("A timeout whose answer could have been among the lost packets is marked, one far from the losses is not, and the finding says so")
    func dropWindowsMarkTimeouts() throws {
        var capture = SyntheticCapture()
        let near = capture.newID()
        capture.add(.binding, .request, id: near, from: "10.0.0.5:5000", to: "192.0.2.1:3478", at: 1)
        let far = capture.newID()
        capture.add(.binding, .request, id: far, from: "10.0.0.5:5001", to: "192.0.2.1:3478", at: 30)
        capture.answeredBinding(from: "10.0.0.5:5002", to: "192.0.2.1:3478", mapped: "203.0.113.5:1", at: 1.5)
        var analyzer = try Self.analyzer(capture.bytes)
        analyzer.finish()
        func at(_ seconds: Double) -> CaptureTime { CaptureTime(nanoseconds: Int64((1_700_000_000 + seconds) * 1e9)) }
        var summary = InputSummary(index: 0, path: "eth0", vantage: "eth0")
        summary.liveCounters = CaptureCounters(received: 100, droppedByKernel: 7, droppedByInterface: 0)
        // Lost between 0.5 s and 2 s: the request at 1 s may have been answered then; the one at 30 s may not.
        summary.addDropWindow(CaptureDropWindow(start: at(0.5), end: at(2), droppedByKernel: 7, droppedByInterface: 0))
        let result = AnalysisResult(inputs: [summary], analyzer: analyzer)
        let marked = result.transactions.transactions.filter(\.duringCaptureDrops).map(\.id)
        #expect(marked == [near])
        #expect(result.transactions.transactions.filter { $0.outcome == .timeout }.map(\.id).sorted() == [near, far].sorted())
        let finding = try #require(result.findings.first { $0.code == .captureDroppedPackets })
        #expect(finding.severity == .error)
        #expect(finding.message.hasPrefix("The live capture on eth0 lost 7 packets (7 by the kernel, its capture buffer full) in 1 window"))
        #expect(finding.message.contains("1 transactions reported as timed out fall in these windows"))
        #expect(finding.evidence.last?.transactions == [near.description])
    }

    @Test("NAT rebindings keep coming as events past the report's cap on listed changes")
    func rebindingsPastTheCap() {
        var capture = SyntheticCapture()
        let changes = Limits.natEvents + 10
        for index in 0...changes {
            capture.answeredBinding(
                from: "10.0.0.5:5000", to: "192.0.2.1:3478", mapped: "203.0.113.5:\(10_000 + index % 2)", at: Double(index) * 0.01)
        }
        let (events, result) = Pipeline().followLive(bytes: capture.bytes)
        #expect(events.filter { $0.kind == .natRebinding }.count == changes)
        #expect(result.mappingChanges.count == Limits.natEvents)
        #expect(events.last { $0.kind == .natRebinding }?.summary.hasSuffix("changed from 203.0.113.5:10001 to 203.0.113.5:10000") == true)
    }

    @Test("A window's report leaves requests still in flight for a later window instead of calling them timeouts")
    func windowLeavesInFlight() throws {
        var capture = SyntheticCapture()
        capture.answeredBinding(from: "10.0.0.5:5000", to: "192.0.2.1:3478", mapped: "203.0.113.5:1", at: 0)
        capture.add(.binding, .request, id: capture.newID(), from: "10.0.0.5:5001", to: "192.0.2.1:3478", at: 10)
        let analyzer = try Self.analyzer(capture.bytes)
        var early = analyzer
        #expect(early.finishWindow(at: CaptureTime(seconds: 1_700_000_020)) == 1)
        #expect(early.transactions.transactions.map(\.outcome) == [.success])
        var late = analyzer
        #expect(late.finishWindow(at: CaptureTime(seconds: 1_700_000_060)) == 0)
        #expect(late.transactions.transactions.map(\.outcome) == [.success, .timeout])
    }

    /// An analyzer fed the whole capture (not finished).
    static func analyzer(_ bytes: [UInt8]) throws -> Analyzer {
        var analyzer: Analyzer?
        _ = Pipeline().followLive(bytes: bytes, unfinished: { analyzer = $0 })
        return try #require(analyzer)
    }
}
