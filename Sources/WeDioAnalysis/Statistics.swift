import WeDioBasics
import WeDioSTUN

/// What was found, counted (the `stats` object of the report).
public struct Statistics: Sendable, Equatable {
    public var packets = 0
    /// RFC 5389/8489 messages carried directly in UDP or TCP.
    public var stunMessages = 0
    /// RFC 3489 messages.
    public var classicStunMessages = 0
    public var channelData = 0
    /// STUN found inside TURN Data indications or ChannelData.
    public var relayedStunMessages = 0
    public var dtlsRecords = 0
    public var rtpPackets = 0
    public var rtcpPackets = 0
    public var zrtpPackets = 0
    /// ICMP/ICMPv6 errors quoting a UDP datagram.
    public var icmpErrors = 0
    public var tlsBytes = 0
    /// Peer data on RFC 6062 data connections (raw, after ConnectionBind).
    public var turnTCPDataBytes = 0
    public var udpPackets = 0
    public var tcpSegments = 0
    public var truncated = 0
    public var malformed = 0
    public var fingerprintFailures = 0
    public var integrityFailures = 0
    /// What the caps in `Limits` dropped or cut, so bounded memory never hides silently.
    public var ipFragments = 0
    public var reassembledDatagrams = 0
    public var fragmentsEvicted = 0
    public var fragmentsTimedOut = 0
    public var fragmentOverlaps = 0
    public var tcpRetransmissions = 0
    public var tcpGaps = 0
    public var tcpStreamsEvicted = 0
    public var stunFlowsReplaced = 0

    public init() {}

    /// Adds another vantage point's counts.
    public mutating func add(_ other: Statistics) {
        let fields: [WritableKeyPath<Statistics, Int>] = [
            \.packets, \.stunMessages, \.classicStunMessages, \.channelData, \.relayedStunMessages, \.dtlsRecords,
            \.rtpPackets, \.rtcpPackets, \.zrtpPackets, \.icmpErrors, \.tlsBytes, \.turnTCPDataBytes, \.udpPackets, \.tcpSegments, \.truncated,
            \.malformed, \.fingerprintFailures, \.integrityFailures, \.ipFragments, \.reassembledDatagrams,
            \.fragmentsEvicted, \.fragmentsTimedOut, \.fragmentOverlaps, \.tcpRetransmissions, \.tcpGaps,
            \.tcpStreamsEvicted, \.stunFlowsReplaced,
        ]
        for field in fields { self[keyPath: field] += other[keyPath: field] }
    }
}

/// Where a decoded STUN message came from.
public enum MessageCarrier: String, Sendable, Hashable {
    case direct
    /// Inside a TURN Send/Data indication's DATA attribute.
    case turnData
    /// Inside a TURN ChannelData message.
    case channelData
}

/// One decoded STUN message with its context (kept when `--messages` asks for them).
public struct MessageRecord: Sendable, Hashable {
    public var ref: PacketRef
    public var time: CaptureTime
    public var flow: FiveTuple
    public var carrier: MessageCarrier
    public var message: STUNMessage
    public var fingerprint: IntegrityResult
    public var integrity: IntegrityResult
}
