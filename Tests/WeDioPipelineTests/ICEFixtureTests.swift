import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// The lab's ICE scenarios (fixtures/ice/*, made by fixtures/lab/make-ice-fixtures.sh) checked against
/// their truth.json: what the agents and routers reported. The reconstruction issues add sessions,
/// pairs and NAT mappings to these assertions.
@Suite("ICE lab scenarios")
struct ICEFixtureTests {
    static let scenarios = [
        "host-pair", "srflx-eim", "prflx-symmetric", "relay-turn", "turn-wrong-password", "total-failure", "turn-tcp",
        "role-conflict", "ipv6-host", "aiortc-call",
    ]

    static func truth(_ scenario: String) throws -> LabTruth { try LabTruth.load(scenario) }

    static func captures(_ scenario: String) -> [String] {
        let directory = Fixtures.path("ice/\(scenario)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".pcap") }.sorted().map { directory + "/" + $0 }
    }

    /// Analyses with the agents' ICE passwords, and the TURN passwords when `turn` is set.
    static func analyze(_ path: String, _ truth: LabTruth, turn: Bool = false) -> AnalysisResult {
        var store = CredentialStore()
        for agent in truth.agents { store.addICE(ufrag: agent.ufrag, password: agent.password) }
        if turn {
            for (user, password) in truth.server.turnUsers { store.addTURN(username: user, password: password) }
        }
        return Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true, credentials: store)).analyze([InputSpec(path: path)])
    }

    @Test("The lab produced what each scenario is for", arguments: scenarios)
    func outcome(scenario: String) throws {
        let truth = try Self.truth(scenario)
        #expect(truth.agents.map(\.agent) == ["A", "B"])
        #expect(truth.agents.allSatisfy { $0.outcome == (scenario == "total-failure" ? "failed" : "connected") })
        if scenario == "role-conflict" {
            #expect(truth.agents.map(\.role) == ["controlling", "controlling"])
            #expect(Set(truth.agents.map(\.finalRole)) == ["controlling", "controlled"])
        } else {
            #expect(truth.agents.map(\.role) == ["controlling", "controlled"])
        }
    }

    @Test("Every capture decodes cleanly; every check carries the agents' ufrags and verifies with their passwords", arguments: scenarios)
    func checksVerify(scenario: String) throws {
        let truth = try Self.truth(scenario)
        let captures = Self.captures(scenario)
        #expect(!captures.isEmpty)
        let ufrags = Set(truth.agents.map(\.ufrag))
        var checks = 0
        for path in captures {
            let result = Self.analyze(path, truth)
            let input = try #require(result.inputs.first)
            #expect(input.status == .complete)
            #expect(input.errors.isEmpty, "\(path): \(input.errorSamples)")
            #expect(result.statistics.fingerprintFailures == 0)
            #expect(result.statistics.integrityFailures == 0, "\(path)")
            for record in result.messages where record.message.method == .binding && record.message.value(.priority) != nil {
                checks += 1
                guard case .text(let username) = record.message.value(.username) else {
                    Issue.record("check without USERNAME in \(path)")
                    continue
                }
                let parts = username.split(separator: ":").map(String.init)
                #expect(parts.count == 2 && Set(parts) == ufrags, "\(username)")
                #expect(record.integrity == .verified, "\(path) packet \(record.ref.packet)")
            }
        }
        #expect(checks > 0)
    }

    @Test("TURN requests and their answers verify with the long-term credentials (relay scenario)")
    func turnIntegrity() throws {
        let truth = try Self.truth("relay-turn")
        let result = Self.analyze(Fixtures.path("ice/relay-turn/a-inside.pcap"), truth, turn: true)
        let authenticated = result.messages.filter { $0.message.value(.username) == .text("alice") }
        #expect(authenticated.count >= 2)
        #expect(authenticated.allSatisfy { $0.integrity == .verified })
        #expect(result.messages.contains { $0.message.method == .allocate && $0.message.messageClass == .errorResponse })
        #expect(result.statistics.channelData > 0)
        #expect(result.statistics.relayedStunMessages > 0)
    }

    @Test("A wrong TURN password: the authenticated Allocate is refused with 401 again and fails integrity")
    func wrongPassword() throws {
        let truth = try Self.truth("turn-wrong-password")
        let result = Self.analyze(Fixtures.path("ice/turn-wrong-password/a-inside.pcap"), truth, turn: true)
        let allocates = result.messages.filter { $0.message.method == .allocate }
        let errors = allocates.filter { $0.message.value(.errorCode) == .errorCode(code: 401, reason: "Unauthorized") }
        #expect(errors.count >= 2)
        let authenticated = allocates.filter { $0.message.value(.username) == .text("alice") }
        #expect(!authenticated.isEmpty)
        #expect(authenticated.allSatisfy { $0.integrity == .failed })
        #expect(!allocates.contains { $0.message.messageClass == .successResponse })
    }

    @Test("TURN over TCP: the reassembled stream yields the Allocate exchange and ChannelData")
    func turnOverTCP() throws {
        let truth = try Self.truth("turn-tcp")
        let result = Self.analyze(Fixtures.path("ice/turn-tcp/a-inside.pcap"), truth, turn: true)
        let overTCP = result.messages.filter { $0.flow.transport == .tcp }
        #expect(overTCP.contains { $0.message.method == .allocate && $0.message.messageClass == .successResponse })
        #expect(overTCP.filter { $0.message.value(.username) == .text("alice") }.allSatisfy { $0.integrity == .verified })
        #expect(result.statistics.tcpSegments > 0)
        #expect(result.statistics.channelData > 0)
    }

    @Test("Role conflict: a 487 answers a check and carries the reason phrase")
    func roleConflict() throws {
        let truth = try Self.truth("role-conflict")
        let all = Self.captures("role-conflict").flatMap { Self.analyze($0, truth).messages }
        #expect(all.contains { $0.message.value(.errorCode) == .errorCode(code: 487, reason: "Role Conflict") })
        #expect(all.contains { $0.message.value(.iceControlling) != nil && $0.flow.source.ip == IPAddress("10.2.0.2") })
    }

    @Test("RFC 5780 discovery: CHANGE-REQUEST tests answered from the other address; mapping as conntrack shows")
    func rfc5780() throws {
        let truth = try Self.truth("rfc5780-discovery")
        #expect(truth.natDiscovery?.contains("NAT with Endpoint Independent Mapping!") == true)
        #expect(truth.natDiscovery?.contains("NAT with Address and Port Dependent Filtering!") == true)
        let result = Self.analyze(Fixtures.path("ice/rfc5780-discovery/a-inside.pcap"), truth)
        let requests = result.messages.filter { $0.message.value(.changeRequest) != nil }
        #expect(requests.contains { $0.message.value(.changeRequest) == .changeRequest(changeIP: true, changePort: true) })
        let other = try #require(TransportAddress("192.0.2.11:3479"))
        let origin = try #require(TransportAddress("192.0.2.11:3478"))
        #expect(result.messages.contains { $0.message.value(.otherAddress) == .address(other) })
        #expect(result.messages.contains { $0.message.value(.responseOrigin) == .address(origin) })
    }

    @Test("coturn's client: CreatePermission, Send and Data indications with 100-byte DATA, Refresh to lifetime 0")
    func turnIndications() throws {
        let truth = try Self.truth("turn-indications")
        let result = Self.analyze(Fixtures.path("ice/turn-indications/a-inside.pcap"), truth, turn: true)
        let peer = try #require(TransportAddress("192.0.2.11:3480"))
        let sends = result.messages.filter { $0.message.method == .send && $0.message.messageClass == .indication }
        let data = result.messages.filter { $0.message.method == .data && $0.message.messageClass == .indication }
        #expect(sends.count == 5)
        #expect(data.count == 5)
        for indication in sends + data {
            #expect(indication.message.value(.xorPeerAddress) == .xorAddress(peer))
            #expect(indication.message.attribute(.data)?.length == 100)
        }
        #expect(result.messages.contains { $0.message.method == .createPermission && $0.message.messageClass == .successResponse })
        #expect(result.messages.contains { $0.message.method == .refresh && $0.message.value(.lifetime) == .uint32(0) })
        #expect(result.messages.filter { $0.message.value(.username) == .text("alice") }.allSatisfy { $0.integrity == .verified })
    }

    @Test("aiortc call: DTLS, SRTP and SRTCP on the pair, and consent checks keep coming after it connected")
    func call() throws {
        let truth = try Self.truth("aiortc-call")
        let result = Self.analyze(Fixtures.path("ice/aiortc-call/a-inside.pcap"), truth)
        let stats = result.statistics
        #expect(stats.dtlsRecords > 10)
        #expect(stats.rtpPackets > 1000)
        #expect(stats.rtcpPackets > 10)
        #expect(stats.integrityFailures == 0)
        let checks = result.messages.filter { $0.message.method == .binding && $0.message.messageClass == .request }
        let first = try #require(checks.first?.time)
        let late = checks.filter { $0.time.milliseconds(since: first) > 8_000 }
        #expect(!late.isEmpty)  // RFC 7675 consent freshness: checks go on every few seconds
        #expect(late.allSatisfy { $0.integrity == .verified })
    }

    @Test("The server-reflexive address A learned equals the mapping conntrack lists in its router", arguments: ["srflx-eim", "prflx-symmetric", "relay-turn", "turn-tcp", "role-conflict", "rfc5780-discovery"])
    func mappingMatchesConntrack(scenario: String) throws {
        let truth = try Self.truth(scenario)
        let result = Self.analyze(Fixtures.path("ice/\(scenario)/a-inside.pcap"), truth)
        let server = try #require(TransportAddress("192.0.2.10:3478"))
        let answers = result.messages.filter {
            $0.flow.source == server && $0.message.method == .binding && $0.message.messageClass == .successResponse
        }
        let answer = try #require(answers.first)
        guard case .xorAddress(let mapped) = answer.message.value(.xorMappedAddress) else {
            Issue.record("no XOR-MAPPED-ADDRESS")
            return
        }
        let inside = answer.flow.destination.description
        let entry = try #require(truth.conntrack["ra"]?.first { $0.`internal` == inside && $0.destination == "192.0.2.10:3478" })
        #expect(mapped.description == entry.external)
    }

    @Test("The same transactions appear inside and outside A's NAT", arguments: ["srflx-eim", "prflx-symmetric", "relay-turn"])
    func insideAndOutside(scenario: String) throws {
        let truth = try Self.truth(scenario)
        let inside = Self.analyze(Fixtures.path("ice/\(scenario)/a-inside.pcap"), truth)
        let outside = Self.analyze(Fixtures.path("ice/\(scenario)/a-outside.pcap"), truth)
        let insideIDs = Set(inside.messages.filter { $0.carrier == .direct }.map(\.message.transactionID))
        let routerWAN = try #require(IPAddress("198.51.100.2"))
        // What A's NAT sent out (source: its WAN address) left from A: every such transaction is seen inside.
        // (Inbound packets the NAT's filtering dropped are seen outside only.)
        let sentOut = Set(
            outside.messages.filter { $0.carrier == .direct && $0.flow.source.ip == routerWAN }.map(\.message.transactionID))
        #expect(!sentOut.isEmpty)
        #expect(sentOut.isSubset(of: insideIDs))
    }
}

@Suite("ICE lab calls across vantage points")
struct ICELabCallTests {
    @Test(
        "All four captures of a scenario in one run: one call, its outcome, and each end named by the address the other agent saw",
        arguments: ["srflx-eim", "prflx-symmetric", "relay-turn", "turn-wrong-password", "total-failure", "turn-tcp", "role-conflict"])
    func oneCall(scenario: String) throws {
        let truth = try LabTruth.load(scenario)
        var store = CredentialStore()
        for agent in truth.agents { store.addICE(ufrag: agent.ufrag, password: agent.password) }
        let names: [String] = ["a-inside", "a-outside", "b-outside", "b-inside"]
        let inputs = names.map { name in InputSpec(path: Fixtures.path("ice/\(scenario)/\(name).pcap"), vantage: name) }
        let result = Pipeline(analyzerOptions: Analyzer.Options(credentials: store)).analyze(inputs)
        #expect(result.iceSessions.count >= 4, "\(result.inputs.map { "\($0.path) \($0.status) \($0.failure ?? "")" })")
        #expect(result.calls.count == 1, "\(result.calls.map(\.generations))")
        let call = try #require(result.calls.first)
        #expect(Set(call.generations.flatMap { $0 }) == Set(truth.agents.map(\.ufrag)))
        #expect(call.outcome == (scenario == "total-failure" ? .failed : .connected))
        guard scenario != "total-failure" else { return }
        // Each end as the peer saw it: its address in the peer's own capture (b-inside sees A's end, a-inside B's).
        let fromB = try #require(result.iceSessions.first { $0.vantage == "b-inside" }?.selectedPair)
        let fromA = try #require(result.iceSessions.first { $0.vantage == "a-inside" }?.selectedPair)
        let controllingIsA = call.controlling?.agent == truth.agents.first { $0.agent == "A" }?.ufrag
        let (aEnd, bEnd) = controllingIsA ? (call.controlling, call.controlled) : (call.controlled, call.controlling)
        #expect(aEnd?.address == (controllingIsA ? fromB.local : fromB.remote))
        #expect(bEnd?.address == (controllingIsA ? fromA.remote : fromA.local))
        // Behind a NAT the base is the agent's private address.
        #expect(aEnd?.type == .relay || aEnd?.base?.ip == IPAddress("10.1.0.2"))
    }
}
