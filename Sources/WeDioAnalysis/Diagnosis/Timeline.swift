import WeDioBasics
import WeDioSTUN

/// The kinds of timeline event. Scripts match on these spellings (the JSON report's `timeline[].kind`,
/// and the live NDJSON stream's `kind`).
public enum TimelineKind: String, Sendable, Hashable, CaseIterable {
    case stunBinding = "stun-binding"
    case stunTimeout = "stun-timeout"
    case turnAllocateError = "turn-allocate-error"
    case turnAllocated = "turn-allocated"
    case turnPermission = "turn-permission"
    case turnChannelBound = "turn-channel-bound"
    case turnRefresh = "turn-refresh"
    case turnDeleted = "turn-deleted"
    case turnExpired = "turn-expired"
    case turnPermissionExpired = "turn-permission-expired"
    case turnChannelExpired = "turn-channel-expired"
    case iceChecksStarted = "ice-checks-started"
    case iceRestart = "ice-restart"
    case iceRoleConflict = "ice-role-conflict"
    case icePairSucceeded = "ice-pair-succeeded"
    case iceNominated = "ice-nominated"
    case iceConnected = "ice-connected"
    case iceFailed = "ice-failed"
    case dtlsHandshakeStarted = "dtls-handshake-started"
    case dtlsConnected = "dtls-connected"
    case mediaStarted = "media-started"
    case mediaStall = "media-stall"
    case mediaResumed = "media-resumed"
    case consentLost = "consent-lost"
    case natRebinding = "nat-rebinding"
    case natDropped = "nat-dropped"
}

public struct TimelineEvent: Sendable, Hashable {
    /// On the reference clock (the first vantage point's).
    public var time: CaptureTime
    public var vantage: String
    public var kind: TimelineKind
    public var summary: String
    /// What to look at: "transaction <id>", "packet <input>:<number>", a session or allocation id.
    public var refs: [String]
    /// Stable keys that join records written by several sniffers without WeDio in between (live events):
    /// `transaction` (hex id), `ice` (the two ufrags, sorted, joined by ":"), `turnClient` (the client's
    /// 5-tuple), `relayed`, `server`, `client`, `flow`.
    public var keys: [String: String] = [:]

    public init(
        time: CaptureTime, vantage: String, kind: TimelineKind, summary: String, refs: [String], keys: [String: String] = [:]
    ) {
        self.time = time
        self.vantage = vantage
        self.kind = kind
        self.summary = summary
        self.refs = refs
        self.keys = keys
    }
}

/// The connection's story in time order, from every vantage point on one clock. Bounded: at most
/// `Limits.timelineEvents`, the earliest kept; per-category caps keep a flood from crowding out the rest.
public struct Timeline: Sendable, Hashable {
    public var events: [TimelineEvent] = []
    /// The first packet of any input, on the reference clock: `offsetMs` counts from here.
    public var start: CaptureTime?
    public var dropped = 0

    public init() {}

    /// Events of one category per vantage point beyond which they are only counted.
    static let perCategory = 200

    public static func build(from result: AnalysisResult) -> Timeline {
        let clock = ReferenceClock(result)
        var timeline = Timeline()
        timeline.start = result.inputs.compactMap { input in input.firstTime.map { clock.time($0, input.vantage) } }.min()
        var counts: [String: Int] = [:]
        // The texts are built only for the events kept: a server's capture drops most (16 000 of 16 800 on
        // the ice-dense bench), and spelling them cost more than the rest of the timeline.
        func add(
            _ time: CaptureTime, _ vantage: String, _ kind: TimelineKind, _ summary: @autoclosure () -> String,
            _ refs: @autoclosure () -> [String]
        ) {
            let category = "\(vantage)/\(kind.rawValue)"
            let count = counts[category, default: 0]
            counts[category] = count + 1
            guard count < perCategory else {
                timeline.dropped += 1
                return
            }
            timeline.events.append(
                TimelineEvent(time: clock.time(time, vantage), vantage: vantage, kind: kind, summary: summary(), refs: refs()))
        }
        func ref(_ packet: PacketRef) -> String { "packet \(packet.input):\(packet.packet)" }

        for exchange in result.discoveryExchanges {
            let change =
                exchange.asksForChange
                ? " (CHANGE-REQUEST" + (exchange.changeIP ? " IP" : "") + (exchange.changePort ? " port" : "") + ")" : ""
            if exchange.answered {
                let mapped = exchange.mapped.map { ": mapped address \($0)" } ?? exchange.errorCode.map { ": error \($0)" } ?? ""
                add(
                    exchange.time, exchange.vantage, .stunBinding,
                    "\(exchange.client) asked STUN server \(exchange.server)\(change)\(mapped)",
                    ["transaction \(exchange.id)", ref(exchange.ref)])
            } else {
                add(
                    exchange.time, exchange.vantage, .stunTimeout,
                    "\(exchange.client) asked STUN server \(exchange.server)\(change): no answer",
                    ["transaction \(exchange.id)", ref(exchange.ref)])
            }
        }
        let allocates = Diagnosis.AllocateTransactions(result)
        for allocation in result.turnAllocations {
            let vantage = allocation.vantage
            for transaction in allocates[allocation] where transaction.outcome == .error {
                let code = transaction.errorCode ?? 0
                add(
                    transaction.responseTime ?? transaction.requestTime, vantage, .turnAllocateError,
                    "Allocate \(allocation.client) → \(allocation.server): \(code)"
                        + (STUNErrorCodes.reason(for: code).map { " \($0)" } ?? ""), ["transaction \(transaction.id)", allocation.id])
            }
            if let created = allocation.created {
                let relayed = allocation.relayedAddresses.map(\.description).joined(separator: ", ")
                add(
                    created, vantage, .turnAllocated,
                    "TURN allocation at \(allocation.server) for \(allocation.client): relayed \(relayed)"
                        + (allocation.lifetimeSeconds.map { ", lifetime \($0) s" } ?? ""), [allocation.id])
            }
            for permission in allocation.permissions {
                add(
                    permission.installed, vantage, .turnPermission,
                    "permission for \(permission.peer) (\(permission.installedBy))", [allocation.id])
            }
            for channel in allocation.channels {
                add(
                    channel.bound, vantage, .turnChannelBound,
                    "channel 0x\(String(channel.number, radix: 16)) bound to \(channel.peer)", [allocation.id])
            }
            for refresh in allocation.refreshes {
                if refresh.granted == 0 || (refresh.asked == 0 && refresh.granted != nil) {
                    add(refresh.time, vantage, .turnDeleted, "allocation at \(allocation.server) deleted (Refresh 0)", [allocation.id])
                } else {
                    add(
                        refresh.time, vantage, .turnRefresh,
                        "Refresh: asked \(refresh.asked.map { "\($0) s" } ?? "default"), granted "
                            + (refresh.granted.map { "\($0) s" } ?? "nothing"), [allocation.id])
                }
            }
            // Permissions (300 s) and channels (600 s) not refreshed in time lapse while the allocation lives on.
            let horizon = allocation.ended ?? result.inputs.filter { $0.vantage == vantage }.compactMap(\.lastTime).max()
            if let horizon {
                for permission in allocation.permissions where permission.expires < horizon {
                    add(
                        permission.expires, vantage, .turnPermissionExpired,
                        "permission for \(permission.peer) expired (not refreshed within 300 s)", [allocation.id])
                }
                for channel in allocation.channels where channel.expires < horizon {
                    add(
                        channel.expires, vantage, .turnChannelExpired,
                        "channel 0x\(String(channel.number, radix: 16)) to \(channel.peer) expired (not refreshed within 600 s)",
                        [allocation.id])
                }
            }
            if allocation.end == .expired, let expires = allocation.expires {
                add(expires, vantage, .turnExpired, "allocation at \(allocation.server) expired", [allocation.id])
            }
        }
        for session in result.iceSessions {
            let vantage = session.vantage
            add(
                session.firstCheck, vantage, .iceChecksStarted,
                "first connectivity check between ufrags \(session.ufrags.joined(separator: " and "))", [session.id])
            if let previous = session.restartOf {
                add(
                    session.firstCheck, vantage, .iceRestart,
                    "ICE restart: ufrags \(session.ufrags.joined(separator: " and ")) replace session \(previous)",
                    [session.id, previous])
            }
            if session.roleConflicts > 0 {
                add(
                    session.firstCheck, vantage, .iceRoleConflict,
                    "\(session.roleConflicts) × 487 Role Conflict" + (session.roleSwitches.isEmpty ? "" : "; \(session.roleSwitches.joined(separator: ", ")) switched role"),
                    [session.id])
            }
            for pair in session.pairs {
                if let success = pair.firstSuccess {
                    add(
                        success, vantage, .icePairSucceeded,
                        "pair \(pair.local) (\(pair.localType?.rawValue ?? "?")) ↔ \(pair.remote) (\(pair.remoteType?.rawValue ?? "?")) succeeded",
                        [session.id])
                }
                if let nominated = pair.nominatedAt {
                    add(nominated, vantage, .iceNominated, "pair \(pair.local) ↔ \(pair.remote) nominated", [session.id])
                }
            }
            if let selected = session.selectedPair, let success = selected.firstSuccess {
                add(
                    success, vantage, .iceConnected,
                    "connected on \(selected.local) (\(selected.localType?.rawValue ?? "?")) ↔ \(selected.remote) (\(selected.remoteType?.rawValue ?? "?"))"
                        + (session.timeToConnectMilliseconds.map { " after \(Diagnosis.formatMilliseconds($0))" } ?? ""),
                    [session.id])
            } else if session.outcome == .failed, let last = session.pairs.map(\.firstCheck).max() {
                add(last, vantage, .iceFailed, "no candidate pair succeeded", [session.id])
            }
            if let media = session.media {
                if let start = media.handshakeStart {
                    add(start, vantage, .dtlsHandshakeStarted, "DTLS handshake started", [session.id])
                }
                if let done = media.firstApplicationData {
                    add(done, vantage, .dtlsConnected, "DTLS application data (handshake done)", [session.id])
                }
                if let rtp = media.firstRTPTime { add(rtp, vantage, .mediaStarted, "first RTP packet", [session.id]) }
            }
            if let lost = session.consent?.lostAt {
                add(lost, vantage, .consentLost, "no consent answer for 30 s: consent lost", [session.id])
            }
        }
        for stall in result.mediaStalls {
            let pair = "\(stall.pair.localNamed) ↔ \(stall.pair.remoteNamed)"
            add(stall.start, stall.vantage, .mediaStall, "no media \(stall.direction) on \(pair) from here", [stall.session])
            if let end = stall.end {
                add(
                    end, stall.vantage, .mediaResumed,
                    "media \(stall.direction) on \(pair) again after \(Diagnosis.formatMilliseconds(stall.milliseconds))", [stall.session])
            }
        }
        for change in result.mappingChanges {
            add(
                change.time, change.vantage, .natRebinding,
                "mapping of \(change.internalAddress) towards \(change.destination) changed from \(change.previous) to \(change.current)",
                [ref(change.ref)])
        }
        for link in result.vantageLinks {
            guard let first = link.droppedRequests.first else { continue }
            add(
                first.time, link.outside, .natDropped,
                "\(link.droppedRequests.count) requests to \(first.flow.destination) seen at \(link.outside) never reached \(link.inside)",
                ["transaction \(first.id)", ref(first.ref)])
        }
        timeline.events.sort { ($0.time, $0.vantage) < ($1.time, $1.vantage) }
        if timeline.events.count > Limits.timelineEvents {
            timeline.dropped += timeline.events.count - Limits.timelineEvents
            timeline.events.removeLast(timeline.events.count - Limits.timelineEvents)
        }
        return timeline
    }
}
