/// Every cap WeDio enforces, in one place. Capture bytes are untrusted: each cap bounds memory or time
/// an attacker (or a huge capture) could otherwise make unbounded. Evictions are counted and reported.
public enum Limits {
    /// Full diagnostics kept per input; the rest are only counted. Enough to show the pattern of damage.
    public static let diagnosticSamplesPerInput = 100

    /// Attributes decoded per STUN message. A 64 KiB message could hold 16 K empty attributes; real ones
    /// carry fewer than 30 (zeek-spicy-stun caps its vector for the same reason).
    public static let attributesPerMessage = 128

    /// IPv6 extension headers walked before giving up (RFC 8200 expects a handful; a chain of hundreds is an attack).
    public static let ipv6ExtensionHeaders = 16

    /// Largest reassembled IP datagram (the IPv4 total-length maximum; IPv6 jumbograms are not reassembled).
    public static let fragmentDatagramBytes = 65_535
    /// Datagrams under reassembly at once, and bytes buffered for them in total.
    public static let fragmentDatagramsInFlight = 1_024
    public static let fragmentBytesTotal = 16 * 1_024 * 1_024
    /// Fragments of one datagram (64 KiB in 8-byte pieces would be 8 K; real senders use a few dozen).
    public static let fragmentsPerDatagram = 128
    /// Reassembly timeout in capture time: Linux's ipfrag_time default (30 s); RFC 8200 suggests 60 s for IPv6.
    public static let fragmentTimeoutNanoseconds: Int64 = 30_000_000_000

    /// TCP flows tracked for reassembly at once (least recently used evicted beyond this).
    public static let tcpFlows = 16_384
    /// Out-of-order bytes held per direction while waiting for a hole to fill.
    public static let tcpOutOfOrderBytesPerFlow = 256 * 1_024
    /// Unframed in-order bytes held per direction (one STUN message is at most 64 KiB + header).
    public static let tcpPendingBytesPerFlow = 128 * 1_024
    /// All TCP reassembly buffers together.
    public static let tcpBytesTotal = 64 * 1_024 * 1_024

    /// Slots of the set-associative cache of flows seen carrying STUN/TURN (ChannelData is only accepted on
    /// them, as Wireshark does). 1 MiB; a flood replaces old entries instead of growing it.
    public static let stunFlows = 131_072
    /// STUN transactions kept in full for the report: the first half of this many and the latest half. A call
    /// has hundreds, an hour of a busy TURN server tens of thousands; a flood of random ids would otherwise
    /// grow without end. Those in between are dropped and tallied (outcome, method, error code).
    public static let transactions = 16_384
    /// Requests remembered by the ICE and TURN trackers while waiting for their answer (learning a
    /// server-reflexive or relayed address); beyond this the table starts again.
    public static let pendingRequests = 65_536
    /// TURN allocations tracked per vantage point (a busy server's hour); beyond this, counted as dropped.
    public static let turnAllocations = 100_000
    /// Connectivity checks kept over all ICE sessions of a vantage point (each session is also capped by
    /// `iceChecksPerSession`); beyond this, counted as dropped.
    public static let iceChecks = 100_000
    /// USERNAMEs of checks remembered split into their ufrags (a cache: beyond this it starts again).
    public static let namedUsernames = 16_384
    /// Retransmission times kept per transaction (RFC 8489 allows Rc = 7 sends; more is already a finding).
    public static let retransmissionsKept = 16

    /// Flows whose media (DTLS, RTP, RTCP) is counted per pair. A call has a handful; beyond this, counted only.
    public static let mediaFlows = 65_536
    /// RTP streams (SSRC, direction, flow) followed; later ones are counted on their flow only.
    public static let rtpStreams = 65_536
    /// Silences kept per RTP stream, and stalls per direction of a flow; later ones are counted.
    public static let gapsPerStream = 16
    public static let stallsPerFlow = 64
    /// Bins of the bitrate picture per direction of a flow (merged pairwise when full).
    public static let bitrateBins = 512
    /// SSRCs kept per flow for RTCP.
    public static let rtcpSendersPerFlow = 16

    /// Classic (RFC 3489) request ids remembered so that their responses are recognised off port 3478.
    public static let classicRequests = 4_096

    /// NAT mappings kept per vantage point (internal address × destination). A call makes tens; a flood of
    /// answered Bindings from random ports would otherwise grow the table without end.
    public static let natMappings = 65_536
    /// Mapped addresses remembered by transaction id, to tell which of two vantage points is outside a NAT.
    public static let natMappedTransactions = 65_536
    /// Local → remote pairs remembered to tell a solicited request from an unsolicited one.
    public static let natContacts = 65_536
    /// Mapping changes, discovery exchanges and unsolicited requests kept each (evidence, not counters).
    public static let natEvents = 4_096
    /// Request keys remembered so a response (which carries no USERNAME) is verified with its request's key.
    public static let requestKeys = 16_384
    /// Decoded messages kept for `--messages` (the first ones: a call's set-up is at the start); the rest are
    /// counted (`stats.capped.messagesDropped`). About 100 MB at the most.
    public static let messagesKept = 100_000
    /// Windows of a live capture's packet loss listed per input; later losses extend the last window.
    public static let dropWindows = 1_024
    /// Timeline events kept in a report (the earliest); a call has dozens.
    public static let timelineEvents = 5_000
    /// TLS/DTLS connections to TURN ports tracked (timing and bytes); beyond this, counted only.
    public static let encryptedConnections = 4_096
    /// RFC 6062 TCP connections kept per allocation (a peer can open many; the rest are counted as dropped).
    public static let tcpConnectionsPerAllocation = 1_024
    /// Candidate pairs (and candidates) reported per ICE session. A call has a few dozen; a flood of checks
    /// from random ports would make one session with hundreds of thousands. The rest are counted.
    public static let icePairsReported = 1_024
    /// Findings of one code reported in full; beyond this one more finding counts the rest.
    public static let findingsPerCode = 20
    /// Connectivity checks kept per ICE session (pair of ufrags): an hour of consent checks on a few pairs
    /// is a few thousand; a flood reusing one USERNAME is cut here and counted.
    public static let iceChecksPerSession = 16_384
}
