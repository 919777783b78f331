import Foundation
import WeDioTestSupport

/// A lab scenario's truth.json (fields listed in fixtures/README.md): what the agents and the routers
/// reported, decoded once for every test that compares against it.
struct LabTruth: Decodable {
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
    struct TURN: Decodable {
        var username: String?
    }
    struct Agent: Decodable {
        var agent: String
        var role: String
        var finalRole: String
        var ufrag: String
        var password: String
        var outcome: String
        var selectedPair: Pair?
        var localCandidates: [Candidate]
        var dtlsRole: String?
        var turn: TURN?
        var sdp: String?
    }
    /// A conntrack entry: the original tuple's source and destination, and the reply's destination.
    struct Mapping: Decodable {
        var `internal`: String
        var destination: String
        var external: String
        var line: String
    }
    struct Server: Decodable {
        var turnUsers: [String: String]
    }

    var scenario: String
    var agents: [Agent]
    var conntrack: [String: [Mapping]]
    var natDiscovery: [String]?
    var server: Server

    static func load(_ scenario: String) throws -> LabTruth {
        try JSONDecoder().decode(
            LabTruth.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("ice/\(scenario)/truth.json"))))
    }
}
