import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioReport
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// RFC 6062 TCP relaying, TURN over TLS, and ICE restarts, on synthetic captures (the lab's coturn and aioice
/// do not stage these). The TURN messages travel in UDP datagrams here: the tracker follows flows and
/// transaction ids, whatever carried them (TCP framing has its own tests).
@Suite("RFC 6062, encrypted TURN, ICE restart")
struct TURNTCPTests {
    static let control = "10.0.0.5:5000"
    static let data = "10.0.0.5:5001"
    static let server = "192.0.2.1:3478"
    static let peer = "203.0.113.9:80"

    static func allocated() -> SyntheticCapture {
        var capture = SyntheticCapture()
        let id = capture.newID()
        capture.add(
            .allocate, .request, id: id, from: control, to: server, at: 0,
            [STUNAttribute(type: .requestedTransport, value: .requestedTransport(6))])
        capture.add(
            .allocate, .successResponse, id: id, from: server, to: control, at: 0.01,
            [SyntheticCapture.address(.xorRelayedAddress, "192.0.2.1:50000"), STUNAttribute(type: .lifetime, value: .uint32(600))])
        return capture
    }

    static func bind(_ capture: inout SyntheticCapture, connection: UInt32, at second: Double, error: Int? = nil) {
        let id = capture.newID()
        capture.add(
            .connectionBind, .request, id: id, from: data, to: server, at: second,
            [STUNAttribute(type: .connectionID, value: .uint32(connection))])
        if let error {
            capture.add(.connectionBind, .errorResponse, id: id, from: server, to: data, at: second + 0.01, [SyntheticCapture.error(error, "Bad Request")])
        } else {
            capture.add(.connectionBind, .successResponse, id: id, from: server, to: data, at: second + 0.01)
        }
    }

    @Test("Client-initiated: Connect → CONNECTION-ID, ConnectionBind on a new connection joins it")
    func clientConnect() throws {
        var capture = Self.allocated()
        let connect = capture.newID()
        capture.add(.connect, .request, id: connect, from: Self.control, to: Self.server, at: 1, [SyntheticCapture.address(.xorPeerAddress, Self.peer)])
        capture.add(
            .connect, .successResponse, id: connect, from: Self.server, to: Self.control, at: 1.05,
            [STUNAttribute(type: .connectionID, value: .uint32(0x1234))])
        Self.bind(&capture, connection: 0x1234, at: 1.1)
        let allocation = try #require(Pipeline().analyze(bytes: capture.bytes).turnAllocations.first)
        #expect(allocation.requestedTransport == 6)
        let connection = try #require(allocation.tcpConnections.first)
        #expect(allocation.tcpConnections.count == 1)
        #expect(connection.connectionID == 0x1234)
        #expect(connection.peer.description == Self.peer)
        #expect(connection.initiator == .client)
        #expect(connection.established == CaptureTime(seconds: 1_700_000_001, nanoseconds: 50_000_000))
        #expect(connection.dataConnection?.source.description == Self.data)
        #expect(connection.bound == CaptureTime(seconds: 1_700_000_001, nanoseconds: 110_000_000))
    }

    @Test("After ConnectionBind succeeds, the data connection carries the peer's raw bytes: counted per direction, never framed as STUN")
    func dataConnection() throws {
        var capture = Self.allocated()
        let connect = capture.newID()
        capture.add(.connect, .request, id: connect, from: Self.control, to: Self.server, at: 1, [SyntheticCapture.address(.xorPeerAddress, Self.peer)])
        capture.add(
            .connect, .successResponse, id: connect, from: Self.server, to: Self.control, at: 1.05,
            [STUNAttribute(type: .connectionID, value: .uint32(0x1234))])
        // The data connection is TCP: ConnectionBind and its answer framed as STUN, then raw data both ways.
        let client = try #require(TransportAddress(Self.data))
        let server = try #require(TransportAddress(Self.server))
        let id = capture.newID()
        let request = STUNEncoder.encode(
            STUNMessage(
                method: .connectionBind, messageClass: .request, transactionID: id,
                attributes: [STUNAttribute(type: .connectionID, value: .uint32(0x1234))]), key: nil)
        let answer = STUNEncoder.encode(
            STUNMessage(method: .connectionBind, messageClass: .successResponse, transactionID: id, attributes: []), key: nil)
        // Peer data that starts like a STUN header (an HTTP server's bytes could be anything).
        let up = [UInt8]([0x00, 0x01, 0x00, 0x5C]) + [UInt8](repeating: 0x41, count: 96)
        let down = [UInt8]([0x01, 0x01, 0x00, 0x2E]) + [UInt8](repeating: 0x42, count: 46)
        capture.addFrame(PacketBuilder.tcpFrame(from: client, to: server, sequence: 1, payload: request), at: 1.1)
        capture.addFrame(PacketBuilder.tcpFrame(from: server, to: client, sequence: 1, payload: answer + down.prefix(10)), at: 1.11)
        capture.addFrame(PacketBuilder.tcpFrame(from: client, to: server, sequence: 1 + UInt32(request.count), payload: up), at: 1.2)
        capture.addFrame(
            PacketBuilder.tcpFrame(from: server, to: client, sequence: 1 + UInt32(answer.count + 10), payload: Array(down.dropFirst(10))),
            at: 1.3)
        let result = Pipeline().analyze(bytes: capture.bytes)
        let connection = try #require(result.turnAllocations.first?.tcpConnections.first)
        #expect(connection.bound != nil)
        #expect(connection.bytesToPeer == 100)
        #expect(connection.bytesFromPeer == 50)
        #expect(result.statistics.turnTCPDataBytes == 150)
        #expect(result.statistics.malformed == 0)
        #expect(result.inputs.first?.errors.isEmpty == true, "\(result.inputs.first?.errors ?? [:])")
        let json = try JSONReport(toolVersion: "test", includeMessages: false).render(result)
        #expect(json.contains("\"bytesToPeer\" : 100"))
    }

    @Test(
        "coturn's RFC 6062 client to client (lab): both data connections bound, their raw bytes counted as tshark sums their TCP payloads, nothing malformed",
        .enabled(if: Tshark.isInstalled, "tshark is the oracle"))
    func coturnDataConnections() throws {
        let path = Fixtures.path("ice/turn-tcp-relay/a-inside.pcap")
        let result = Pipeline().analyze([InputSpec(path: path)])
        let connections = result.turnAllocations.flatMap(\.tcpConnections)
        #expect(connections.map(\.initiator).sorted { $0.rawValue < $1.rawValue } == [.client, .peer])
        #expect(result.statistics.malformed == 0)
        #expect(result.inputs.first?.errors.isEmpty == true, "\(result.inputs.first?.errors ?? [:])")
        for connection in connections {
            let flow = try #require(connection.dataConnection)
            // The oracle: every TCP payload byte on that connection after the ConnectionBind exchange.
            let rows = try Tshark.fields(
                path, ["tcp.srcport", "tcp.len", "frame.number"],
                filter: "tcp.port == \(flow.source.port) && tcp.len > 0 && !stun")
            var up = 0
            var down = 0
            for row in rows where row.count == 3 {
                if Int(row[0]) == Int(flow.source.port) { up += Int(row[1]) ?? 0 } else { down += Int(row[1]) ?? 0 }
            }
            #expect(up == 500 && down == 500, "tshark: \(up) up, \(down) down")
            #expect(connection.bytesToPeer == up)
            #expect(connection.bytesFromPeer == down)
        }
    }

    @Test("Peer-initiated: ConnectionAttempt, then ConnectionBind; a refused Connect keeps its error")
    func peerAttemptAndRefusal() throws {
        var capture = Self.allocated()
        capture.add(
            .connectionAttempt, .indication, id: capture.newID(), from: Self.server, to: Self.control, at: 2,
            [STUNAttribute(type: .connectionID, value: .uint32(7)), SyntheticCapture.address(.xorPeerAddress, "203.0.113.10:4444")])
        Self.bind(&capture, connection: 7, at: 2.1)
        let connect = capture.newID()
        capture.add(.connect, .request, id: connect, from: Self.control, to: Self.server, at: 3, [SyntheticCapture.address(.xorPeerAddress, Self.peer)])
        capture.add(
            .connect, .errorResponse, id: connect, from: Self.server, to: Self.control, at: 3.5,
            [SyntheticCapture.error(447, "Connection Timeout or Failure")])
        let allocation = try #require(Pipeline().analyze(bytes: capture.bytes).turnAllocations.first)
        #expect(allocation.tcpConnections.map(\.initiator) == [.peer, .client])
        #expect(allocation.tcpConnections.first?.connectionID == 7)
        #expect(allocation.tcpConnections.first?.bound != nil)
        #expect(allocation.tcpConnections.last?.errorCode == 447)
        #expect(allocation.tcpConnections.last?.established == nil)
    }

    @Test("TLS to port 5349 is an encrypted TURN connection with its timing and bytes per direction")
    func encryptedTURN() throws {
        var capture = SyntheticCapture()
        let client = try #require(TransportAddress("10.0.0.5:40000"))
        let server = try #require(TransportAddress("192.0.2.1:5349"))
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00]
        let answer: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x06, 0x02, 0x00, 0x00, 0x02, 0x03, 0x03]
        capture.addFrame(PacketBuilder.tcpFrame(from: client, to: server, sequence: 1, payload: hello), at: 0)
        capture.addFrame(PacketBuilder.tcpFrame(from: server, to: client, sequence: 1, payload: answer), at: 0.02)
        capture.addFrame(PacketBuilder.tcpFrame(from: client, to: server, sequence: 10, payload: [0x17, 0x03, 0x03, 0x00, 0x02, 0xAA, 0xBB]), at: 2)
        let result = Pipeline().analyze(bytes: capture.bytes)
        let connection = try #require(result.encryptedTURN.first)
        #expect(result.encryptedTURN.count == 1)
        #expect(connection.client == client && connection.server == server)
        #expect(connection.security == "tls")
        #expect(connection.bytesToServer == hello.count + 7)
        #expect(connection.bytesFromServer == answer.count)
        #expect(connection.durationMilliseconds == 2_000)
        #expect(connection.evidence == "TURN port 5349")
    }

    /// A TLS ClientHello (or a DTLS one) offering `alpn` for `serverName`.
    static func clientHello(alpn: [String], serverName: String?, dtls: Bool = false) -> [UInt8] {
        var extensions: [UInt8] = []
        func add(_ type: UInt16, _ body: [UInt8]) {
            extensions.appendBigEndian(type)
            extensions.appendBigEndian(UInt16(body.count))
            extensions += body
        }
        if let serverName {
            let name = Array(serverName.utf8)
            var body: [UInt8] = []
            body.appendBigEndian(UInt16(name.count + 3))
            body.append(0)
            body.appendBigEndian(UInt16(name.count))
            add(0, body + name)
        }
        if !alpn.isEmpty {
            let list = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            var body: [UInt8] = []
            body.appendBigEndian(UInt16(list.count))
            add(16, body + list)
        }
        if dtls { add(14, [0, 2, 0, 1, 0]) }  // use_srtp, as WebRTC's DTLS offers it
        var hello: [UInt8] = [0xFE, 0xFD] + [UInt8](repeating: 7, count: 32) + [0]  // version, random, session id
        if dtls { hello.append(0) }  // empty cookie
        hello += [0, 2, 0x13, 0x01, 1, 0]  // one cipher suite, null compression
        hello.appendBigEndian(UInt16(extensions.count))
        hello += extensions
        var handshake: [UInt8] = [1, 0, UInt8(hello.count >> 8), UInt8(hello.count & 0xFF)]
        if dtls { handshake += [0, 0, 0, 0, 0, 0, UInt8(hello.count >> 8), UInt8(hello.count & 0xFF)] }
        handshake += hello
        var record: [UInt8] = dtls ? [22, 0xFE, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0] : [22, 3, 1]
        record.appendBigEndian(UInt16(handshake.count))
        return record + handshake
    }

    @Test(
        "TLS or DTLS to 443 is TURN only on evidence: ALPN stun.turn, or a server that answers STUN in clear; HTTPS and a DTLS media port are not",
        arguments: [
            (["h2", "http/1.1"], "www.example.com", false, false, nil),
            (["stun.turn"], "turn.example.com", false, false, "ALPN stun.turn"),
            ([], nil, true, false, "server also answers STUN/TURN in clear"),
            (["h2"], "turn.example.com", true, false, nil),
            ([], nil, false, false, nil),
            ([], nil, false, true, nil),
            (["stun.turn"], nil, false, true, "ALPN stun.turn"),
        ] as [([String], String?, Bool, Bool, String?)])
    func tlsOn443(alpn: [String], serverName: String?, stunInClear: Bool, dtls: Bool, evidence: String?) throws {
        var capture = SyntheticCapture()
        let client = try #require(TransportAddress("10.0.0.5:40000"))
        let server = try #require(TransportAddress("192.0.2.1:443"))
        if stunInClear { capture.answeredBinding(from: "10.0.0.5:5000", to: "192.0.2.1:3478", mapped: "198.51.100.1:5000", at: 0) }
        let hello = Self.clientHello(alpn: alpn, serverName: serverName, dtls: dtls)
        capture.addFrame(
            dtls
                ? PacketBuilder.udpFrame(from: client, to: server, payload: hello)
                : PacketBuilder.tcpFrame(from: client, to: server, sequence: 1, payload: hello), at: 1)
        let result = Pipeline().analyze(bytes: capture.bytes)
        #expect(result.encryptedTURN.first?.evidence == evidence)
        #expect(result.encryptedTURN.count == (evidence == nil ? 0 : 1))
        if evidence != nil {
            #expect(result.encryptedTURN.first?.protocols == alpn)
            #expect(result.encryptedTURN.first?.serverName == serverName)
        }
    }

    @Test("An ICE restart (new ufrags on the same addresses) is a new session linked to the old")
    func iceRestart() throws {
        var capture = SyntheticCapture()
        for (second, local, remote) in [(0.0, "AAAA", "BBBB"), (0.5, "AAAA", "BBBB"), (10.0, "CCCC", "DDDD"), (10.5, "CCCC", "DDDD")] {
            capture.answeredBinding(
                from: "10.0.0.5:5000", to: "10.0.0.9:9000", mapped: "10.0.0.5:5000", at: second, after: 0.002,
                SyntheticCapture.check(local: local, remote: remote, nominate: true))
        }
        let result = Pipeline().analyze(bytes: capture.bytes)
        #expect(result.iceSessions.count == 2)
        #expect(result.iceSessions.first?.restartOf == nil)
        #expect(result.iceSessions.last?.restartOf == result.iceSessions.first?.id)
        let event = try #require(result.timeline.events.first { $0.kind == .iceRestart })
        #expect(event.time == CaptureTime(seconds: 1_700_000_010))
    }
}

@Suite("TURN seen from the peer's side")
struct PeerSideTests {
    @Test("Relay scenario, A and B inside: each allocation's relayed address is found in the other capture")
    func peerSide() throws {
        let result = Pipeline().analyze([
            InputSpec(path: Fixtures.path("ice/relay-turn/a-inside.pcap"), vantage: "a"),
            InputSpec(path: Fixtures.path("ice/relay-turn/b-inside.pcap"), vantage: "b"),
        ])
        let a = try #require(result.turnAllocations.first { $0.id == "a/alloc-1" })
        let fromB = try #require(a.peerSide.first)
        #expect(a.peerSide.count == 1)
        #expect(fromB.vantage == "b" && fromB.relayed.description == "192.0.2.10:49336")
        #expect(fromB.peer.description == "10.2.0.2:38617")
        // B's check to A's relayed address and A's check to B, relayed: both seen at B as plain STUN.
        #expect(fromB.stunTransactions == 2)
        let b = try #require(result.turnAllocations.first { $0.id == "b/alloc-1" })
        #expect(b.peerSide.map(\.peer.description) == ["10.1.0.2:51936"])
        #expect(b.peerSide.first?.stunTransactions == 1)
        #expect(b.peerSide.first?.vantage == "a")
    }
}

@Suite("TURN allocation attributes and media per pair")
struct AllocationDetailTests {
    @Test("EVEN-PORT with R, RESERVATION-TOKEN granted, a dual-family request with one family refused")
    func evenPortAndFamilies() throws {
        var capture = SyntheticCapture()
        let id = capture.newID()
        capture.add(
            .allocate, .request, id: id, from: "10.0.0.5:5000", to: "192.0.2.1:3478", at: 0,
            [
                STUNAttribute(type: .requestedTransport, value: .requestedTransport(17)),
                STUNAttribute(type: .evenPort, value: .evenPort(reserveNext: true)),
                STUNAttribute(type: .additionalAddressFamily, value: .addressFamily(2)),
            ])
        capture.add(
            .allocate, .successResponse, id: id, from: "192.0.2.1:3478", to: "10.0.0.5:5000", at: 0.01,
            [
                SyntheticCapture.address(.xorRelayedAddress, "192.0.2.1:50000"),
                STUNAttribute(type: .reservationToken, value: .uint64(0x0102_0304_0506_0708)),
                STUNAttribute(type: .addressErrorCode, value: .addressErrorCode(family: 2, code: 440, reason: "Address Family not Supported")),
            ])
        let allocation = try #require(Pipeline().analyze(bytes: capture.bytes).turnAllocations.first)
        #expect(allocation.evenPort == true)
        #expect(allocation.reservationToken == 0x0102_0304_0506_0708)
        #expect(allocation.requestedFamilies == [2])
        #expect(allocation.addressErrors.map(\.code) == [440])
        #expect(allocation.relayedAddresses.map(\.description) == ["192.0.2.1:50000"])
    }

    @Test("aiortc call: media is counted on every pair that carried it; the failed pairs carried none")
    func mediaPerPair() throws {
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/aiortc-call/a-inside.pcap"))])
        let session = try #require(result.iceSessions.first)
        let selected = try #require(session.selectedPair)
        let onPair = try #require(session.pairs.first { $0.local == selected.local && $0.remote == selected.remote }?.media)
        #expect(onPair.rtpPackets.total == session.media?.rtpPackets.total)
        #expect(onPair.rtpPackets.total > 100)
        for pair in session.pairs where pair.state == .failed { #expect(pair.media == nil) }
    }
}

@Suite("Signalled candidates (--sdp)")
struct SignalledCandidateTests {
    @Test("a=candidate lines: fields, raddr/rport, the section's ufrag; mDNS names and unknown types skipped")
    func parse() throws {
        let sdp = """
            v=0\r
            a=ice-ufrag:sess\r
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r
            a=ice-ufrag:abcd\r
            a=candidate:1 1 udp 2130706431 10.0.0.5 5000 typ host\r
            a=candidate:2 1 udp 1694498815 198.51.100.7 40000 typ srflx raddr 10.0.0.5 rport 5000\r
            a=candidate:3 1 udp 2130706431 3f1c2b.local 5001 typ host\r
            a=candidate:4 1 tcp 1518280447 10.0.0.5 9 typ host tcptype active\r
            a=candidate:5 1 udp 1 10.0.0.5 1 typ weird\r
            """
        let candidates = SDPCandidates.parse(sdp)
        #expect(candidates.map(\.foundation) == ["1", "2", "4"])
        #expect(candidates.allSatisfy { $0.ufrag == "abcd" })
        #expect(candidates[1].type == .srflx && candidates[1].priority == 1_694_498_815)
        #expect(candidates[1].related?.description == "10.0.0.5:5000")
        #expect(candidates[2].transport == .tcp)
    }

    @Test("aiortc call with both SDPs: every wire candidate has the signalled type it was inferred as, and the SDP priority")
    func aiortcCall() throws {
        let truth = try LabTruth.load("aiortc-call")
        var options = Analyzer.Options()
        options.signalledCandidates = truth.agents.flatMap { SDPCandidates.parse($0.sdp ?? "") }
        let result = Pipeline(analyzerOptions: options).analyze([InputSpec(path: Fixtures.path("ice/aiortc-call/a-inside.pcap"))])
        let candidates = try #require(result.iceSessions.first?.candidates)
        // A's host, B's host and server-reflexive candidates as checked, and A's server-reflexive one (gathered
        // from the socket its checks use, and named by B's answers).
        #expect(candidates.count == 4)
        #expect(candidates.filter(\.gathered).map(\.type) == [.srflx])
        for candidate in candidates {
            #expect(candidate.signalledType == candidate.type, "\(candidate.address)")
        }
        // On the wire A's checks carry the peer-reflexive preference (RFC 8445 §7.1.1); the SDP has the host's.
        let host = try #require(candidates.first { $0.address.description == "10.1.0.2:52966" })
        #expect(host.priority == 1_862_270_975 && host.signalledPriority == 2_130_706_431)
        // The report's own encoder writes the SDP fields as Foundation does.
        let report = JSONReport(toolVersion: "test", includeMessages: false)
        let json = try report.render(result)
        #expect(json.contains("\"sdpPriority\" : 2130706431"))
        #expect(try json == report.renderWithFoundation(result))
    }
}

@Suite("Hairpinning and lapsed TURN state")
struct HairpinAndExpiryTests {
    @Test("A request from inside to the NAT's own external address, answered: hairpinning")
    func hairpin() throws {
        var capture = SyntheticCapture()
        capture.answeredBinding(from: "10.0.0.5:5000", to: "192.0.2.1:3478", mapped: "198.51.100.7:40000", at: 0)
        capture.answeredBinding(from: "10.0.0.6:6000", to: "198.51.100.7:40000", mapped: "198.51.100.7:41000", at: 1)
        let result = Pipeline().analyze(bytes: capture.bytes)
        let behaviour = try #require(result.natBehaviour.first)
        #expect(behaviour.externalIP.description == "198.51.100.7")
        #expect(behaviour.hairpinning == true)
    }

    @Test("A permission and a channel never refreshed lapse at 300 s and 600 s on the timeline")
    func lapsed() throws {
        var capture = SyntheticCapture()
        let allocate = capture.newID()
        capture.add(.allocate, .request, id: allocate, from: "10.0.0.5:5000", to: "192.0.2.1:3478", at: 0)
        capture.add(
            .allocate, .successResponse, id: allocate, from: "192.0.2.1:3478", to: "10.0.0.5:5000", at: 0,
            [SyntheticCapture.address(.xorRelayedAddress, "192.0.2.1:50000"), STUNAttribute(type: .lifetime, value: .uint32(3600))])
        let bind = capture.newID()
        capture.add(
            .channelBind, .request, id: bind, from: "10.0.0.5:5000", to: "192.0.2.1:3478", at: 1,
            [STUNAttribute(type: .channelNumber, value: .channelNumber(0x4000)), SyntheticCapture.address(.xorPeerAddress, "203.0.113.9:9000")])
        capture.add(.channelBind, .successResponse, id: bind, from: "192.0.2.1:3478", to: "10.0.0.5:5000", at: 1)
        capture.add(.binding, .request, id: capture.newID(), from: "10.0.0.6:6000", to: "10.0.0.7:7000", at: 700)
        let events = Pipeline().analyze(bytes: capture.bytes).timeline.events
        let permission = try #require(events.first { $0.kind == .turnPermissionExpired })
        #expect(permission.time == CaptureTime(seconds: 1_700_000_301))
        let channel = try #require(events.first { $0.kind == .turnChannelExpired })
        #expect(channel.time == CaptureTime(seconds: 1_700_000_601))
    }
}
