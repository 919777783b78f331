import WeDioBasics
import WeDioSTUN

/// How a transaction ended (RFC 8489 §6.2–6.3).
public enum TransactionOutcome: String, Sendable, Hashable {
    case success
    case error
    /// No response before the capture ended, or 39.5 s passed (RFC 8489 §6.2.1: Rc = 7, Rm = 16, RTO 500 ms).
    case timeout
    /// Indications expect no response.
    case indication
}

/// What a request was for, read from its method and attributes: it says which kind of NAT mapping its
/// answer reveals.
public enum RequestPurpose: String, Sendable, Hashable {
    /// A Binding with ICE attributes (PRIORITY, ICE-CONTROLLING/-CONTROLLED, USE-CANDIDATE) or a USERNAME
    /// (an ICE-lite or legacy check): RFC 8445 §7.1.
    case iceCheck = "ice-check"
    /// A Binding to a STUN server (no USERNAME): RFC 8489 §5, or RFC 3489.
    case stunServer = "stun-server"
    case turnAllocation = "turn-allocation"
    /// Any other method.
    case other

    public init(_ message: STUNMessage) {
        switch message.method {
        case .allocate:
            self = .turnAllocation
        case .binding:
            // Through a span: no attribute copied out to look at its type.
            let list = message.attributes.span
            var ice = false
            for index in list.indices {
                switch list[index].type {
                case .priority, .iceControlling, .iceControlled, .useCandidate: ice = true
                case .username: ice = !message.isClassic
                default: continue
                }
                if ice { break }
            }
            self = ice ? .iceCheck : .stunServer
        default:
            self = .other
        }
    }
}

/// The request a response answered, as the NAT tracker and the live feed need it: a few plain fields
/// (the whole transaction, copied out for every answer, was a twentieth of the analysing thread).
public struct AnsweredRequest: Sendable, Hashable {
    public var id: TransactionID
    public var client: TransportAddress
    public var server: TransportAddress
    public var transport: Transport
    public var carrier: MessageCarrier
    public var purpose: RequestPurpose

    public init(_ transaction: STUNTransaction) {
        id = transaction.id
        client = transaction.client
        server = transaction.server
        transport = transaction.transport
        carrier = transaction.carrier
        purpose = transaction.purpose
    }
}

/// One STUN transaction: a request (with its retransmissions) and the response that matched it by
/// transaction id, wherever that response travelled (a NAT or relay may change the 5-tuple).
public struct STUNTransaction: Sendable, Hashable {
    public var id: TransactionID
    public var method: STUNMethod
    /// The requester and the responder as the first request was seen.
    public var client: TransportAddress
    public var server: TransportAddress
    public var transport: Transport
    public var carrier: MessageCarrier
    public var purpose: RequestPurpose = .other
    public var requestRef: PacketRef
    public var requestTime: CaptureTime
    /// Times of the retransmissions (the first request excluded), at most `Limits.retransmissionsKept`.
    public var retransmissionTimes: [CaptureTime] = []
    public var retransmissions = 0
    public var responseRef: PacketRef?
    public var responseTime: CaptureTime?
    /// Where the response came from and went to, when that differs from the request's 5-tuple.
    public var responseFlow: FiveTuple?
    public var outcome: TransactionOutcome?
    public var errorCode: Int?
    public var errorReason: String?
    public var requestIntegrity: IntegrityResult = .absent
    public var responseIntegrity: IntegrityResult?
    /// Responses seen again after the first (a retransmitted request answered twice).
    public var duplicateResponses = 0
    /// The vantage point it was seen at.
    public var vantage = ""
    /// Timed out while the live capture was losing packets: the answer may have been among them.
    public var duringCaptureDrops = false

    /// From the first request to the response (Wireshark's "Time"); nil without a response.
    public var rttMilliseconds: Double? {
        responseTime.map { $0.milliseconds(since: requestTime) }
    }

    /// From the last transmission before the response: the RTT of the copy that was answered (Karn's
    /// ambiguity aside).
    public var lastTransmissionRTTMilliseconds: Double? {
        guard let responseTime else { return nil }
        let sent = ([requestTime] + retransmissionTimes).last { $0 <= responseTime } ?? requestTime
        return responseTime.milliseconds(since: sent)
    }

    /// Gaps between successive transmissions, in milliseconds.
    public var retransmissionIntervalsMilliseconds: [Double] {
        var previous = requestTime
        return retransmissionTimes.map { time in
            defer { previous = time }
            return time.milliseconds(since: previous)
        }
    }

    /// True when every gap is at least the RFC 8489 §6.2.1 schedule's (RTO 500 ms, doubling, capped at
    /// Rm × RTO for the last), within 10 %: a sender faster than the RFC allows is worth flagging.
    public var followsRetransmissionSchedule: Bool {
        var rto = 500.0
        for (index, gap) in retransmissionIntervalsMilliseconds.enumerated() {
            let expected = index == 6 ? 16 * 500.0 : rto
            if gap < expected * 0.9 { return false }
            rto *= 2
        }
        return true
    }
}
