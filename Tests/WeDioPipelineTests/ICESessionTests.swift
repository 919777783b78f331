import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// ICE sessions reconstructed from each lab capture, against what the agents reported (truth.json).
@Suite("ICE sessions against the lab's truth")
struct ICESessionTests {
    static func truth(_ scenario: String) throws -> LabTruth { try LabTruth.load(scenario) }

    static func address(_ candidate: LabTruth.Candidate) -> String {
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
        // aioice reports its own end by its base (the host address); inside a NAT the pair's candidate is the
        // one the peer's answers name (RFC 8445 §7.2.5.3.2, as libwebrtc and Firefox report it): the agent's
        // server-reflexive candidate when it has that address, else a peer-reflexive one.
        func expected(_ candidate: LabTruth.Candidate, named: TransportAddress, wire: TransportAddress) -> String {
            guard named != wire else { return candidate.type }
            let own = agent.localCandidates.first { Self.address($0) == named.description }
            return own?.type == "srflx" ? "srflx" : "prflx"
        }
        #expect(selected.localType?.rawValue == expected(local, named: selected.localNamed, wire: selected.local), "\(scenario) \(agentName) local \(selected.local)")
        #expect(selected.remoteType?.rawValue == expected(remote, named: selected.remoteNamed, wire: selected.remote), "\(scenario) \(agentName) remote \(selected.remote)")
        // Only the capture's own agent sits behind a NAT from here: the peer's end is named as the wire shows it.
        if agent.ufrag == controllingUfrag {
            #expect(selected.remoteCandidate == nil)
        } else {
            #expect(selected.localCandidate == nil)
        }
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

/// Sessions found in public captures, checked by hand against tshark's per-packet view
/// (`tshark -Y stun -T fields -e frame.number -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e stun.type
/// -e stun.att.username -e stun.att.type`).
@Suite("ICE sessions in the public corpus", .enabled(if: Fixtures.corpusIsPresent, "../shared/corpus/public is absent"))
struct CorpusICETests {
    static func sessions(_ file: String) -> [ICESession] {
        Pipeline().analyze([InputSpec(path: Fixtures.corpus(file))]).iceSessions
    }

    @Test("Zeek's WebRTC trace: one session, 31e58bb6 controlling, frame 1's USE-CANDIDATE check answered in frame 2")
    func zeekWebRTC() throws {
        let sessions = Self.sessions("zeek__webrtc-stun.pcap")
        #expect(sessions.count == 1)
        let session = try #require(sessions.first)
        #expect(session.ufrags == ["31e58bb6", "Tw5XmGABTU55u6F2"])
        #expect(session.controlling == "31e58bb6")
        #expect(session.controlled == "Tw5XmGABTU55u6F2")
        #expect(session.pairs.count == 1)
        let pair = try #require(session.selectedPair)
        #expect(pair.local.description == "192.168.6.82:51462")
        #expect(pair.remote.description == "74.201.205.9:43044")
        #expect(pair.checks == 5 && pair.responses == 5)
        // The answers name 192.168.6.82:51462 by a public address no STUN server gave it in this capture: the
        // browser's candidate for this pair is peer-reflexive (its own getStats() would say "prflx").
        #expect(pair.localType == .prflx)
        #expect(pair.localCandidate != nil && pair.localCandidate != pair.local)
    }

    @Test("Signal (libwebrtc): two sessions nominated with 0xC001 NOMINATION instead of USE-CANDIDATE")
    func signalRenomination() throws {
        let sessions = Self.sessions("nDPI__stun_signal.pcapng")
        #expect(sessions.count == 2)
        #expect(sessions.allSatisfy { $0.outcome == .connected && $0.selectedPair != nil })
        #expect(sessions.first?.selectedPair?.local.description == "192.168.12.169:43068")
        #expect(sessions.first?.selectedPair?.remote.description == "18.195.131.143:61156")
    }

    @Test("GOOG-NETWORK-INFO per agent (geforcenow: network 0, cost 999 from the client's checks)")
    func networkInfo() throws {
        let session = try #require(Self.sessions("nDPI__geforcenow.pcapng").first)
        let client = try #require(session.controlling)
        #expect(session.networkInfo[client] == ICESession.NetworkInfo(networkID: 0, cost: 999))
    }

    @Test("Google Meet: the server is ICE-lite (never checks), so its candidates are host candidates")
    func googleMeetLite() throws {
        let sessions = Self.sessions("nDPI__stun_google_meet.pcapng")
        #expect(!sessions.isEmpty)
        for session in sessions {
            #expect(session.controlled == nil)
            let lite = session.ufrags.last ?? ""
            #expect(session.candidates.filter { $0.agent == lite }.allSatisfy { $0.type == .host })
        }
    }
}

@Suite("Media and consent on the selected pair")
struct MediaConsentTests {
    @Test("aiortc call: SRTP both ways, DTLS started by the DTLS client, consent checks every few seconds, all answered")
    func call() throws {
        let truth = try ICESessionTests.truth("aiortc-call")
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/aiortc-call/a-inside.pcap"))])
        let session = try #require(result.iceSessions.first)
        let media = try #require(session.media)
        #expect(media.rtpPackets.allSatisfy { $0 > 500 })
        #expect(media.rtcpPackets.allSatisfy { $0 > 10 })
        #expect(media.dtlsRecords.total > 10)
        #expect(media.ssrcs.count >= 2)
        #expect(media.payloadTypeList.contains(96) || media.payloadTypeList.contains(97))
        #expect(media.rtpLost.total == 0)
        let direction = try #require(media.clientHelloDirection)
        let helloFrom = direction == 0 ? media.flow.source : media.flow.destination
        let selected = try #require(session.selectedPair)
        // From A's side: the DTLS client is whichever agent truth says; its address on the pair sent the ClientHello.
        let dtlsClient = try #require(truth.agents.first { $0.dtlsRole == "client" })
        let clientIsA = dtlsClient.agent == "A"
        #expect(helloFrom == (clientIsA ? selected.local : selected.remote))
        #expect(media.firstApplicationData != nil)
        #expect((session.timeToFirstMediaMilliseconds ?? -1) > 0)
        let consent = try #require(session.consent)
        #expect(consent.checks >= 2)
        #expect(consent.answered == consent.checks)
        #expect(!consent.lost)
        #expect((2_000...6_000).contains(consent.medianIntervalMilliseconds ?? 0))
    }
}

@Suite("Restarts are not guessed from a shared ufrag alone")
struct RestartLinkTests {
    @Test("A server that reuses its ufrag for every client: clients' sessions stay separate calls (ice-dense's shape)")
    func sharedServerUfrag() {
        var capture = SyntheticCapture()
        for (second, client) in [(0.0, "10.0.0.1:5000"), (1.0, "10.0.0.2:5000"), (2.0, "10.0.0.3:5000")] {
            let id = capture.newID()
            let local = "c" + client.prefix(8).suffix(1)
            capture.add(.binding, .request, id: id, from: client, to: "192.0.2.9:3478", at: second, SyntheticCapture.check(local: local, remote: "srv"))
            capture.add(
                .binding, .successResponse, id: id, from: "192.0.2.9:3478", to: client, at: second + 0.001,
                [SyntheticCapture.address(.xorMappedAddress, client)])
        }
        let result = Pipeline().analyze(bytes: capture.bytes)
        #expect(result.iceSessions.count == 3)
        #expect(result.iceSessions.allSatisfy { $0.restartOf == nil })
        #expect(result.calls.count == 3)
    }
}
