import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioCapture
import WeDioBasics
import WeDioReport
import WeDioSTUN
import WeDioTestSupport

/// The browser lab (fixtures/browser/*, made by fixtures/lab/make-browser-fixtures.sh): headless Chromium and
/// Firefox calls through the lab's NATs and coturn, checked against what each browser's own getStats() said.
/// The oracle is the browser, not WeDio: candidate types are those the browsers report for their own ends.
@Suite("Browser lab scenarios")
struct BrowserFixtureTests {
    static let scenarios = [
        "chromium-eim", "chromium-relay-only", "chromium-symmetric", "chromium-firefox", "chromium-wrong-password",
        "chromium-turn-tcp", "firefox-relay-only", "chromium-ice-restart", "chromium-network-change",
    ]
    static let vantages = ["lanA", "wanA", "turn", "lanB"]

    /// Every scenario at every vantage point.
    static let views: [(String, String)] = scenarios.flatMap { scenario in vantages.map { (scenario, $0) } }

    static func turnUsers(_ scenario: String) -> [String]? {
        scenario == "chromium-wrong-password" ? ["bob"] : nil  // A's password was wrong: alice's requests cannot verify
    }

    @Test("The lab produced what each scenario is for (the browsers' own report)", arguments: scenarios)
    func outcome(scenario: String) throws {
        let truth = try BrowserTruth.load(scenario)
        let a = try #require(truth.a.selectedPair)
        let b = try #require(truth.b.selectedPair)
        // Each browser's remote end is the other's local end (same address). Chromium leaves the address of a
        // remote peer-reflexive candidate out of getStats() (it was learned from a check, not signalled).
        for (near, far) in [(a, b), (b, a)] where near.remote.transportAddress != nil || near.remote.type != .prflx {
            #expect(near.remote.transportAddress == far.local.transportAddress)
        }
        switch scenario {
        case "chromium-eim", "chromium-firefox", "chromium-ice-restart":
            #expect(a.local.type == .srflx && b.local.type == .srflx)
        case "chromium-relay-only", "firefox-relay-only":
            #expect(a.local.type == .relay && b.local.type == .relay)
        case "chromium-turn-tcp":
            #expect(a.local.type == .relay && b.local.type == .relay)
            #expect(a.local.relayProtocol == "tcp" && b.local.relayProtocol == "tcp")
        case "chromium-symmetric", "chromium-wrong-password":
            #expect([a.local.type, b.local.type].contains(.relay))
            if scenario == "chromium-wrong-password" {
                #expect(!truth.a.localCandidates.contains { $0.type == .relay })
            }
        default:
            break
        }
        #expect(truth.a.browser == (scenario.hasPrefix("firefox") ? "firefox" : "chromium"))
        #expect(truth.b.browser == (scenario.hasPrefix("firefox") || scenario == "chromium-firefox" ? "firefox" : "chromium"))
        if scenario == "chromium-ice-restart" {
            #expect(truth.a.credentials.count == 2 && truth.a.credentials.last?.restart == true)
            #expect(Set(truth.a.credentials.map(\.ufrag)).count == 2)
        }
    }

    @Test("Every capture decodes cleanly; every check verifies with the SDPs' passwords", arguments: views)
    func checksVerify(scenario: String, vantage: String) throws {
        let truth = try BrowserTruth.load(scenario)
        let result = truth.analyze(scenario, vantages: [vantage], turnUsers: Self.turnUsers(scenario))
        let input = try #require(result.inputs.first)
        #expect(input.status == .complete)
        #expect(input.errors.isEmpty, "\(input.errorSamples)")
        #expect(result.statistics.fingerprintFailures == 0)
        #expect(result.statistics.integrityFailures == 0)
        // Browsers send to a peer right after asking for its permission; coturn relays it (the data arrived).
        #expect(!result.findings.contains { $0.code == .permissionMissing }, "\(result.findings.map(\.message))")
        let checks = result.messages.filter { $0.message.method == .binding && $0.message.value(.priority) != nil }
        #expect(!checks.isEmpty)
        #expect(checks.allSatisfy { $0.integrity == .verified }, "\(checks.filter { $0.integrity != .verified }.map(\.ref))")
    }

    /// The session of the browsers' final credentials, at one vantage point.
    static func finalSession(_ result: AnalysisResult, _ truth: BrowserTruth) -> ICESession? {
        let ufrags = Set([truth.a.credentials.last?.ufrag, truth.b.credentials.last?.ufrag].compactMap { $0 })
        return result.iceSessions.last { Set($0.ufrags) == ufrags }
    }

    /// Where the selected pair's checks cross: both LANs always, A's public side unless A's end is relayed
    /// through a server it reaches elsewhere, the TURN server only when an end is relayed.
    static func selectedPairVisible(_ truth: BrowserTruth, at vantage: String) -> Bool {
        guard let a = truth.a.selectedPair else { return false }
        let relayed = a.local.type == .relay || a.remote.type == .relay
        switch vantage {
        case "turn": return relayed
        default: return true
        }
    }

    @Test("The selected pair at each vantage point: the browsers' own candidates and types", arguments: views)
    func selectedPair(scenario: String, vantage: String) throws {
        let truth = try BrowserTruth.load(scenario)
        guard Self.selectedPairVisible(truth, at: vantage), scenario != "chromium-network-change" else { return }
        let result = truth.analyze(scenario, vantages: [vantage], turnUsers: Self.turnUsers(scenario))
        let session = try #require(Self.finalSession(result, truth))
        let selected = try #require(session.selectedPair, "no selected pair in \(session.id)")
        let a = try #require(truth.a.selectedPair?.local)
        let b = try #require(truth.b.selectedPair?.local)
        #expect(session.controlling == truth.a.credentials.last?.ufrag)
        #expect(selected.localNamed == a.transportAddress, "\(selected.local) named \(selected.localNamed)")
        #expect(selected.remoteNamed == b.transportAddress, "\(selected.remote) named \(selected.remoteNamed)")
        #expect(selected.localType == a.type)
        #expect(selected.remoteType == b.type)
        // At an agent's own LAN the wire shows its base: the host address a reflexive candidate came from.
        if vantage == "lanA", a.type == .srflx || a.type == .prflx, let related = a.related {
            #expect(selected.local == related)
        }
        if vantage == "lanB", b.type == .srflx || b.type == .prflx, let related = b.related {
            #expect(selected.remote == related)
        }
    }

    @Test("All vantage points at once: the verdict names the pair as the browsers report it", arguments: scenarios)
    func verdict(scenario: String) throws {
        let truth = try BrowserTruth.load(scenario)
        guard scenario != "chromium-network-change" else { return }
        let result = truth.analyze(scenario, vantages: Self.vantages, turnUsers: Self.turnUsers(scenario))
        let a = try #require(truth.a.selectedPair?.local)
        let b = try #require(truth.b.selectedPair?.local)
        // One call, whatever the vantage points and restarts, its ends as the browsers name them.
        #expect(result.calls.count == 1, "\(result.calls.map(\.generations))")
        let call = try #require(result.calls.first)
        #expect(Set(call.vantages) == Set(Self.vantages.filter { vantage in result.iceSessions.contains { $0.vantage == vantage } }))
        #expect(call.controlling?.address == a.transportAddress && call.controlling?.type == a.type)
        #expect(call.controlled?.address == b.transportAddress && call.controlled?.type == b.type)
        #expect(call.restarts == (scenario == "chromium-ice-restart" ? 1 : 0))
        // Where an end is reflexive, the base is the host address the browser names as related.
        if a.type == .srflx, let related = a.related { #expect(call.controlling?.base == related) }
        if b.type == .srflx, let related = b.related { #expect(call.controlled?.base == related) }
        // Every relay candidate of either browser is one relay of the call, seen at its LAN and at the server.
        for relay in (truth.a.localCandidates + truth.b.localCandidates).filter({ $0.type == .relay }) {
            let address = try #require(relay.transportAddress)
            let found = call.relays.first { $0.relayed == address }
            #expect(found?.allocations.contains { $0.hasPrefix("turn/") } == true, "\(address)")
            #expect(found?.allocations.contains { $0.hasPrefix("lanA/") || $0.hasPrefix("lanB/") } == true, "\(address)")
        }
        let sentence = Verdict.sentence(result)
        let types = "\(a.candidateType ?? "?") ↔ \(b.candidateType ?? "?")"
        #expect(sentence.hasPrefix("Connected via \(types)"), "\(sentence)")
        #expect(sentence.contains(try #require(a.transportAddress).description), "\(sentence)")
        #expect(sentence.contains(try #require(b.transportAddress).description), "\(sentence)")
    }

    @Test("Every candidate a browser gathered is in its session at its own LAN, with the browser's type", arguments: scenarios)
    func gatheredCandidates(scenario: String) throws {
        let truth = try BrowserTruth.load(scenario)
        for (peer, vantage) in [(truth.a, "lanA"), (truth.b, "lanB")] {
            let result = truth.analyze(scenario, vantages: [vantage], turnUsers: Self.turnUsers(scenario))
            let ufrags = Set(peer.credentials.compactMap(\.ufrag))
            let candidates = result.iceSessions.flatMap(\.candidates).filter { ufrags.contains($0.agent) }
            // TCP host candidates (port 9, "active") are never on the wire unless a TCP check is made.
            for gathered in peer.localCandidates where gathered.protocol_ == "udp" {
                let address = try #require(gathered.transportAddress)
                let found = candidates.first { $0.address == address }
                #expect(found?.type == gathered.type, "\(peer.browser) \(gathered.candidateType ?? "?") \(address) at \(vantage): \(found.map { "\($0.type)" } ?? "missing")")
                if gathered.type == .srflx || gathered.type == .relay { #expect(found?.gathered == true) }
            }
        }
    }

    @Test("Every relay candidate a browser gathered is a TURN allocation at its LAN and at the server", arguments: scenarios)
    func allocations(scenario: String) throws {
        let truth = try BrowserTruth.load(scenario)
        let atServer = Set(truth.analyze(scenario, vantages: ["turn"], turnUsers: Self.turnUsers(scenario)).turnAllocations.flatMap(\.relayedAddresses))
        for (peer, vantage) in [(truth.a, "lanA"), (truth.b, "lanB")] {
            let result = truth.analyze(scenario, vantages: [vantage], turnUsers: Self.turnUsers(scenario))
            let relayed = Set(result.turnAllocations.flatMap(\.relayedAddresses))
            for candidate in peer.localCandidates where candidate.type == .relay {
                let address = try #require(candidate.transportAddress)
                #expect(relayed.contains(address), "\(peer.browser) relay \(address) at \(vantage)")
                #expect(atServer.contains(address), "\(peer.browser) relay \(address) at the server")
            }
        }
    }

    @Test("A wrong TURN password: A's authenticated Allocates fail integrity with the real password and get 401")
    func wrongPassword() throws {
        let truth = try BrowserTruth.load("chromium-wrong-password")
        let result = truth.analyze("chromium-wrong-password", vantages: ["lanA"])
        let allocates = result.messages.filter { $0.message.method == .allocate }
        let authenticated = allocates.filter { $0.message.value(.username) == .text("alice") && $0.message.messageClass == .request }
        #expect(!authenticated.isEmpty)
        #expect(authenticated.allSatisfy { $0.integrity == .failed })
        #expect(!allocates.contains { $0.message.messageClass == .successResponse })
        #expect(allocates.contains { $0.message.value(.errorCode) == .errorCode(code: 401, reason: "Unauthorized") })
    }

    @Test("Network change: A's NAT moves to 198.51.100.3; the consent checks that follow go unanswered, tied to the change")
    func networkChange() throws {
        let scenario = "chromium-network-change"
        let truth = try BrowserTruth.load(scenario)
        // What the browsers said: connected, then disconnected by the end (no ICE restart was made).
        #expect(truth.a.iceConnectionState == "disconnected" && truth.b.iceConnectionState == "disconnected")
        for vantages in [["lanA", "wanA"], Self.vantages] {
            let result = truth.analyze(scenario, vantages: vantages)
            let before = try #require(IPAddress("198.51.100.2"))
            let change = try #require(result.mappingChanges.first { $0.current.ip == IPAddress("198.51.100.3") }, "\(vantages)")
            #expect(change.previous.ip == before && change.internalAddress.ip == IPAddress("10.1.0.2"))
            #expect(change.previous.port == change.current.port)  // MASQUERADE kept the port, only the address moved
            let finding = try #require(result.findings.first { $0.code == .consentInterrupted }, "\(vantages)")
            #expect(finding.severity == .error)
            #expect(finding.message.contains("to \(change.current)"))
            #expect(Verdict.sentence(result).contains("consent checks on the selected pair went unanswered"))
            // Nothing tells the wire's view from A's: a relayed check seen at A's LAN and as plain STUN past the
            // NAT (its allocation's 5-tuple changed) is no translation, so the NAT stays one NAT.
            #expect(result.vantageLinks.first { $0.inside == "lanA" && $0.outside == "wanA" }?.mappings.isEmpty == false)
        }
    }

    @Test("ICE restart: the new session replaces the old one at A's LAN (restartOf), both verified")
    func iceRestart() throws {
        let truth = try BrowserTruth.load("chromium-ice-restart")
        let result = truth.analyze("chromium-ice-restart", vantages: ["lanA"])
        let first = Set([truth.a.credentials.first?.ufrag, truth.b.credentials.first?.ufrag].compactMap { $0 })
        let old = try #require(result.iceSessions.first { Set($0.ufrags) == first })
        let new = try #require(Self.finalSession(result, truth))
        // Chromium sends its first new checks with the peer's old ufrag (before the answer): a session between,
        // linked by the shared ufrag; the chain from the final session leads back to the first.
        var chain: [String] = []
        var current: ICESession? = new
        while let session = current, let previous = session.restartOf, chain.count < 5 {
            chain.append(previous)
            current = result.iceSessions.first { $0.id == previous }
        }
        #expect(chain.last == old.id, "\(chain)")
        #expect(old.outcome == .connected && new.outcome == .connected)
    }
}

/// Chrome's own webrtc-internals dumps (made by the browser lab) as input: credentials and candidates from its
/// descriptions, and its selected pair set beside the wire's.
@Suite("webrtc-internals dumps")
struct WebRTCInternalsTests {
    /// Scenarios and peers whose browser is Chromium (Firefox has no such dump).
    static let dumps: [(String, String)] = BrowserFixtureTests.scenarios.flatMap { scenario in
        ["a", "b"].compactMap { peer in
            FileManager.default.fileExists(atPath: Fixtures.path("browser/\(scenario)/\(peer).webrtc-internals.json.gz"))
                ? (scenario, peer) : nil
        }
    }

    static func analyze(_ scenario: String, _ peer: String, dump: WebRTCInternalsDump) -> AnalysisResult {
        var store = CredentialStore()
        for sdp in dump.descriptions {
            for credentials in SDPCredentials.parse(sdp) { store.addICE(ufrag: credentials.ufrag, password: credentials.password) }
        }
        var options = Analyzer.Options(keepMessages: true, credentials: store)
        options.signalledCandidates = dump.descriptions.flatMap(SDPCandidates.parse)
        options.browserViews = dump.views
        let capture = Fixtures.path("browser/\(scenario)/\(peer)-lan.pcap")
        return Pipeline(analyzerOptions: options).analyze([InputSpec(path: capture, vantage: "lan\(peer.uppercased())")])
    }

    @Test("The dump alone verifies every check at the browser's LAN, and its selected pair is the wire's", arguments: dumps)
    func dumpAgrees(scenario: String, peer: String) throws {
        let dump = try WebRTCInternalsDump.read(path: Fixtures.path("browser/\(scenario)/\(peer).webrtc-internals.json.gz"))
        #expect(dump.views.count == 1)
        let truth = try BrowserTruth.load(scenario)
        let own = peer == "a" ? truth.a : truth.b
        #expect(Set(dump.views.first?.localUfrags ?? []) == Set(own.credentials.compactMap(\.ufrag)))
        let result = Self.analyze(scenario, peer, dump: dump)
        let checks = result.messages.filter { $0.message.method == .binding && $0.message.value(.priority) != nil }
        #expect(!checks.isEmpty)
        #expect(checks.allSatisfy { $0.integrity == .verified })
        // The dump's selected pair is the one getStats() gave the lab (same browser, same moment or later).
        let selected = try #require(dump.views.first?.selectedLocal)
        #expect(selected.address == own.selectedPair?.local.transportAddress)
        guard scenario != "chromium-network-change" else { return }  // the wire's last word there is the broken pair
        let comparison = try #require(result.browserComparisons.first)
        #expect(comparison.agrees, "\(comparison.differences)")
        #expect(!result.findings.contains { $0.code == .browserDisagrees })
    }

    @Test("A doctored dump (the selected local candidate's port changed) is reported as disagreeing")
    func doctored() throws {
        let scenario = "chromium-symmetric"
        let path = Fixtures.path("browser/\(scenario)/a.webrtc-internals.json.gz")
        let bytes = try CaptureFiles.readWhole(path: path, limit: 1 << 28)
        var root = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        var connections = try #require(root["PeerConnections"] as? [String: Any])
        let id = try #require(connections.keys.first)
        var connection = try #require(connections[id] as? [String: Any])
        var stats = try #require(connection["stats"] as? [String: Any])
        let original = try WebRTCInternalsDump.parse(bytes, source: "original")
        let port = try #require(original.views.first?.selectedLocal?.address?.port)
        // Every "-port" series whose last value is the selected local port: now port 9.
        for (key, value) in stats where key.hasSuffix("-port") {
            guard var series = value as? [String: Any], let text = series["values"] as? String,
                let values = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Int], values.last == Int(port)
            else { continue }
            series["values"] = String(decoding: try JSONSerialization.data(withJSONObject: values.map { _ in 9 }), as: UTF8.self)
            stats[key] = series
        }
        connection["stats"] = stats
        connections[id] = connection
        root["PeerConnections"] = connections
        let doctored = try WebRTCInternalsDump.parse([UInt8](try JSONSerialization.data(withJSONObject: root)), source: "doctored.json")
        let result = Self.analyze(scenario, "a", dump: doctored)
        let comparison = try #require(result.browserComparisons.first)
        #expect(!comparison.agrees)
        #expect(comparison.differences.contains { $0.hasPrefix("local candidate: the browser says 198.51.100.2:9, the wire 198.51.100.2:\(port)") })
        let finding = try #require(result.findings.first { $0.code == .browserDisagrees })
        #expect(finding.message.contains("doctored.json"))
    }
}
