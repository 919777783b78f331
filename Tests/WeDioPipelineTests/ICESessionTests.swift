import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioTestSupport

/// ICE sessions reconstructed from each lab capture, against what the agents reported (truth.json).
@Suite("ICE sessions against the lab's truth")
struct ICESessionTests {
    struct Truth: Decodable {
        struct Candidate: Decodable {
            var type: String
            var address: String
            var port: Int
            var priority: UInt32
        }
        struct Pair: Decodable {
            var local: Candidate
            var remote: Candidate
        }
        struct Agent: Decodable {
            var agent: String
            var ufrag: String
            var finalRole: String
            var outcome: String
            var selectedPair: Pair?
        }
        var agents: [Agent]
    }

    static func truth(_ scenario: String) throws -> Truth {
        try JSONDecoder().decode(Truth.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("ice/\(scenario)/truth.json"))))
    }

    static func address(_ candidate: Truth.Candidate) -> String {
        candidate.address.contains(":") ? "[\(candidate.address)]:\(candidate.port)" : "\(candidate.address):\(candidate.port)"
    }

    /// (scenario, capture, agent whose view the capture is)
    static let views: [(String, String, String)] = [
        ("host-pair", "host-pair.pcap", "A"), ("host-pair", "host-pair.pcap", "B"),
        ("ipv6-host", "host-pair.pcap", "A"), ("ipv6-host", "host-pair.pcap", "B"),
        ("srflx-eim", "a-inside.pcap", "A"), ("srflx-eim", "b-inside.pcap", "B"),
        ("prflx-symmetric", "a-inside.pcap", "A"), ("prflx-symmetric", "b-inside.pcap", "B"),
        ("role-conflict", "a-inside.pcap", "A"), ("role-conflict", "b-inside.pcap", "B"),
        ("aiortc-call", "a-inside.pcap", "A"),
        ("relay-turn", "a-inside.pcap", "A"), ("relay-turn", "b-inside.pcap", "B"),
        ("turn-tcp", "a-inside.pcap", "A"), ("turn-tcp", "b-inside.pcap", "B"),
        ("turn-wrong-password", "a-inside.pcap", "A"), ("turn-wrong-password", "b-inside.pcap", "B"),
    ]

    @Test("One session, the agents' ufrags and roles, the selected pair and its candidate types", arguments: 0..<views.count)
    func view(index: Int) throws {
        let (scenario, capture, agentName) = Self.views[index]
        let truth = try Self.truth(scenario)
        let agent = try #require(truth.agents.first { $0.agent == agentName })
        let controllingUfrag = try #require(truth.agents.first { $0.finalRole == "controlling" }).ufrag
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/\(scenario)/\(capture)"))])
        #expect(result.iceSessions.count == 1, "\(scenario)/\(capture)")
        let session = try #require(result.iceSessions.first)
        #expect(Set(session.ufrags) == Set(truth.agents.map(\.ufrag)))
        #expect(session.controlling == controllingUfrag, "\(scenario)")
        #expect(session.outcome == .connected)
        let selected = try #require(session.selectedPair, "\(scenario)/\(capture): no selected pair")
        let truthPair = try #require(agent.selectedPair)
        let (local, remote) = agent.ufrag == controllingUfrag ? (truthPair.local, truthPair.remote) : (truthPair.remote, truthPair.local)
        #expect(selected.local.description == Self.address(local), "\(scenario) \(agentName)")
        #expect(selected.remote.description == Self.address(remote), "\(scenario) \(agentName)")
        #expect(selected.localType?.rawValue == local.type, "\(scenario) \(agentName) local \(selected.local)")
        #expect(selected.remoteType?.rawValue == remote.type, "\(scenario) \(agentName) remote \(selected.remote)")
        #expect(selected.state == .succeeded && selected.nominated)
        #expect((session.timeToConnectMilliseconds ?? -1) >= 0)
    }

    @Test("Total failure: one session, every pair failed, no selected pair")
    func totalFailure() throws {
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/total-failure/a-inside.pcap"))])
        let session = try #require(result.iceSessions.first)
        #expect(session.outcome == .failed)
        #expect(session.selectedPair == nil)
        #expect(session.pairs.allSatisfy { $0.state == .failed && $0.responses == 0 })
    }

    @Test("Role conflict: the 487 and the agent that switched", arguments: ["a-inside.pcap", "b-inside.pcap"])
    func roleConflict(capture: String) throws {
        let truth = try Self.truth("role-conflict")
        let switched = try #require(truth.agents.first { $0.finalRole == "controlled" }).ufrag
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/role-conflict/\(capture)"))])
        let session = try #require(result.iceSessions.first)
        #expect(session.roleConflicts >= 1)
        #expect(session.roleSwitches == [switched])
    }
}
