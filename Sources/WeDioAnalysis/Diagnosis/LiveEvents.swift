import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// Timeline events derived message by message while a live capture runs (`wedio sniff --format ndjson`),
/// instead of rebuilding the whole report: a STUN server's answer, TURN allocations, permissions,
/// channels and refreshes, ICE sessions starting, pairs succeeding and nominated, media starting, NAT
/// rebindings, and requests left unanswered for RFC 8489's 39.5 s. What only the end of the capture can
/// decide (ICE failed, consent lost, allocation expired, restarts) comes from the final report.
///
/// Every table is bounded; requests not followed for lack of room are counted (`notFollowed`).
public struct LiveEventFeed: Sendable {
    public let vantage: String
    /// Events produced since the last `drain`.
    private var pending: [TimelineEvent] = []

    /// Requests that have not been answered yet (not ICE checks: an unanswered check is ICE's business),
    /// in the order they were first sent, to report each one the moment its 39.5 s pass.
    private struct OpenRequest: Sendable {
        var method: STUNMethod
        var client: TransportAddress
        var server: TransportAddress
        var transport: Transport
        var ref: PacketRef
    }
    private var open: [TransactionID: OpenRequest] = [:]
    private var deadlines = Ring<(id: TransactionID, sent: CaptureTime)>(capacity: LiveEventFeed.openRequests)
    static let openRequests = 262_144

    /// A TURN request's details that only the request carries (peers, channel), until its answer.
    private var turnRequests: [TransactionID: String] = [:]

    /// ICE: checks awaiting their answer, and what each session (pair of ufrags) has already reported.
    private struct PendingCheck: Sendable {
        var session: String
        var nominated: Bool
    }
    private struct SessionState: Sendable {
        var succeeded: Set<FiveTuple> = []
        var nominated: Set<FiveTuple> = []
        var connected = false
        var roleConflict = false
    }
    private var checks: [TransactionID: PendingCheck] = [:]
    private var sessions: [String: SessionState] = [:]
    private var sessionOrder = Ring<String>(capacity: LiveEventFeed.sessionsFollowed)
    static let sessionsFollowed = 65_536
    /// Pairs remembered as succeeded or nominated over all sessions (forged answers could name millions).
    private var pairsRemembered = 0
    static let pairsFollowed = 262_144
    /// Pending checks and TURN requests remembered at once; beyond this the table starts again.
    static let pendingRequests = Limits.pendingRequests

    /// NAT rebindings already reported (the NAT tracker's running count).
    private var natChangesSeen = 0

    /// Requests and sessions not followed because a table was full (each still counts in the report).
    public private(set) var notFollowed = 0

    public init(vantage: String) {
        self.vantage = vantage
    }

    /// The events produced since the last call.
    public mutating func drain() -> [TimelineEvent] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    private mutating func add(
        _ time: CaptureTime, _ kind: TimelineKind, _ summary: String, refs: [String] = [], keys: [String: String] = [:]
    ) {
        pending.append(TimelineEvent(time: time, vantage: vantage, kind: kind, summary: summary, refs: refs, keys: keys))
    }

    // MARK: Messages

    /// One decoded STUN message, after the trackers saw it. `answered` is the request's transaction when this
    /// is its first response.
    mutating func observe(
        _ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef, purpose: RequestPurpose,
        answered: AnsweredRequest?
    ) {
        expire(now: time)
        switch message.messageClass {
        case .request:
            request(message, flow: flow, time: time, ref: ref, purpose: purpose)
        case .successResponse, .errorResponse:
            guard let answered else { return }
            open[message.transactionID] = nil
            response(message, to: answered, time: time)
        case .indication:
            break
        }
    }

    private mutating func request(
        _ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef, purpose: RequestPurpose
    ) {
        let id = message.transactionID
        if purpose == .iceCheck {
            guard checks[id] == nil, case .text(let username) = message.value(.username),
                let colon = username.firstIndex(of: ":")
            else { return }
            let a = username[..<colon]
            let b = username[username.index(after: colon)...]
            let session = a < b ? "\(a):\(b)" : "\(b):\(a)"
            if sessions[session] == nil {
                if sessionOrder.isFull, let oldest = sessionOrder.removeFirst(), let forgotten = sessions.removeValue(forKey: oldest) {
                    pairsRemembered -= forgotten.succeeded.count + forgotten.nominated.count
                }
                sessionOrder.append(session)
                sessions[session] = SessionState()
                add(
                    time, .iceChecksStarted, "first connectivity check between ufrags \(a < b ? "\(a) and \(b)" : "\(b) and \(a)")",
                    refs: ["packet \(ref.input):\(ref.packet)"], keys: ["ice": session])
            }
            if checks.count >= Self.pendingRequests {
                notFollowed += checks.count
                checks.removeAll(keepingCapacity: true)
            }
            let nominated: Bool
            if message.value(.useCandidate) != nil {
                nominated = true
            } else if case .nomination = message.value(.nomination) {
                nominated = true
            } else {
                nominated = false
            }
            checks[id] = PendingCheck(session: session, nominated: nominated)
            return
        }
        guard open[id] == nil else { return }  // a retransmission
        if open.count >= Self.openRequests {
            notFollowed += 1
        } else {
            if deadlines.isFull { _ = deadlines.removeFirst() }
            deadlines.append((id: id, sent: time))
            open[id] = OpenRequest(
                method: message.method, client: flow.source, server: flow.destination, transport: flow.transport, ref: ref)
        }
        switch message.method {
        case .createPermission:
            let peers = message.attributes.compactMap { attribute -> String? in
                guard attribute.type == .xorPeerAddress, case .xorAddress(let peer) = attribute.value else { return nil }
                return peer.ip.description
            }
            // At most a few named: a hostile request can carry a hundred peers, and thousands wait at once.
            let named = peers.prefix(4).joined(separator: ", ")
            remember(id, "permission for " + named + (peers.count > 4 ? " and \(peers.count - 4) more" : ""))
        case .channelBind:
            var text = "channel"
            if case .channelNumber(let number) = message.value(.channelNumber) { text += " 0x" + String(number, radix: 16) }
            if case .xorAddress(let peer) = message.value(.xorPeerAddress) { text += " bound to \(peer)" }
            remember(id, text)
        case .refresh:
            if case .uint32(let asked) = message.value(.lifetime) { remember(id, "\(asked)") }
        default:
            break
        }
    }

    private mutating func remember(_ id: TransactionID, _ text: String) {
        if turnRequests.count >= Self.pendingRequests {
            notFollowed += turnRequests.count
            turnRequests.removeAll(keepingCapacity: true)
        }
        turnRequests[id] = text
    }

    private mutating func response(_ message: STUNMessage, to request: AnsweredRequest, time: CaptureTime) {
        let id = request.id
        let success = message.messageClass == .successResponse
        let transaction = "transaction \(id)"
        let clientFlow = FiveTuple(source: request.client, destination: request.server, transport: request.transport)
        var errorText = ""
        if case .errorCode(let code, let reason) = message.value(.errorCode) {
            errorText = "\(code)" + (reason.isEmpty ? STUNErrorCodes.reason(for: code).map { " \($0)" } ?? "" : " \(reason)")
        }
        switch (request.purpose, message.method) {
        case (.iceCheck, _):
            guard let check = checks.removeValue(forKey: id), var session = sessions[check.session] else { return }
            let pair = clientFlow
            let keys = ["ice": check.session, "transaction": id.description]
            let room = pairsRemembered < Self.pairsFollowed
            if success {
                if room, session.succeeded.count < 1_024, session.succeeded.insert(pair).inserted {
                    pairsRemembered += 1
                    add(time, .icePairSucceeded, "pair \(pair.source) ↔ \(pair.destination) succeeded", refs: [transaction], keys: keys)
                }
                if room, check.nominated, session.nominated.count < 1_024, session.nominated.insert(pair).inserted {
                    pairsRemembered += 1
                    add(time, .iceNominated, "pair \(pair.source) ↔ \(pair.destination) nominated", refs: [transaction], keys: keys)
                    if !session.connected {
                        session.connected = true
                        add(time, .iceConnected, "connected on \(pair.source) ↔ \(pair.destination)", refs: [transaction], keys: keys)
                    }
                }
            } else if message.value(.errorCode).map({ if case .errorCode(487, _) = $0 { true } else { false } }) == true,
                !session.roleConflict
            {
                session.roleConflict = true
                add(time, .iceRoleConflict, "487 Role Conflict on \(pair.source) → \(pair.destination)", refs: [transaction], keys: keys)
            }
            sessions[check.session] = session
        case (.stunServer, .binding):
            var text = "\(request.client) asked STUN server \(request.server)"
            if success, case .xorAddress(let mapped) = message.value(.xorMappedAddress) {
                text += ": mapped address \(mapped)"
            } else if !success {
                text += ": error \(errorText)"
            }
            add(time, .stunBinding, text, refs: [transaction], keys: ["transaction": id.description, "client": "\(request.client)", "server": "\(request.server)"])
        case (_, .allocate):
            let keys = ["transaction": id.description, "turnClient": clientFlow.description]
            if success {
                let relayed = message.attributes.compactMap { attribute -> TransportAddress? in
                    guard attribute.type == .xorRelayedAddress, case .xorAddress(let address) = attribute.value else { return nil }
                    return address
                }
                var lifetime = ""
                if case .uint32(let seconds) = message.value(.lifetime) { lifetime = ", lifetime \(seconds) s" }
                var allocationKeys = keys
                if let first = relayed.first { allocationKeys["relayed"] = first.description }
                add(
                    time, .turnAllocated,
                    "TURN allocation at \(request.server) for \(request.client): relayed \(relayed.map(\.description).joined(separator: ", "))\(lifetime)",
                    refs: [transaction], keys: allocationKeys)
            } else {
                add(time, .turnAllocateError, "Allocate \(request.client) → \(request.server): \(errorText)", refs: [transaction], keys: keys)
            }
        case (_, .createPermission), (_, .channelBind):
            let text = turnRequests.removeValue(forKey: id)
            guard success, let text else { return }
            add(
                time, message.method == .channelBind ? .turnChannelBound : .turnPermission, text, refs: [transaction],
                keys: ["transaction": id.description, "turnClient": clientFlow.description])
        case (_, .refresh):
            let asked = turnRequests.removeValue(forKey: id)
            guard success else { return }
            var granted: UInt32?
            if case .uint32(let seconds) = message.value(.lifetime) { granted = seconds }
            let keys = ["transaction": id.description, "turnClient": clientFlow.description]
            if asked == "0" || granted == 0 {
                add(time, .turnDeleted, "allocation at \(request.server) deleted (Refresh 0)", refs: [transaction], keys: keys)
            } else {
                add(
                    time, .turnRefresh,
                    "Refresh: asked \(asked.map { "\($0) s" } ?? "default"), granted \(granted.map { "\($0) s" } ?? "nothing")",
                    refs: [transaction], keys: keys)
            }
        default:
            break
        }
    }

    // MARK: Time

    /// Reports the requests whose 39.5 s ran out by `now` without an answer.
    mutating func expire(now: CaptureTime) {
        while let head = deadlines.first, head.sent.nanoseconds &+ TransactionTracker.timeoutNanoseconds <= now.nanoseconds {
            _ = deadlines.removeFirst()
            reportTimeout(head.id, at: CaptureTime(nanoseconds: head.sent.nanoseconds &+ TransactionTracker.timeoutNanoseconds))
        }
    }

    /// At the end of the capture: every request still open is reported (the report calls them timeouts too).
    mutating func finish(at end: CaptureTime) {
        expire(now: end)
        while let head = deadlines.removeFirst() { reportTimeout(head.id, at: end, early: true) }
    }

    private mutating func reportTimeout(_ id: TransactionID, at time: CaptureTime, early: Bool = false) {
        guard let request = open.removeValue(forKey: id) else { return }
        turnRequests[id] = nil
        let what = request.method == .binding ? "asked STUN server" : "sent \(request.method) to"
        add(
            time, .stunTimeout,
            "\(request.client) \(what) \(request.server): no answer" + (early ? " before the capture ended" : " in 39.5 s"),
            refs: ["transaction \(id)", "packet \(request.ref.input):\(request.ref.packet)"],
            keys: ["transaction": id.description, "client": "\(request.client)", "server": "\(request.server)"])
    }

    // MARK: Media and NAT

    mutating func media(_ moment: MediaMoment, flow: FiveTuple, time: CaptureTime) {
        let keys = ["flow": flow.description]
        switch moment {
        case .rtpStarted: add(time, .mediaStarted, "first RTP packet on \(flow)", keys: keys)
        case .dtlsHandshakeStarted: add(time, .dtlsHandshakeStarted, "DTLS handshake started on \(flow)", keys: keys)
        case .dtlsConnected: add(time, .dtlsConnected, "DTLS application data (handshake done) on \(flow)", keys: keys)
        }
    }

    /// Reports the mapping changes the NAT tracker saw since the last call. Called after every message that
    /// reached the tracker, so past the list's cap the latest change is the only new one.
    mutating func natChanges(_ nat: NATTracker) {
        guard nat.changesSeen > natChangesSeen else { return }
        let fresh = nat.changesSeen - natChangesSeen
        let listed = nat.changes.count
        let fromList = nat.changes.suffix(min(fresh, listed))
        let changes = fromList.count == fresh ? Array(fromList) : nat.latestChange.map { [$0] } ?? []
        for change in changes {
            add(
                change.time, .natRebinding,
                "mapping of \(change.internalAddress) towards \(change.destination) changed from \(change.previous) to \(change.current)",
                refs: ["packet \(change.ref.input):\(change.ref.packet)"],
                keys: ["client": "\(change.internalAddress)", "server": "\(change.destination)"])
        }
        natChangesSeen = nat.changesSeen
    }


}

/// Kinds the live stream takes from the final report, because only the end of the capture decides them.
public enum LiveEvents {
    public static let fromFinalReport: Set<TimelineKind> = [
        .iceFailed, .iceRestart, .consentLost, .turnExpired, .turnPermissionExpired, .turnChannelExpired, .natDropped,
    ]
}

/// Holds back repeats so that a flood of one kind of event cannot drown the stream, and says how many it
/// held back: a token bucket per kind in capture time (`burst` at once, then `perSecond`). Each kind's
/// held-back events are reported as one `Suppressed` line before its next event passes, at least once a
/// second while they accumulate, and at the end.
public struct LiveEventLimiter: Sendable {
    public struct Suppressed: Sendable, Hashable {
        public var kind: TimelineKind
        public var count: Int
        public var first: CaptureTime
        public var last: CaptureTime
    }

    public enum Line: Sendable {
        case event(TimelineEvent)
        case suppressed(Suppressed)
    }

    public let burst: Double
    public let perSecond: Double
    private var tokens: [TimelineKind: (tokens: Double, at: CaptureTime)] = [:]
    private var held: [TimelineKind: Suppressed] = [:]
    public private(set) var suppressedTotal = 0

    public init(burst: Int = 100, perSecond: Int = 20) {
        self.burst = Double(burst)
        self.perSecond = Double(perSecond)
    }

    /// The lines to write for these events, in order.
    public mutating func admit(_ events: [TimelineEvent], now: CaptureTime?) -> [Line] {
        var lines: [Line] = []
        for event in events {
            var bucket = tokens[event.kind] ?? (tokens: burst, at: event.time)
            let elapsed = max(0, Double(event.time.nanoseconds &- bucket.at.nanoseconds) / 1e9)
            bucket.tokens = min(burst, bucket.tokens + elapsed * perSecond)
            bucket.at = max(bucket.at, event.time)
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                if let suppressed = held.removeValue(forKey: event.kind) { lines.append(.suppressed(suppressed)) }
                lines.append(.event(event))
            } else {
                suppressedTotal += 1
                if held[event.kind] == nil {
                    held[event.kind] = Suppressed(kind: event.kind, count: 1, first: event.time, last: event.time)
                } else {
                    held[event.kind]?.count += 1
                    held[event.kind]?.last = event.time
                }
            }
            tokens[event.kind] = bucket
        }
        if let now { lines += flush(olderThan: CaptureTime(nanoseconds: now.nanoseconds &- 1_000_000_000)) }
        return lines
    }

    /// Held-back counts whose first event is older than `time` (all of them when nil: the end).
    public mutating func flush(olderThan time: CaptureTime? = nil) -> [Line] {
        let due = held.values.filter { item in time.map { item.first <= $0 } ?? true }.sorted { ($0.first, $0.kind.rawValue) < ($1.first, $1.kind.rawValue) }
        for item in due { held[item.kind] = nil }
        return due.map { .suppressed($0) }
    }
}

/// A fixed-capacity FIFO over one array: appends at the tail, removes from the head, no shifting.
struct Ring<Element: Sendable>: Sendable {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        storage = []
        self.capacity = max(1, capacity)
    }

    let capacity: Int
    var isFull: Bool { count == capacity }

    var first: Element? { count == 0 ? nil : storage[head] }

    mutating func append(_ element: Element) {
        guard count < capacity else { return }
        let index = (head + count) % capacity
        if index == storage.count { storage.append(element) } else { storage[index] = element }
        count += 1
    }

    mutating func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % capacity
        count -= 1
        return element
    }
}
