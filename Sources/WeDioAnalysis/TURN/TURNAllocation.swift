import WeDioBasics
import WeDioSTUN

/// How an allocation ended (RFC 8656 §7).
public enum AllocationEnd: String, Sendable, Hashable {
    /// Refresh with LIFETIME 0 answered with success.
    case deleted
    /// The lifetime ran out before the capture ended, with no successful Refresh.
    case expired
    /// Still within its lifetime when the capture ended.
    case alive
    /// Never granted: every Allocate was refused.
    case failed
}

/// A permission for one peer IP (RFC 8656 §9): 300 s, refreshed by CreatePermission or ChannelBind.
public struct TURNPermission: Sendable, Hashable {
    public var peer: IPAddress
    public var installedBy: STUNMethod
    public var installed: CaptureTime
    public var lastRefreshed: CaptureTime
    public var refreshes = 0
    public var expires: CaptureTime { lastRefreshed.adding(milliseconds: 300_000) }
}

/// A channel binding (RFC 8656 §12): 600 s, refreshed by another ChannelBind.
public struct TURNChannel: Sendable, Hashable {
    public var number: UInt16
    public var peer: TransportAddress
    public var bound: CaptureTime
    public var lastRefreshed: CaptureTime
    public var expires: CaptureTime { lastRefreshed.adding(milliseconds: 600_000) }
}

/// An RFC 6062 TCP connection to a peer: opened by the client (Connect) or by the peer (ConnectionAttempt),
/// then joined to a new client TCP connection by ConnectionBind.
public struct TURNTCPConnection: Sendable, Hashable {
    public enum Initiator: String, Sendable, Hashable {
        case client, peer
    }

    public var connectionID: UInt32?
    public var peer: TransportAddress
    public var initiator: Initiator
    public var requested: CaptureTime
    /// Connect answered with success (client-initiated), or the ConnectionAttempt (peer-initiated).
    public var established: CaptureTime?
    /// Connect refused: 446 Connection Already Exists, 447 Connection Timeout or Failure, …
    public var errorCode: Int?
    /// The client's data connection (client → server) and when ConnectionBind succeeded on it.
    public var dataConnection: FiveTuple?
    public var bound: CaptureTime?
    public var bindErrorCode: Int?
    /// Peer data carried on the data connection after ConnectionBind (TCP payload bytes, each direction).
    public var bytesToPeer = 0
    public var bytesFromPeer = 0
}

/// What a vantage point on the relay's other side (a capture on the TURN server, or at the peer) saw to and
/// from the allocation's relayed address: the same traffic, unwrapped.
public struct PeerSideTraffic: Sendable, Hashable {
    public var vantage: String
    public var relayed: TransportAddress
    public var peer: TransportAddress
    /// STUN transactions (ICE checks) between the relayed address and the peer.
    public var stunTransactions = 0
    /// DTLS, RTP and RTCP packets and bytes, from the relayed address to the peer and back.
    public var mediaPacketsToPeer = 0
    public var mediaBytesToPeer = 0
    public var mediaPacketsFromPeer = 0
    public var mediaBytesFromPeer = 0
    public var firstTime: CaptureTime
    public var lastTime: CaptureTime
}

/// Traffic relayed to and from one peer.
public struct RelayedCounters: Sendable, Hashable {
    public var packetsToPeer = 0
    public var bytesToPeer = 0
    public var packetsFromPeer = 0
    public var bytesFromPeer = 0

    public init(packetsToPeer: Int = 0, bytesToPeer: Int = 0, packetsFromPeer: Int = 0, bytesFromPeer: Int = 0) {
        self.packetsToPeer = packetsToPeer
        self.bytesToPeer = bytesToPeer
        self.packetsFromPeer = packetsFromPeer
        self.bytesFromPeer = bytesFromPeer
    }
}

/// One TURN allocation: a client 5-tuple at a server, its authentication, lifetime and relaying.
public struct TURNAllocation: Sendable, Hashable {
    public var id: String
    public var client: TransportAddress
    public var server: TransportAddress
    public var transport: Transport
    public var username: String?
    public var realm: String?
    public var requestedTransport: UInt8?
    /// REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY asked for (1 IPv4, 2 IPv6; RFC 8656 §7.1).
    public var requestedFamilies: [UInt8] = []
    /// ADDRESS-ERROR-CODE: a family the server could not relay (dual allocation half refused).
    public var addressErrors: [(family: UInt8, code: Int)] = []
    /// EVEN-PORT asked (with the R bit: reserve the next port) and the RESERVATION-TOKEN granted, or used.
    public var evenPort: Bool?
    public var reservationToken: UInt64?
    public var usedReservationToken: UInt64?
    public var relayedAddresses: [TransportAddress] = []
    public var mappedAddress: TransportAddress?
    public var lifetimeSeconds: UInt32?
    public var firstRequest: CaptureTime
    public var created: CaptureTime?
    public var expires: CaptureTime?
    public var ended: CaptureTime?
    public var end: AllocationEnd = .alive
    /// Allocate errors in order (401 challenge, 438 stale nonce, …).
    public var allocateErrors: [Int] = []
    /// 401 answered to a request that carried credentials: the credentials were refused.
    public var credentialsRefused = 0
    public var refreshes: [(time: CaptureTime, asked: UInt32?, granted: UInt32?)] = []
    public var permissions: [TURNPermission] = []
    public var channels: [TURNChannel] = []
    public var relayed: [TransportAddress: RelayedCounters] = [:]
    /// Data sent to a peer without a permission in force at that moment.
    public var sendsWithoutPermission = 0
    /// ChannelData on a channel not bound at that moment.
    public var unboundChannelData = 0
    /// The first of those datagrams (packet and time), for the evidence.
    public var permissionMisses: [PermissionMiss] = []
    /// Datagrams sent after a CreatePermission/ChannelBind request for their peer but before its success: the
    /// server handles the request first and relays them (coturn does), so they are no miss.
    public var sentBeforePermissionAnswer = 0
    /// RFC 6062 TCP connections to peers.
    public var tcpConnections: [TURNTCPConnection] = []
    /// The relayed address's traffic as seen beyond the relay (see `PeerSideTraffic`).
    public var peerSide: [PeerSideTraffic] = []
    /// The vantage point it was seen at.
    public var vantage = ""

    public static func == (lhs: TURNAllocation, rhs: TURNAllocation) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }

    public var totals: RelayedCounters {
        relayed.values.reduce(into: RelayedCounters()) { total, counters in
            total.packetsToPeer += counters.packetsToPeer
            total.bytesToPeer += counters.bytesToPeer
            total.packetsFromPeer += counters.packetsFromPeer
            total.bytesFromPeer += counters.bytesFromPeer
        }
    }
}

/// A datagram the client sent towards a peer with no permission (or on a channel not bound) at that moment.
public struct PermissionMiss: Sendable, Hashable {
    public var time: CaptureTime
    public var ref: PacketRef?
    public var peer: TransportAddress?
    public var channel: UInt16?

    public init(time: CaptureTime, ref: PacketRef?, peer: TransportAddress?, channel: UInt16?) {
        self.time = time
        self.ref = ref
        self.peer = peer
        self.channel = channel
    }
}
