import WeDioBasics

/// What an application payload is, by RFC 7983 first-byte ranges plus shape checks.
public enum PayloadKind: Hashable, Sendable {
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
    case unknown
}

/// One classified payload and where it came from. The bytes travel beside it as a borrowed span.
public struct ClassifiedPayload: Sendable {
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
public enum StreamFraming: String, Hashable, Sendable {
    /// STUN messages and ChannelData back to back, ChannelData padded to 4 (RFC 8489 §6.2.2, RFC 8656 §12.5).
    case stun
    /// RFC 4571 2-byte length prefix (ICE-TCP, RFC 6544).
    case rfc4571
    /// TLS records (TURN over TLS): sized, not decrypted.
    case tls
    /// An RFC 6062 data connection after ConnectionBind succeeded: the peer's bytes as they come.
    case relayedData
}
