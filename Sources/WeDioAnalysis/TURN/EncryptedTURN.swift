import WeDioBasics

/// A TLS (TCP) or DTLS (UDP) connection to a TURN port (RFC 8656 §3.1: 5349 for TURN over TLS/DTLS, 443
/// where firewalls allow nothing else). Its content is encrypted, so only timing and byte counts are known.
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

    public mutating func record(flow: FiveTuple, bytes: Int, time: CaptureTime, dtls: Bool) {
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
            connections[position].bytesToServer += bytes
            connections[position].segmentsToServer += 1
        } else {
            connections[position].bytesFromServer += bytes
            connections[position].segmentsFromServer += 1
        }
    }
}
