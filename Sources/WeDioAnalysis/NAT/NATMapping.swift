import WeDioBasics
import WeDioSTUN

/// Where a mapping was learned.
public enum MappingSource: String, Sendable, Hashable {
    /// XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS) of a Binding answered by a STUN server.
    case stunServer = "stun-server"
    /// XOR-MAPPED-ADDRESS of an Allocate success (RFC 8656 §7.3).
    case turnAllocation = "turn-allocation"
    /// XOR-MAPPED-ADDRESS of an answered ICE check: the peer-reflexive address the peer saw.
    case iceCheck = "ice-check"
    /// The same transaction seen at two vantage points, inside and outside a NAT.
    case vantageMatch = "vantage-match"
}

/// One internal transport address and the external address the far side saw for one destination
/// (RFC 4787 §3: a mapping is per internal address and, for a dependent NAT, per destination).
public struct NATMapping: Sendable, Hashable {
    public var internalAddress: TransportAddress
    public var externalAddress: TransportAddress
    public var destination: TransportAddress
    public var transport: Transport
    public var source: MappingSource
    public var firstTime: CaptureTime
    public var lastTime: CaptureTime
    public var observations = 1
    /// The packet that showed the mapping first (the response carrying the mapped address, or the
    /// request at the inner vantage point).
    public var firstRef: PacketRef
    /// Where it was seen: a vantage name, or "inside→outside" for a match across two.
    public var vantage = ""

    /// False when the far side saw the address the client sent from: no NAT on that path.
    public var translated: Bool { internalAddress != externalAddress }
}

/// A mapping that changed for the same internal address and destination (a NAT rebinding, RFC 4787 §4.3).
public struct MappingChange: Sendable, Hashable {
    public var internalAddress: TransportAddress
    public var destination: TransportAddress
    public var previous: TransportAddress
    public var current: TransportAddress
    public var time: CaptureTime
    public var ref: PacketRef
    public var vantage = ""
}

/// A Binding request to a STUN server (not an ICE check) and what came back: the raw material of RFC 5780
/// behaviour discovery and of "that STUN server never answered".
public struct DiscoveryExchange: Sendable, Hashable {
    public var id: TransactionID
    /// Where the request was sent from and to, as this vantage point saw it.
    public var client: TransportAddress
    public var server: TransportAddress
    public var transport: Transport
    /// CHANGE-REQUEST flags (RFC 5780 §7.2, RFC 3489 §11.2.4).
    public var changeIP = false
    public var changePort = false
    public var time: CaptureTime
    public var ref: PacketRef
    public var answered = false
    public var errorCode: Int?
    public var mapped: TransportAddress?
    /// Where the answer came from: RESPONSE-ORIGIN (RFC 5780) or SOURCE-ADDRESS (RFC 3489), else the
    /// response's source address on the wire.
    public var responseOrigin: TransportAddress?
    /// OTHER-ADDRESS (RFC 5780) or CHANGED-ADDRESS (RFC 3489): the server's alternate address.
    public var otherAddress: TransportAddress?
    public var vantage = ""

    public var asksForChange: Bool { changeIP || changePort }
}

/// A request that reached an address which had not sent anything to that remote before: with a NAT in
/// front, evidence of how it filters (RFC 4787 §5).
public struct UnsolicitedRequest: Sendable, Hashable {
    public var remote: TransportAddress
    public var local: TransportAddress
    /// True when the local address had sent to the remote's IP before (on another port).
    public var remoteIPContacted: Bool
    public var time: CaptureTime
    public var ref: PacketRef
}
