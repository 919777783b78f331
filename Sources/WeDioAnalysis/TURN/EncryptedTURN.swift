import WeDioBasics

/// A TLS (TCP) or DTLS (UDP) connection to a TURN port (RFC 8656 §3.1: 5349 for TURN over TLS/DTLS, 443
/// where firewalls allow nothing else). Its content is encrypted, so only timing, byte counts and what the
/// ClientHello says in clear are known.
public struct EncryptedConnection: Sendable, Hashable {
    public var client: TransportAddress
    public var server: TransportAddress
    /// "tls" or "dtls".
    public var security: String
    public var firstTime: CaptureTime
    public var lastTime: CaptureTime
    public var bytesToServer = 0
    public var bytesFromServer = 0
    public var segmentsToServer = 0
    public var segmentsFromServer = 0
    public var vantage = ""
    /// The ClientHello's ALPN protocols and server name, when it was captured.
    public var protocols: [String] = []
    public var serverName: String?
    var sawClientHello = false
    /// Why it is taken for TURN (see `EncryptedTURNTable.turnOnly`).
    public var evidence = ""

    public var durationMilliseconds: Double { lastTime.milliseconds(since: firstTime) }
}

/// Encrypted connections to TURN ports, per flow, bounded by `Limits.encryptedConnections`.
public struct EncryptedTURNTable: Sendable {
    /// TURN over TLS/DTLS (5349, and 5350 for the alternate), and HTTPS's port that TURN servers also use.
    /// A switch, not a Set: this runs for every DTLS record of every call, and hashing cost more than the test.
    @inline(__always)
    public static func isTURNPort(_ port: UInt16) -> Bool {
        switch port {
        case 443, 5349, 5350: true
        default: false
        }
    }

    private var index: [FiveTuple: Int] = [:]
    public private(set) var connections: [EncryptedConnection] = []
    public private(set) var overflow = 0

    public init() {}

    /// Only the connections that are TURN by evidence: the ClientHello offers ALPN "stun.turn" (RFC 7443), or
    /// the port is TURN's own (5349, 5350), or (on 443) the server speaks STUN/TURN in clear in the capture and
    /// the ClientHello offers no other protocol. An HTTPS connection to 443 is none of these.
    public static func turnOnly(_ connections: [EncryptedConnection], clearServers: Set<IPAddress>) -> [EncryptedConnection] {
        connections.compactMap { connection in
            var kept = connection
            if connection.protocols.contains(ClientHello.turnProtocol) {
                kept.evidence = "ALPN stun.turn"
            } else if connection.server.port == 5349 || connection.server.port == 5350 {
                kept.evidence = "TURN port \(connection.server.port)"
            } else if clearServers.contains(connection.server.ip), connection.protocols.isEmpty {
                kept.evidence = "server also answers STUN/TURN in clear"
            } else {
                return nil
            }
            return kept
        }
    }

    public mutating func record(
        flow: FiveTuple, bytes: Int, time: CaptureTime, dtls: Bool, head: borrowing Span<UInt8>
    ) {
        let toServerPort = Self.isTURNPort(flow.destination.port)
        let fromServerPort = Self.isTURNPort(flow.source.port)
        guard toServerPort || fromServerPort else { return }
        let toServer = toServerPort && (!fromServerPort || flow.destination.port <= flow.source.port)
        let key = toServer ? flow : flow.reversed
        let position: Int
        if let existing = index[key] {
            position = existing
        } else {
            guard connections.count < Limits.encryptedConnections else {
                overflow += 1
                return
            }
            position = connections.count
            index[key] = position
            connections.append(
                EncryptedConnection(
                    client: key.source, server: key.destination, security: dtls ? "dtls" : "tls", firstTime: time, lastTime: time))
        }
        connections[position].lastTime = max(connections[position].lastTime, time)
        if toServer {
            if !connections[position].sawClientHello, connections[position].segmentsToServer < 4,
                let hello = ClientHello(head, dtls: dtls)
            {
                connections[position].sawClientHello = true
                connections[position].protocols = hello.protocols
                connections[position].serverName = hello.serverName
            }
            connections[position].bytesToServer += bytes
            connections[position].segmentsToServer += 1
        } else {
            connections[position].bytesFromServer += bytes
            connections[position].segmentsFromServer += 1
        }
    }
}
