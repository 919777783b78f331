import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioReport
import WeDioSTUN
import WeDioTestSupport

/// Findings: each lab failure yields the right diagnosis with its evidence, healthy runs yield none above
/// info, and synthetic captures cover what the lab cannot stage.
@Suite("Findings")
struct FindingsTests {
    static func findings(_ relative: String...) -> [Finding] {
        Pipeline().analyze(relative.map { InputSpec(path: Fixtures.path($0)) }).findings
    }

    static func codes(_ findings: [Finding]) -> [String] { findings.map { "\($0.severity.rawValue) \($0.code.rawValue)" } }

    static let healthy = [
        "host-pair/host-pair.pcap", "ipv6-host/host-pair.pcap", "srflx-eim/a-inside.pcap", "srflx-eim/a-outside.pcap",
        "srflx-eim/b-inside.pcap", "srflx-eim/b-outside.pcap", "relay-turn/a-inside.pcap", "relay-turn/a-outside.pcap",
        "relay-turn/b-inside.pcap", "relay-turn/b-outside.pcap", "turn-tcp/a-inside.pcap", "turn-tcp/b-inside.pcap",
        "aiortc-call/a-inside.pcap", "aiortc-call/a-outside.pcap", "turn-indications/a-inside.pcap",
        "rfc5780-discovery/a-inside.pcap", "prflx-symmetric/b-inside.pcap", "prflx-symmetric/a-outside.pcap",
        "role-conflict/a-inside.pcap",
    ]

    @Test("Healthy lab runs: no warning and no error", arguments: healthy)
    func healthyRun(capture: String) {
        let findings = Self.findings("ice/" + capture)
        #expect(findings.allSatisfy { $0.severity == .info }, "\(Self.codes(findings))")
    }

    @Test("Total failure: every check unanswered, per view; with inside and outside also the symmetric NAT without relay")
    func totalFailure() throws {
        for view in ["a-inside", "a-outside", "b-inside", "b-outside"] {
            #expect(Self.codes(Self.findings("ice/total-failure/\(view).pcap")) == ["error ice-failed-no-response"])
        }
        let result = NATTests.analyze("total-failure", side: "a")
        #expect(Self.codes(result.findings) == ["error ice-failed-no-response", "error symmetric-nat-without-relay"])
        let failed = try #require(result.findings.first)
        // The same session seen at both vantage points is one finding with evidence from each.
        #expect(failed.evidence.compactMap(\.vantage).sorted() == ["a-inside", "a-outside"])
        let inside = try #require(failed.evidence.first { $0.vantage == "a-inside" })
        let checks = result.transactions.transactions.filter {
            $0.vantage == "a-inside" && $0.method == .binding && $0.client.description == "10.1.0.2:58642"
                && $0.server.port != 3478
        }
        #expect(Set(inside.transactions) == Set(checks.map(\.id.description)))
        #expect(checks.count == 2)
        let symmetric = try #require(result.findings.last)
        #expect(symmetric.message.contains("198.51.100.2"))
    }

    @Test("Wrong TURN password: turn-auth-failed names the user, the realm and the two Allocate transactions")
    func wrongPassword() throws {
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/turn-wrong-password/a-inside.pcap"))])
        let finding = try #require(result.findings.first)
        #expect(finding.code == .turnAuthFailed && finding.severity == .error)
        #expect(finding.message.contains("'alice'") && finding.message.contains("'wedio.test'"))
        let allocates = result.transactions.transactions.filter { $0.method == .allocate }
        #expect(allocates.count == 2)
        #expect(finding.evidence.first?.transactions == allocates.map(\.id.description))
        #expect(!finding.message.contains("wonderland"))
    }

    @Test("A session past its check cap: the finding counts what was followed, and says how many more were only counted")
    func cappedSession() throws {
        var capture = SyntheticCapture()
        let total = Limits.iceChecksPerSession + 500
        for index in 0..<total {
            capture.add(
                .binding, .request, id: capture.newID(), from: "10.9.\(index / 250 % 250).\(index % 250 + 1):\(2_000 + index % 50_000)",
                to: "192.0.2.1:3478", at: Double(index) * 0.001, SyntheticCapture.check(local: "abcd", remote: "efgh"))
        }
        let result = Pipeline().analyze(bytes: capture.bytes)
        let session = try #require(result.iceSessions.first)
        #expect(session.checksSeen == total && session.checksDropped == 500)
        let finding = try #require(result.findings.first { $0.code == .iceFailedNoResponse })
        #expect(finding.message.contains("none of the \(Limits.iceChecksPerSession) connectivity checks"))
        #expect(finding.message.contains("500 more checks (of \(total) seen) were counted only"))
        // Totals over every transaction, not only the kept ones.
        #expect(result.transactions.summary().timeout == total)
    }

    @Test("Role conflict: an info finding, the conflict resolved")
    func roleConflict() {
        #expect(Self.codes(Self.findings("ice/role-conflict/a-inside.pcap")) == ["info role-conflict"])
    }

    @Test("Wrong ICE passwords given: integrity-failed on the checks")
    func integrityFailed() throws {
        var store = CredentialStore()
        let truth = try ICEFixtureTests.truth("srflx-eim")
        for agent in truth.agents { store.addICE(ufrag: agent.ufrag, password: agent.password + "x") }
        let result = Pipeline(analyzerOptions: Analyzer.Options(credentials: store)).analyze([
            InputSpec(path: Fixtures.path("ice/srflx-eim/a-inside.pcap"))
        ])
        let finding = try #require(result.findings.first { $0.code == .integrityFailed })
        #expect(finding.severity == .error)
        #expect(!(finding.evidence.first?.transactions.isEmpty ?? true))
        let right = ICEFixtureTests.analyze(Fixtures.path("ice/srflx-eim/a-inside.pcap"), truth)
        #expect(!right.findings.contains { $0.code == .integrityFailed })
    }

    // MARK: synthetic

    static let client = "10.0.0.5:5000"
    static let server = "192.0.2.1:3478"

    @Test("A STUN server that never answers: unanswered-stun-server with its three transactions")
    func unansweredServer() throws {
        var capture = SyntheticCapture()
        var ids: [String] = []
        for second in [0.0, 0.5, 1.5] {
            let id = capture.newID()
            ids.append(id.description)
            capture.add(.binding, .request, id: id, from: Self.client, to: Self.server, at: second)
        }
        let result = Pipeline().analyze(bytes: capture.bytes)
        let finding = try #require(result.findings.first)
        #expect(Self.codes(result.findings) == ["warning unanswered-stun-server"])
        #expect(finding.evidence.first?.transactions == ids)
        #expect(finding.message.contains(Self.server))
    }

    /// Allocate → 401 (REALM, NONCE), then authenticated Allocates answered with `errors`.
    static func allocation(answers errors: [Int], success: Bool = false) -> SyntheticCapture {
        var capture = SyntheticCapture()
        let key = STUNKey.longTerm(username: "alice", realm: "r", password: "p")
        let first = capture.newID()
        capture.add(.allocate, .request, id: first, from: client, to: server, at: 0)
        capture.add(
            .allocate, .errorResponse, id: first, from: server, to: client, at: 0.01,
            [SyntheticCapture.error(401, "Unauthorized"), SyntheticCapture.text(.realm, "r"), SyntheticCapture.text(.nonce, "n1")])
        var second = 0.1
        for code in errors {
            let id = capture.newID()
            capture.add(
                .allocate, .request, id: id, from: client, to: server, at: second,
                [
                    SyntheticCapture.text(.username, "alice"), SyntheticCapture.text(.realm, "r"), SyntheticCapture.text(.nonce, "n1"),
                    SyntheticCapture.integrity,
                ], key: key)
            capture.add(
                .allocate, .errorResponse, id: id, from: server, to: client, at: second + 0.01,
                [SyntheticCapture.error(code, STUNErrorCodes.reason(for: code) ?? "Error"), SyntheticCapture.text(.nonce, "n2")])
            second += 0.1
        }
        return capture
    }

    @Test("Each Allocate error is recognised: turn-allocation-failed with the code", arguments: [403, 437, 440, 441, 442, 443, 486, 508])
    func allocationError(code: Int) throws {
        let result = Pipeline().analyze(bytes: Self.allocation(answers: [code]).bytes)
        #expect(Self.codes(result.findings) == ["error turn-allocation-failed"])
        let finding = try #require(result.findings.first)
        #expect(finding.message.contains("\(code) \(STUNErrorCodes.reason(for: code) ?? "")"))
        #expect(finding.fix == Diagnosis.allocationFix(code))
        #expect(result.turnAllocations.first?.allocateErrors == [401, code])
    }

    @Test("401 after the authenticated Allocate: turn-auth-failed")
    func authFailed() {
        let result = Pipeline().analyze(bytes: Self.allocation(answers: [401]).bytes)
        #expect(Self.codes(result.findings) == ["error turn-auth-failed"])
    }

    @Test("Two clients refused the same way read as one finding, with each client in its evidence")
    func sameSentenceOnce() throws {
        var capture = SyntheticCapture()
        let key = STUNKey.longTerm(username: "alice", realm: "r", password: "p")
        // The first client is refused once, the second tries twice: different histories, one sentence.
        for (client, tries) in [("10.0.0.5:5000", 1), ("10.0.0.6:5000", 2)] {
            let first = capture.newID()
            capture.add(.allocate, .request, id: first, from: client, to: Self.server, at: 0)
            capture.add(
                .allocate, .errorResponse, id: first, from: Self.server, to: client, at: 0.01,
                [SyntheticCapture.error(401, "Unauthorized"), SyntheticCapture.text(.realm, "r"), SyntheticCapture.text(.nonce, "n1")])
            for attempt in 0..<tries {
                let id = capture.newID()
                let at = 0.1 + Double(attempt) * 0.1
                capture.add(
                    .allocate, .request, id: id, from: client, to: Self.server, at: at,
                    [
                        SyntheticCapture.text(.username, "alice"), SyntheticCapture.text(.realm, "r"),
                        SyntheticCapture.text(.nonce, "n1"), SyntheticCapture.integrity,
                    ], key: key)
                capture.add(
                    .allocate, .errorResponse, id: id, from: Self.server, to: client, at: at + 0.01,
                    [SyntheticCapture.error(401, "Unauthorized"), SyntheticCapture.text(.nonce, "n2")])
            }
        }
        let result = Pipeline().analyze(bytes: capture.bytes)
        #expect(Self.codes(result.findings) == ["error turn-auth-failed"])
        let evidence = try #require(result.findings.first?.evidence.map(\.summary))
        #expect(evidence.count == 2)
        #expect(evidence.contains { $0.hasPrefix("10.0.0.5:5000 → ") } && evidence.contains { $0.hasPrefix("10.0.0.6:5000 → ") })
    }

    @Test("An Allocate never answered is not called refused, and lists no empty errors")
    func allocateUnanswered() {
        var capture = SyntheticCapture()
        capture.add(.allocate, .request, id: capture.newID(), from: Self.client, to: Self.server, at: 0)
        let text = TextReport(color: false, toolVersion: "test").render(Pipeline().analyze(bytes: capture.bytes))
        #expect(text.contains("failed: no answer to the Allocate"), "\(text)")
        #expect(!text.contains("refused"))
        #expect(!text.contains("errors \n") && !text.contains("errors  "))
    }

    @Test("438 Stale Nonce three times in a row: turn-stale-nonce-loop")
    func staleNonceLoop() {
        let result = Pipeline().analyze(bytes: Self.allocation(answers: [438, 438, 438]).bytes)
        #expect(Self.codes(result.findings) == ["error turn-stale-nonce-loop"])
        // A single 438 followed by success is the RFC's normal retry, not a finding.
        let once = Pipeline().analyze(bytes: Self.allocation(answers: [438]).bytes)
        #expect(!once.findings.contains { $0.code == .turnStaleNonceLoop })
    }

    @Test("An allocation outliving its lifetime, and data sent without a permission")
    func expiredAndPermission() throws {
        var capture = SyntheticCapture()
        let id = capture.newID()
        capture.add(.allocate, .request, id: id, from: Self.client, to: Self.server, at: 0)
        capture.add(
            .allocate, .successResponse, id: id, from: Self.server, to: Self.client, at: 0.01,
            [
                SyntheticCapture.address(.xorRelayedAddress, "192.0.2.1:50000"),
                SyntheticCapture.address(.xorMappedAddress, "198.51.100.7:5000"), STUNAttribute(type: .lifetime, value: .uint32(60)),
            ])
        capture.add(
            .send, .indication, id: capture.newID(), from: Self.client, to: Self.server, at: 1,
            [
                SyntheticCapture.address(.xorPeerAddress, "203.0.113.9:9000"),
                STUNAttribute(type: .data, value: .bytes([1, 2, 3, 4]), length: 4),
            ])
        // Something later in the capture, so the capture outlives the allocation.
        capture.add(.binding, .request, id: capture.newID(), from: "10.0.0.6:6000", to: "10.0.0.7:7000", at: 120)
        let result = Pipeline().analyze(bytes: capture.bytes)
        let codes = Set(Self.codes(result.findings))
        #expect(codes.isSuperset(of: ["warning allocation-expired", "warning permission-missing"]))
        let expired = try #require(result.findings.first { $0.code == .allocationExpired })
        #expect(expired.evidence.first?.times.first == CaptureTime(seconds: 1_700_000_060, nanoseconds: 10_000_000))  // granted at 0.01 s + 60 s
    }

    /// An allocation, then a CreatePermission for 203.0.113.9 answered `answer` (nil: no request at all), with a
    /// Send indication to that peer at 1.001 s, between the request (1.0 s) and its answer (1.002 s).
    static func permissionRace(answer: Int?) -> SyntheticCapture {
        var capture = SyntheticCapture()
        let id = capture.newID()
        capture.add(.allocate, .request, id: id, from: client, to: server, at: 0)
        capture.add(
            .allocate, .successResponse, id: id, from: server, to: client, at: 0.01,
            [SyntheticCapture.address(.xorRelayedAddress, "192.0.2.1:50000"), STUNAttribute(type: .lifetime, value: .uint32(600))])
        let permission = capture.newID()
        let peer = SyntheticCapture.address(.xorPeerAddress, "203.0.113.9:9000")
        if answer != nil { capture.add(.createPermission, .request, id: permission, from: client, to: server, at: 1.0, [peer]) }
        capture.add(
            .send, .indication, id: capture.newID(), from: client, to: server, at: 1.001,
            [peer, STUNAttribute(type: .data, value: .bytes([1, 2, 3, 4]), length: 4)])
        if let answer {
            if answer == 200 {
                capture.add(.createPermission, .successResponse, id: permission, from: server, to: client, at: 1.002)
            } else {
                capture.add(
                    .createPermission, .errorResponse, id: permission, from: server, to: client, at: 1.002,
                    [STUNAttribute(type: .errorCode, value: .errorCode(code: answer, reason: "Forbidden"))])
            }
        }
        return capture
    }

    @Test("Data sent right after CreatePermission, before its success, is relayed in order: no permission-missing")
    func permissionRace() throws {
        let raced = Pipeline().analyze(bytes: Self.permissionRace(answer: 200).bytes)
        #expect(!raced.findings.contains { $0.code == .permissionMissing })
        #expect(raced.turnAllocations.first?.sentBeforePermissionAnswer == 1)
        #expect(raced.turnAllocations.first?.sendsWithoutPermission == 0)
        // Refused: the datagram was sent without a permission after all; the evidence names its packet and time.
        for answer in [403, nil] {
            let result = Pipeline().analyze(bytes: Self.permissionRace(answer: answer).bytes)
            let finding = try #require(result.findings.first { $0.code == .permissionMissing }, "\(String(describing: answer))")
            let packet = answer == nil ? 3 : 4  // Allocate, its answer, [CreatePermission,] the Send indication
            #expect(finding.evidence.first?.packets == [PacketRef(input: 0, packet: packet)])
            #expect(finding.evidence.first?.times == [CaptureTime(seconds: 1_700_000_001, nanoseconds: 1_000_000)])
            #expect(finding.evidence.first?.summary.contains("Send to 203.0.113.9:9000 (packet") == true)
        }
    }

    @Test("A FINGERPRINT that does not match: fingerprint-failed with the packet")
    func fingerprint() throws {
        var capture = SyntheticCapture()
        let id = capture.newID()
        capture.add(.binding, .request, id: id, from: Self.client, to: Self.server, at: 0, corruptFingerprint: true)
        capture.add(
            .binding, .successResponse, id: id, from: Self.server, to: Self.client, at: 0.01,
            [SyntheticCapture.address(.xorMappedAddress, "198.51.100.7:5000")])
        let result = Pipeline().analyze(bytes: capture.bytes)
        let finding = try #require(result.findings.first { $0.code == .fingerprintFailed })
        #expect(finding.severity == .warning)
        #expect(finding.evidence.first?.packets == [PacketRef(input: 0, packet: 1)])
    }

    /// A connects to B (nominated, answered) at 0 s, then sends consent checks every 5 s from 5 s to 45 s;
    /// B answers until `answeredUntil`.
    static func consent(answeredUntil: Double, firstSuccess: Double = 0) -> AnalysisResult {
        var capture = SyntheticCapture()
        let a = "10.0.0.5:5000"
        let b = "10.0.0.9:9000"
        if firstSuccess > 0 {
            // A pair that never answers first: connecting takes `firstSuccess` seconds.
            for second in stride(from: 0.0, to: firstSuccess, by: 0.5) {
                capture.add(
                    .binding, .request, id: capture.newID(), from: a, to: "10.0.0.200:9000", at: second,
                    SyntheticCapture.check(local: "AAAA", remote: "BBBB"))
            }
        }
        var second = firstSuccess
        while second <= 45 {
            let id = capture.newID()
            capture.add(
                .binding, .request, id: id, from: a, to: b, at: second,
                SyntheticCapture.check(local: "AAAA", remote: "BBBB", nominate: true))
            if second <= answeredUntil {
                capture.add(
                    .binding, .successResponse, id: id, from: b, to: a, at: second + 0.002,
                    [SyntheticCapture.address(.xorMappedAddress, a)])
            }
            second += 5
        }
        return Pipeline().analyze(bytes: capture.bytes)
    }

    @Test("Consent checks unanswered for more than 30 s after connecting: consent-lost")
    func consentLost() throws {
        let lost = Self.consent(answeredUntil: 10)
        let finding = try #require(lost.findings.first { $0.code == .consentLost })
        #expect(finding.severity == .error)
        #expect(finding.time == CaptureTime(nanoseconds: 1_700_000_040_002_000_000))  // last answer 10.002 s + 30 s
        #expect(!Self.consent(answeredUntil: 45).findings.contains { $0.code == .consentLost })
    }

    @Test("Three seconds of checks on a dead pair before the working one answers: slow-connect")
    func slowConnect() throws {
        let result = Self.consent(answeredUntil: 45, firstSuccess: 3)
        let finding = try #require(result.findings.first { $0.code == .slowConnect })
        #expect(finding.severity == .warning)
        #expect(finding.message.contains("3.0 s"))
        #expect(!Self.consent(answeredUntil: 45).findings.contains { $0.code == .slowConnect })
    }

    @Test("Checks answered only with 401: ice-failed-all-pairs")
    func allPairsFailed() throws {
        var capture = SyntheticCapture()
        for second in stride(from: 0.0, through: 12, by: 1) {
            let id = capture.newID()
            capture.add(
                .binding, .request, id: id, from: "10.0.0.5:5000", to: "10.0.0.9:9000", at: second,
                SyntheticCapture.check(local: "AAAA", remote: "BBBB"))
            capture.add(
                .binding, .errorResponse, id: id, from: "10.0.0.9:9000", to: "10.0.0.5:5000", at: second + 0.001,
                [SyntheticCapture.error(401, "Unauthorized")])
        }
        let result = Pipeline().analyze(bytes: capture.bytes)
        let finding = try #require(result.findings.first)
        #expect(finding.code == .iceFailedAllPairs)
        #expect(finding.message.contains("errors 401"))
    }

    @Test("Only requests one way, nothing answered: one-sided-capture")
    func oneSided() {
        var capture = SyntheticCapture()
        for second in stride(from: 0.0, through: 12, by: 1) {
            capture.add(
                .binding, .request, id: capture.newID(), from: "10.0.0.5:5000", to: "10.0.0.9:9000", at: second,
                SyntheticCapture.check(local: "AAAA", remote: "BBBB"))
        }
        let codes = Self.codes(Pipeline().analyze(bytes: capture.bytes).findings)
        #expect(codes == ["error ice-failed-no-response", "warning one-sided-capture"])
    }

    @Test("Every finding code is documented in the README with an example")
    func documented() throws {
        let readme = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for code in FindingCode.allCases {
            #expect(readme.contains("`\(code.rawValue)`"), "\(code.rawValue)")
        }
    }
}
