import WeDioBasics

/// What an application payload is, by RFC 7983 first-byte ranges plus shape checks.
public enum PayloadKind: Hashable, Sendable, BitwiseCopyable {
    /// RFC 5389/8489 STUN (magic cookie present, length consistent).
    case stun
    /// RFC 3489 STUN (no cookie), recognised on port 3478 or as the answer to a classic request.
    case classicSTUN
    /// TURN ChannelData (RFC 8656 §12) on a flow already seen carrying STUN.
    case channelData(channel: UInt16)
    /// DTLS records (first byte 20–63).
    case dtls
    case rtp
    case rtcp
    case zrtp
    /// TLS on a TCP stream (TURN over TLS: counted, not decrypted).
    case tls
    /// Peer data on an RFC 6062 data connection, after a successful ConnectionBind: raw bytes, not framed.
    case turnTCPData
    /// An ICMP or ICMPv6 error (destination unreachable, time exceeded, packet too big) quoting a UDP datagram:
    /// the payload's flow is the quoted datagram's, its bytes the quoted UDP payload (a STUN header, when the
    /// router quoted enough); `reporter` sent the error.
    case icmpError(ICMPErrorKind)
    case unknown
}

/// What an ICMP error said, and who said it. Held inline, so that PayloadKind and ClassifiedPayload stay plain
/// data: a class here (to keep the record narrow for a rare case) made every payload's copy and release on
/// the reading thread go through reference counting, several percent of a media capture's reading time.
public struct ICMPErrorKind: Hashable, Sendable, BitwiseCopyable {
    public let version: UInt8
    public let type: UInt8
    public let code: UInt8
    public let reporter: IPAddress

    public init(version: UInt8, type: UInt8, code: UInt8, reporter: IPAddress) {
        self.version = version
        self.type = type
        self.code = code
        self.reporter = reporter
    }

    /// RFC 792 / RFC 4443 in words: "port unreachable", "host unreachable", "TTL exceeded", …
    public var meaning: String {
        if version == 4 {
            switch (type, code) {
            case (3, 0): return "network unreachable"
            case (3, 1): return "host unreachable"
            case (3, 2): return "protocol unreachable"
            case (3, 3): return "port unreachable"
            case (3, 4): return "fragmentation needed"
            case (3, 9), (3, 10), (3, 13): return "administratively prohibited"
            case (3, _): return "destination unreachable (code \(code))"
            case (11, _): return "TTL exceeded"
            default: return "ICMP type \(type) code \(code)"
            }
        }
        switch (type, code) {
        case (1, 0): return "no route to destination"
        case (1, 1): return "administratively prohibited"
        case (1, 3): return "address unreachable"
        case (1, 4): return "port unreachable"
        case (1, _): return "destination unreachable (code \(code))"
        case (2, _): return "packet too big"
        case (3, _): return "hop limit exceeded"
        default: return "ICMPv6 type \(type) code \(code)"
        }
    }
}

/// One classified payload and where it came from. The bytes travel beside it as a borrowed span. Plain data
/// (BitwiseCopyable): a reader's batch keeps payloads in memory it neither initialises nor deinitialises.
public struct ClassifiedPayload: Sendable, BitwiseCopyable {
    public var ref: PacketRef
    public var time: CaptureTime
    public var flow: FiveTuple
    public var kind: PayloadKind
    /// Set when the payload came out of a TCP stream (RFC 8489 §6.2.2 or RFC 4571 framing).
    public var framing: StreamFraming?

    public init(ref: PacketRef, time: CaptureTime, flow: FiveTuple, kind: PayloadKind, framing: StreamFraming?) {
        self.ref = ref
        self.time = time
        self.flow = flow
        self.kind = kind
        self.framing = framing
    }
}

/// How a TCP stream is cut into messages.
public enum StreamFraming: String, Hashable, Sendable, BitwiseCopyable {
    /// STUN messages and ChannelData back to back, ChannelData padded to 4 (RFC 8489 §6.2.2, RFC 8656 §12.5).
    case stun
    /// RFC 4571 2-byte length prefix (ICE-TCP, RFC 6544).
    case rfc4571
    /// TLS records (TURN over TLS): sized, not decrypted.
    case tls
    /// An RFC 6062 data connection after ConnectionBind succeeded: the peer's bytes as they come.
    case relayedData
}
