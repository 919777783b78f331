import Foundation
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioTestSupport

/// A browser lab scenario's truth.json (fixtures/browser/*, made by fixtures/lab/make-browser-fixtures.sh):
/// what each browser's own getStats() said, the descriptions it produced, and the routers' conntrack tables.
struct BrowserTruth: Decodable {
    /// A candidate as getStats() reports it (RTCIceCandidateStats).
    struct Candidate: Decodable {
        var candidateType: String?
        var address: String?
        var port: Int?
        var protocol_: String?
        var relayProtocol: String?
        var relatedAddress: String?
        var relatedPort: Int?

        enum CodingKeys: String, CodingKey {
            case candidateType, address, port, relayProtocol, relatedAddress, relatedPort
            case protocol_ = "protocol"
        }

        var transportAddress: TransportAddress? {
            guard let address, let port, let ip = IPAddress(address), let port = UInt16(exactly: port) else { return nil }
            return TransportAddress(ip: ip, port: port)
        }

        var related: TransportAddress? {
            guard let relatedAddress, let relatedPort, let ip = IPAddress(relatedAddress), let port = UInt16(exactly: relatedPort)
            else { return nil }
            return TransportAddress(ip: ip, port: port)
        }

        var type: CandidateType? { candidateType.flatMap(CandidateType.init(rawValue:)) }
    }
    struct Pair: Decodable {
        var local: Candidate
        var remote: Candidate
    }
    struct Credentials: Decodable {
        var ufrag: String?
        var password: String?
        var restart: Bool
    }
    struct Description: Decodable {
        var type: String
        var sdp: String
    }
    struct TimelineEntry: Decodable {
        var t: Double
        var local: String?
        var remote: String?
    }
    struct Peer: Decodable {
        var browser: String
        var iceConnectionState: String
        var iceTransportPolicy: String
        var credentials: [Credentials]
        var descriptions: [Description]
        var selectedPair: Pair?
        var localCandidates: [Candidate]
        var remoteCandidates: [Candidate]
        var selectedPairTimeline: [TimelineEntry]
        var dataReceived: Int
    }
    struct Mapping: Decodable {
        var `internal`: String
        var destination: String
        var external: String
    }
    struct Server: Decodable {
        var turnUsers: [String: String]
    }

    var scenario: String
    var peers: [String: Peer]
    var conntrack: [String: [Mapping]]
    var server: Server

    var a: Peer { peers["A", default: peers.values.first!] }
    var b: Peer { peers["B", default: peers.values.first!] }

    static func load(_ scenario: String) throws -> BrowserTruth {
        try JSONDecoder().decode(
            BrowserTruth.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("browser/\(scenario)/truth.json"))))
    }

    /// The captures of a scenario, by vantage point name.
    static let vantages = ["lanA": "a-lan.pcap", "wanA": "a-wan.pcap", "turn": "turn.pcap", "lanB": "b-lan.pcap"]

    static func capture(_ scenario: String, _ vantage: String) -> String {
        Fixtures.path("browser/\(scenario)/\(vantages[vantage] ?? vantage)")
    }

    /// The SDPs of both browsers as `--sdp` would give them: credentials to verify checks, signalled candidates.
    var sdpText: [String] { peers.values.flatMap { $0.descriptions.map(\.sdp) } }

    /// Analyses the named vantage points together, with both browsers' SDPs and the TURN users' passwords
    /// (`turnUsers`: which; all by default).
    func analyze(_ scenario: String, vantages names: [String], turnUsers: [String]? = nil) -> AnalysisResult {
        var store = CredentialStore()
        var signalled: [SignalledCandidate] = []
        for sdp in sdpText {
            for credentials in SDPCredentials.parse(sdp) { store.addICE(ufrag: credentials.ufrag, password: credentials.password) }
            signalled += SDPCandidates.parse(sdp)
        }
        for (user, password) in server.turnUsers where turnUsers.map({ $0.contains(user) }) ?? true {
            store.addTURN(username: user, password: password)
        }
        var options = Analyzer.Options(keepMessages: true, credentials: store)
        options.signalledCandidates = signalled
        let inputs = names.map { InputSpec(path: Self.capture(scenario, $0), vantage: $0) }
        return Pipeline(analyzerOptions: options).analyze(inputs)
    }
}
