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
    struct Truth: Decodable {
        struct Agent: Decodable {
            var agent: String
            var role: String
            var ufrag: String
            var password: String
            var outcome: String
            var turn: TURN?
        }
        struct TURN: Decodable {
            var username: String?
        }
        struct Mapping: Decodable {
            var `internal`: String
            var destination: String
            var external: String
        }
        var scenario: String
        var agents: [Agent]
        var conntrack: [String: [Mapping]]
        var server: Server
        struct Server: Decodable {
            var turnUsers: [String: String]
        }
    }

    static let scenarios = ["host-pair", "srflx-eim", "prflx-symmetric", "relay-turn"]

    static func truth(_ scenario: String) throws -> Truth {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("ice/\(scenario)/truth.json")))
        return try JSONDecoder().decode(Truth.self, from: data)
    }

    static func captures(_ scenario: String) -> [String] {
        let directory = Fixtures.path("ice/\(scenario)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".pcap") }.sorted().map { directory + "/" + $0 }
    }

    static func analyze(_ path: String, _ truth: Truth) -> AnalysisResult {
        var store = CredentialStore()
        for agent in truth.agents { store.addICE(ufrag: agent.ufrag, password: agent.password) }
        for (user, password) in truth.server.turnUsers { store.addTURN(username: user, password: password) }
        return Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true, credentials: store)).analyze([InputSpec(path: path)])
    }

    @Test("Both agents connected, as the lab reported", arguments: scenarios)
    func outcome(scenario: String) throws {
        let truth = try Self.truth(scenario)
        #expect(truth.agents.map(\.agent) == ["A", "B"])
        #expect(truth.agents.map(\.role) == ["controlling", "controlled"])
        #expect(truth.agents.allSatisfy { $0.outcome == "connected" })
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
        let result = Self.analyze(Fixtures.path("ice/relay-turn/a-inside.pcap"), truth)
        let authenticated = result.messages.filter { $0.message.value(.username) == .text("alice") }
        #expect(authenticated.count >= 2)
        #expect(authenticated.allSatisfy { $0.integrity == .verified })
        #expect(result.messages.contains { $0.message.method == .allocate && $0.message.messageClass == .errorResponse })
        #expect(result.statistics.channelData > 0)
        #expect(result.statistics.relayedStunMessages > 0)
    }

    @Test("The server-reflexive address A learned equals the mapping conntrack lists in its router", arguments: ["srflx-eim", "prflx-symmetric", "relay-turn"])
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
