import WeDioBasics
import WeDioSTUN

/// A candidate's type (RFC 8445 §5.1.1), as inferred from the wire.
public enum CandidateType: String, Sendable, Hashable {
    case host, srflx, prflx, relay
}

/// A candidate seen on the wire, with why WeDio typed it so.
public struct ICECandidate: Sendable, Hashable {
    /// The ufrag of the agent the candidate belongs to.
    public var agent: String
    public var address: TransportAddress
    public var transport: Transport
    public var type: CandidateType
    /// PRIORITY of the agent's checks sent from this candidate (RFC 8445 §7.1.1: it carries the
    /// peer-reflexive type preference, so the type is never read from it).
    public var priority: UInt32?
    /// Why it has this type and how it is known, strongest first.
    public var evidence: [String]
    /// The agent gathered it (a STUN server's or TURN server's answer names it), checks used it, or both.
    public var gathered = false
    public var checked = false
    /// The address it stands for at the agent (RFC 8445 §5.1.1.1 base): the host address a server-reflexive or
    /// peer-reflexive candidate was learned from, the client address of a relay's allocation.
    public var base: TransportAddress?
    /// What the SDP (`--sdp`) said about this address, when it was signalled.
    public var signalledType: CandidateType?
    public var signalledPriority: UInt32?

    /// RFC 8445 §5.1.2.1: type preference (8 bits), local preference (16), component (8).
    public var typePreference: UInt32? { priority.map { $0 >> 24 } }
    public var localPreference: UInt32? { priority.map { ($0 >> 8) & 0xFFFF } }
    public var component: UInt32? { priority.map { 256 - ($0 & 0xFF) } }
}

/// The state of a candidate pair at the end of the capture.
public enum PairState: String, Sendable, Hashable {
    case succeeded, failed, inProgress
}

/// A candidate pair: `local` is the controlling agent's candidate, `remote` the controlled agent's, each as the
/// wire shows it at this vantage point. Inside a NAT the agent names its end by the address the peer saw
/// (`localCandidate`: the XOR-MAPPED-ADDRESS of the peer's answers, as libwebrtc's getStats() and
/// webrtc-internals do), and the types are those of the candidates as the agents name them.
public struct ICECandidatePair: Sendable, Hashable {
    public var local: TransportAddress
    public var remote: TransportAddress
    public var localType: CandidateType?
    public var remoteType: CandidateType?
    /// The candidate each agent names for its end, where it differs from the wire address here.
    public var localCandidate: TransportAddress?
    public var remoteCandidate: TransportAddress?
    public var transport: Transport
    public var checks = 0
    public var responses = 0
    public var errors: [Int] = []
    public var firstCheck: CaptureTime
    public var firstSuccess: CaptureTime?
    public var rttMilliseconds: [Double] = []
    public var nominated = false
    public var nominatedAt: CaptureTime?
    public var state: PairState = .inProgress
    /// RFC 8445 §6.1.2.3 from the PRIORITY values seen: 2^32·MIN(G,D) + 2·MAX(G,D) + (G>D ? 1 : 0).
    public var priority: UInt64?
    /// DTLS, RTP and RTCP seen on this pair's addresses (any pair, not only the selected one).
    public var media: MediaFlow?

    /// The controlling agent's candidate as it names it (the wire address unless the peer saw another).
    public var localNamed: TransportAddress { localCandidate ?? local }
    public var remoteNamed: TransportAddress { remoteCandidate ?? remote }
}

/// One ICE session: the checks between two agents identified by their ufrags.
public struct ICESession: Sendable, Hashable {
    public var id: String
    /// The two ufrags, the controlling agent's first when known.
    public var ufrags: [String]
    public var controlling: String?
    public var controlled: String?
    public var tieBreakers: [String: UInt64] = [:]
    /// 487 Role Conflict errors seen, and the agents whose role changed.
    public var roleConflicts = 0
    public var roleSwitches: [String] = []
    public var candidates: [ICECandidate] = []
    public var pairs: [ICECandidatePair] = []
    /// Pairs and candidates beyond `Limits.icePairsReported`, counted only (a flood of checks).
    public var pairsOmitted = 0
    public var candidatesOmitted = 0
    /// Checks seen but not kept (the session's or the tracker's cap): counted only, on no pair.
    public var checksDropped = 0
    /// Every check of the session: on reported pairs, on omitted pairs, and dropped.
    public var checksSeen = 0
    /// Checks answered (success or error) on the pairs left out of `pairs`.
    public var answersOnOmittedPairs = 0
    public var selectedPair: ICECandidatePair?
    public var firstCheck: CaptureTime
    /// The last check or answer seen (a restart's old session goes quiet; a concurrent one does not).
    public var lastActivity: CaptureTime?
    public var timeToConnectMilliseconds: Double?
    /// Checks seen inside TURN (ChannelData, Data indications), not yet placed on pairs.
    public var relayedChecks = 0
    /// Media on the selected pair (DTLS, RTP, RTCP), when any was seen.
    public var media: MediaFlow?
    /// From the first check to the first RTP packet on the selected pair.
    public var timeToFirstMediaMilliseconds: Double?
    public var consent: Consent?
    /// GOOG-NETWORK-INFO per agent (ufrag → network id and cost, as last sent), and GOOG-PING requests seen.
    public var networkInfo: [String: NetworkInfo] = [:]
    public var googPings = 0
    /// The vantage point it was seen at.
    public var vantage = ""
    /// The session this one replaced by an ICE restart (new ufrags, same candidate pair addresses).
    public var restartOf: String?

    /// libwebrtc's network description in its checks (api/transport/stun.h): id and cost (10 low-cost
    /// networks such as Ethernet/Wi-Fi, 50 unknown, 900 cellular, 999 max).
    public struct NetworkInfo: Sendable, Hashable {
        public var networkID: UInt16
        public var cost: UInt16

        public init(networkID: UInt16, cost: UInt16) {
            self.networkID = networkID
            self.cost = cost
        }
    }

    /// RFC 7675 consent freshness on the selected pair, after it connected.
    public struct Consent: Sendable, Hashable {
        public var checks = 0
        public var answered = 0
        public var medianIntervalMilliseconds: Double?
        public var longestSilenceMilliseconds: Double?
        /// The last answer before the longest silence (or the pair's first success), and whether the silence
        /// lasted to the end of the capture.
        public var silenceStart: CaptureTime?
        public var silenceRunsToEnd = false
        /// Checks sent during the longest silence, none answered.
        public var unansweredInSilence = 0
        /// No answer for 30 s (RFC 7675 §5.1) while checks went on, or until the capture ended.
        public var lost = false
        /// When the 30 s without an answer ran out.
        public var lostAt: CaptureTime?
    }

    public enum Outcome: String, Sendable, Hashable {
        case connected, failed, incomplete
    }

    public var outcome: Outcome {
        if selectedPair != nil { return .connected }
        // The states read in place through a span: `contains(where:)` copied each pair out (a session's report
        // asks five times; 1 100 instructions each on a server's capture).
        let list = pairs.span
        var allFailed = !list.isEmpty
        for index in list.indices {
            switch list[index].state {
            case .succeeded: return .connected
            case .failed: break
            case .inProgress: allFailed = false
            }
        }
        return relayedChecks == 0 && allFailed ? .failed : .incomplete
    }
}
