import WeDioBasics

/// A silence of one direction of a session's media, and what happened just before it on the wire.
public struct MediaStallReport: Sendable, Hashable {
    public var session: String
    public var vantage: String
    public var pair: ICECandidatePair
    /// "local → remote" or "remote → local", from the pair's view (local: the controlling agent's side).
    public var direction: String
    public var start: CaptureTime
    /// When media came back; nil when it never did before the capture ended.
    public var end: CaptureTime?
    public var milliseconds: Double
    /// The other direction carried media meanwhile.
    public var otherDirectionFlowed: Bool
    /// What happened just before or during it, in plain words (empty: nothing on the wire explains it).
    public var causes: [String]
    public var causeKinds: Set<Cause>

    public enum Cause: String, Sendable, Hashable {
        case consentUnanswered, natRebinding, turnExpired, permissionLapsed, iceRestart, pairSwitch, captureDrops
        /// An end of the pair is a relayed address whose allocation this capture does not show.
        case relayElsewhere
    }
}

extension Diagnosis {
    /// How far before a stall its cause is looked for.
    static let causeWindowMilliseconds = 10_000.0

    /// Every stall of a session's media: the silences between packets on the pairs that carried media, and a
    /// direction that stopped while the other went on (to the end of the capture).
    public static func mediaStalls(_ result: AnalysisResult) -> [MediaStallReport] {
        var reports: [MediaStallReport] = []
        for session in result.iceSessions {
            for pair in session.pairs {
                guard let media = pair.media, media.firstRTPTime != nil else { continue }
                let forward = media.flow.source == pair.local
                func name(_ direction: Int) -> String { (direction == 0) == forward ? "local → remote" : "remote → local" }
                var silences: [(direction: Int, start: CaptureTime, end: CaptureTime?)] = media.stalls.map { ($0.direction, $0.start, $0.end) }
                for direction in 0..<2 {
                    guard let last = media.lastRTPTime[direction], let otherLast = media.lastRTPTime[1 - direction],
                        otherLast.milliseconds(since: last) >= MediaTable.silenceThreshold
                    else { continue }
                    silences.append((direction, last, nil))
                }
                for silence in silences {
                    let stop = silence.end ?? media.lastRTPTime[1 - silence.direction] ?? silence.start
                    let otherFlowed = media.stalls.contains {
                        $0.direction != silence.direction && $0.start <= silence.start && $0.end >= stop
                    } == false && (media.lastRTPTime[1 - silence.direction].map { $0 > silence.start } ?? false)
                    var report = MediaStallReport(
                        session: session.id, vantage: session.vantage, pair: pair, direction: name(silence.direction), start: silence.start,
                        end: silence.end, milliseconds: stop.milliseconds(since: silence.start), otherDirectionFlowed: otherFlowed,
                        causes: [], causeKinds: [])
                    explain(&report, session: session, result: result, until: stop)
                    reports.append(report)
                }
            }
        }
        return reports.sorted { ($0.start, $0.session) < ($1.start, $1.session) }
    }

    /// Looks for what happened from `causeWindowMilliseconds` before the stall to its end.
    private static func explain(_ report: inout MediaStallReport, session: ICESession, result: AnalysisResult, until stop: CaptureTime) {
        let windowStart = report.start.subtracting(milliseconds: causeWindowMilliseconds)
        func inWindow(_ time: CaptureTime) -> Bool { time >= windowStart && time <= stop }
        let pair = report.pair
        let ends: Set<TransportAddress> = [pair.local, pair.remote, pair.localNamed, pair.remoteNamed]
        let endIPs = Set(ends.map(\.ip))
        func add(_ kind: MediaStallReport.Cause, _ text: String) {
            guard !report.causeKinds.contains(kind) else { return }
            report.causeKinds.insert(kind)
            report.causes.append(text)
        }
        if let consent = session.consent, let silenceStart = consent.silenceStart, let silence = consent.longestSilenceMilliseconds,
            silence >= 2_000, consent.unansweredInSilence > 0,
            silenceStart <= stop, silenceStart.adding(milliseconds: Int64(silence)) >= windowStart
        {
            add(
                .consentUnanswered,
                "\(consent.unansweredInSilence) consent check\(consent.unansweredInSilence == 1 ? "" : "s") on the pair went unanswered from "
                    + "\(clockText(silenceStart, result)) "
                    + "(\(formatMilliseconds(silence)) without an answer): the path itself broke")
        }
        // Changes seen between two vantage points carry the inside one's name: matched by address, not vantage.
        for change in result.mappingChanges {
            guard inWindow(change.time), ends.contains(change.internalAddress) || ends.contains(change.previous) || ends.contains(change.current)
            else { continue }
            add(
                .natRebinding,
                "the NAT moved \(change.internalAddress) from \(change.previous) to \(change.current) at \(clockText(change.time, result)) "
                    + "(a rebinding: the peer still sends to the old address)")
        }
        for allocation in result.turnAllocations where allocation.vantage == session.vantage {
            let relayed = Set(allocation.relayedAddresses)
            guard !relayed.isDisjoint(with: ends) || ends.contains(allocation.client) else { continue }
            if allocation.end == .expired, let expires = allocation.expires, inWindow(expires) {
                add(
                    .turnExpired,
                    "the TURN allocation \(allocation.id) on \(allocation.server) expired at \(clockText(expires, result)) "
                        + "without a successful Refresh")
            }
            for permission in allocation.permissions where inWindow(permission.expires) && endIPs.contains(permission.peer) {
                add(
                    .permissionLapsed,
                    "the TURN permission for \(permission.peer) on \(allocation.id) lapsed at \(clockText(permission.expires, result)) "
                        + "(not refreshed within 300 s)")
            }
            for channel in allocation.channels where inWindow(channel.expires) && ends.contains(channel.peer) {
                add(
                    .permissionLapsed,
                    "the TURN channel 0x\(String(channel.number, radix: 16)) to \(channel.peer) lapsed at \(clockText(channel.expires, result))")
            }
        }
        let visibleRelays = Set(result.turnAllocations.filter { $0.vantage == session.vantage }.flatMap(\.relayedAddresses))
        for (address, type) in [(pair.localNamed, pair.localType), (pair.remoteNamed, pair.remoteType)]
        where type == .relay && !visibleRelays.contains(address) {
            add(
                .relayElsewhere,
                "\(address) is a TURN relayed address whose allocation is not in this capture: an allocation that expired or a "
                    + "permission that lapsed there looks like this from here")
        }
        for other in result.iceSessions where other.restartOf == session.id && inWindow(other.firstCheck) {
            add(.iceRestart, "ICE restarted at \(clockText(other.firstCheck, result)) (session \(other.id))")
        }
        for other in session.pairs where other != pair {
            guard let first = other.media?.firstRTPTime, first >= report.start.subtracting(milliseconds: 2_000), first <= stop else { continue }
            add(.pairSwitch, "media moved to the pair \(other.localNamed) ↔ \(other.remoteNamed) at \(clockText(first, result))")
        }
        for input in result.inputs where input.vantage == session.vantage {
            let dropped = input.dropWindows.filter { $0.end >= report.start && $0.start <= stop }
            let count = dropped.reduce(0) { $0 + $1.droppedByKernel + $1.droppedByInterface }
            if count > 0 {
                add(.captureDrops, "the capture itself dropped \(count) packets then: the silence may be the capture's, not the call's")
            }
        }
    }

    /// Seconds since the first packet of the capture: how the findings name times.
    static func clockText(_ time: CaptureTime, _ result: AnalysisResult) -> String {
        guard let first = result.inputs.compactMap(\.firstTime).min() else { return "?" }
        return "+" + formatMilliseconds(time.milliseconds(since: first))
    }

    static func mediaFindings(_ result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]) {
        for stall in result.mediaStalls {
            let pairText = "\(stall.pair.localNamed) ↔ \(stall.pair.remoteNamed)"
            let duration = stall.end == nil ? "from \(clockText(stall.start, result)) and never came back" : "for \(formatMilliseconds(stall.milliseconds)) from \(clockText(stall.start, result))"
            let (from, to) = stall.direction == "local → remote" ? (stall.pair.localNamed, stall.pair.remoteNamed) : (stall.pair.remoteNamed, stall.pair.localNamed)
            var message = "ICE \(stall.session): no media \(stall.direction) (\(from) → \(to)) \(duration) on the pair \(pairText)"
            message += stall.otherDirectionFlowed ? " while the other direction kept flowing." : "."
            if stall.causes.isEmpty {
                message += " Nothing on the wire here explains it."
            } else {
                message += " Just before: " + stall.causes.joined(separator: "; ") + "."
            }
            let fix: String
            if stall.causeKinds.contains(.pairSwitch) || stall.causeKinds.contains(.iceRestart) {
                fix = "Expected around a switch of the selected pair; a long gap means the new pair came late: an earlier ICE restart "
                    + "(on \"disconnected\", not \"failed\") or a relay candidate ready in advance shortens it."
            } else if stall.causeKinds.contains(.natRebinding) {
                fix = "A NAT rebinding under the call: keep-alives more often than the NAT's UDP timeout (consent every 5 s usually "
                    + "is), or a relay; the application should restart ICE when the connection goes \"disconnected\"."
            } else if stall.causeKinds.contains(.turnExpired) || stall.causeKinds.contains(.permissionLapsed)
                || stall.causeKinds.contains(.relayElsewhere)
            {
                fix = "Refresh the allocation before its lifetime ends (clients refresh at about half of it) and permissions every "
                    + "5 minutes; check that Refresh requests are answered (401/438 need new credentials or nonce)."
            } else if stall.causeKinds.contains(.consentUnanswered) {
                fix = "The path broke under the call (NAT timeout, network change, firewall): an ICE restart recovers; a relay "
                    + "candidate keeps a path that survives NAT changes."
            } else if stall.causeKinds.contains(.captureDrops) {
                fix = "Capture with a bigger buffer (wedio sniff --buffer-size) or a narrower filter, then look again."
            } else {
                fix = "The sender stopped on its own (muted or ended track, encoder stall, CPU) or packets were lost past this "
                    + "vantage point: compare with a capture at the other end and with the sender's getStats()."
            }
            var evidence = [
                Evidence(
                    "\(stall.direction) silent from \(clockText(stall.start, result))"
                        + (stall.end.map { " to \(clockText($0, result))" } ?? " to the end of the capture"),
                    vantage: stall.vantage, times: [clock.time(stall.start, stall.vantage)] + (stall.end.map { [clock.time($0, stall.vantage)] } ?? []))
            ]
            evidence += stall.causes.map { Evidence($0, vantage: stall.vantage) }
            var finding = Finding(
                severity: stall.end == nil && !stall.causeKinds.contains(.pairSwitch) ? .error : .warning, code: .mediaStall,
                message: message, evidence: evidence, fix: fix, time: clock.time(stall.start, stall.vantage))
            // The same silence seen at several vantage points (the pair named as the agents name it) is one finding.
            finding.mergeKey = "\(stall.pair.localNamed)|\(stall.pair.remoteNamed)|\(stall.direction)|\(stall.end == nil)"
            findings.append(finding)
        }

        for session in result.iceSessions {
            // One-way media on the selected pair: one direction carried almost nothing of what the other did.
            if let pair = session.selectedPair, let media = pair.media {
                let forward = media.flow.source == pair.local
                let outbound = forward ? media.rtpPackets.first : media.rtpPackets.second
                let inbound = forward ? media.rtpPackets.second : media.rtpPackets.first
                let (silent, busy, silentName) = outbound < inbound ? (outbound, inbound, "local → remote") : (inbound, outbound, "remote → local")
                if busy >= 50, silent * 10 < busy {
                    let silentDirection = (silentName == "local → remote") == forward ? 0 : 1
                    let rtcp = media.rtcpSenders.filter { $0.direction == silentDirection }.reduce(0) { $0 + $1.packets }
                    var message =
                        "ICE \(session.id): one-way media on the selected pair \(pair.localNamed) ↔ \(pair.remoteNamed): "
                        + "\(busy) RTP packets one way, \(silent) \(silentName)."
                    if rtcp > 0 {
                        message += " That side did send \(rtcp) RTCP packets: it is there and receiving, but sends no media."
                    }
                    findings.append(
                        Finding(
                            severity: .error, code: .oneWayMedia, message: message,
                            evidence: [
                                Evidence(
                                    "RTP \(silentName): \(silent) packets; the other way: \(busy); RTCP \(silentName): \(rtcp)",
                                    vantage: session.vantage, times: media.firstRTPTime.map { [clock.time($0, session.vantage)] } ?? [])
                            ],
                            fix:
                                rtcp > 0
                                ? "The silent side sends no media of its own: a muted or missing track, a recvonly/inactive direction in "
                                    + "its SDP, or an encoder that never started; check its getStats() outbound-rtp."
                                : "Media is lost one way: a firewall or NAT filtering one direction (its mapping towards the peer "
                                    + "expired), or the sender is not sending; capture at the silent side to tell which.",
                            time: media.firstRTPTime.map { clock.time($0, session.vantage) },
                            mergeKey: "\(pair.localNamed)|\(pair.remoteNamed)"))
                }
            }
            // Media moving from one pair to another inside the session (renomination, a network change).
            let carriers = session.pairs.filter { $0.media?.firstRTPTime != nil }
                .sorted { ($0.media?.firstRTPTime ?? CaptureTime(nanoseconds: 0)) < ($1.media?.firstRTPTime ?? CaptureTime(nanoseconds: 0)) }
            for (previous, next) in zip(carriers, carriers.dropFirst()) {
                guard let started = next.media?.firstRTPTime, let before = previous.media else { continue }
                let lastBefore = [before.lastRTPTime[0], before.lastRTPTime[1]].compactMap { $0 }.max()
                let gap = lastBefore.map { started.milliseconds(since: $0) }
                var message =
                    "ICE \(session.id): media moved from \(previous.localNamed) ↔ \(previous.remoteNamed) to "
                    + "\(next.localNamed) ↔ \(next.remoteNamed) at \(clockText(started, result))"
                if let gap, gap > 0 {
                    message += ", \(formatMilliseconds(gap)) after the last packet on the old pair."
                } else {
                    message += " (both carried media for a while)."
                }
                // Seen outside a NAT, a rebinding looks like a new pair: the same agent, a new public port.
                let rebinding = result.mappingChanges.first {
                    ($0.previous == previous.local && $0.current == next.local) || ($0.previous == previous.remote && $0.current == next.remote)
                }
                if let rebinding {
                    message +=
                        " Not a choice of ICE: the NAT in front of \(rebinding.internalAddress) moved it from \(rebinding.previous) to "
                        + "\(rebinding.current) (a rebinding), and the peer still sends to the old address."
                } else if next.nominatedAt != nil, next.nominated {
                    message += " The new pair was nominated."
                }
                findings.append(
                    Finding(
                        severity: (gap ?? 0) >= MediaTable.silenceThreshold || rebinding != nil ? .warning : .info, code: .pairSwitch,
                        message: message,
                        evidence: [
                            Evidence(
                                "first RTP on the new pair", vantage: session.vantage, times: [clock.time(started, session.vantage)])
                        ],
                        fix:
                            "A switch is normal after a network change or renomination; a gap of seconds means the new path was "
                            + "not ready: keep a second pair warm (continual gathering) or restart ICE sooner.",
                        time: clock.time(started, session.vantage),
                        mergeKey: "\(previous.localNamed)|\(previous.remoteNamed)|\(next.localNamed)|\(next.remoteNamed)"))
            }
        }
    }
}
