import WeDioAnalysis
import WeDioBasics
import WeDioSTUN

/// The terminal summary: concise, coloured only when asked (stdout a terminal and NO_COLOR unset).
public struct TextReport: Sendable {
    public var color: Bool
    public var toolVersion: String

    public init(color: Bool, toolVersion: String) {
        self.color = color
        self.toolVersion = toolVersion
    }

    private func bold(_ text: String) -> String { color ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    private func red(_ text: String) -> String { color ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    private func yellow(_ text: String) -> String { color ? "\u{1B}[33m\(text)\u{1B}[0m" : text }

    /// Capture bytes reach the report (usernames, realms, reason phrases): every control character but the
    /// line feed is shown as \xNN, so a hostile capture cannot drive the terminal. With colour, the only
    /// escape sequences kept are the four SGR codes this report writes (bold, red, yellow, reset).
    public static func printable(_ text: String, keepingColour: Bool) -> String {
        var output = ""
        output.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\u{1B}", keepingColour, let length = ownColourCode(scalars, at: index) {
                output.unicodeScalars.append(contentsOf: scalars[index..<(index + length)])
                index += length
                continue
            }
            let value = scalar.value
            if (value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(value) {
                output += "\\x" + (value < 0x10 ? "0" : "") + String(value, radix: 16, uppercase: true)
            } else {
                output.unicodeScalars.append(scalar)
            }
            index += 1
        }
        return output
    }

    /// The length of "ESC[0m", "ESC[1m", "ESC[31m" or "ESC[33m" at `index`, else nil.
    private static func ownColourCode(_ scalars: [Unicode.Scalar], at index: Int) -> Int? {
        for code in ["[0m", "[1m", "[31m", "[33m"] {
            let tail = Array(code.unicodeScalars)
            guard index + tail.count < scalars.count else { continue }
            if Array(scalars[(index + 1)...(index + tail.count)]) == tail { return tail.count + 1 }
        }
        return nil
    }

    public func render(_ result: AnalysisResult) -> String {
        var lines: [String] = []
        lines.append(bold("WeDio \(toolVersion)") + " — \(result.inputs.count) input\(result.inputs.count == 1 ? "" : "s")")
        for input in result.inputs {
            lines.append(contentsOf: renderInput(input))
        }
        lines.append("")
        let verdict = Verdict.sentence(result)
        let failed = result.findings.contains { $0.severity == .error }
        lines.append(bold("Verdict") + "  " + (failed ? red(verdict) : verdict))
        if !result.findings.isEmpty {
            lines.append("")
            lines.append(bold("Findings"))
            for finding in result.findings.prefix(20) {
                let label = "[\(finding.severity.rawValue)] \(finding.code.rawValue)"
                let shown = finding.severity == .error ? red(label) : finding.severity == .warning ? yellow(label) : label
                lines.append("  \(shown): \(finding.message)")
                lines.append("    fix: \(finding.fix)")
            }
            if result.findings.count > 20 { lines.append("  … \(result.findings.count - 20) more (see --format json)") }
        }
        let stats = result.statistics
        lines.append("")
        lines.append(bold("Traffic"))
        lines.append(
            "  \(stats.packets) packets · \(stats.udpPackets) UDP · \(stats.tcpSegments) TCP segments")
        lines.append(
            "  STUN \(stats.stunMessages) · classic STUN \(stats.classicStunMessages) · ChannelData \(stats.channelData)"
                + " · STUN relayed through TURN \(stats.relayedStunMessages)")
        lines.append(
            "  DTLS records \(stats.dtlsRecords) · RTP \(stats.rtpPackets) · RTCP \(stats.rtcpPackets)"
                + (stats.zrtpPackets > 0 ? " · ZRTP \(stats.zrtpPackets)" : "")
                + (stats.tlsBytes > 0 ? " · TLS bytes \(stats.tlsBytes)" : ""))
        if !result.methodCounts.isEmpty {
            lines.append("")
            lines.append(bold("STUN messages"))
            for (name, count) in result.methodCounts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                lines.append("  " + pad(name, 32) + "\(count)")
            }
        }
        lines.append(contentsOf: renderTransactions(result.transactions))
        // A call told once, where it spans several sessions (vantage points, restarts).
        let toldCalls = result.calls.filter { $0.sessions.count > 1 }
        for call in toldCalls.prefix(10) { lines.append(contentsOf: renderCall(call)) }
        if toldCalls.count > 10 { lines.append("… \(toldCalls.count - 10) more calls (see --format json)") }
        for session in result.iceSessions.prefix(10) { lines.append(contentsOf: renderSession(session)) }
        if result.iceSessions.count > 10 { lines.append("… \(result.iceSessions.count - 10) more ICE sessions (see --format json)") }
        if !result.mediaStreams.isEmpty {
            lines.append("")
            lines.append(bold("Media streams") + " (RTP, per SSRC and direction)")
            for summary in result.mediaStreams.prefix(20) { lines.append("  " + MediaText.streamLine(summary)) }
            let more = result.mediaStreams.count - 20 + result.mediaStreamsDropped
            if more > 0 { lines.append("  … \(more) more streams (see --format json)") }
        }
        for allocation in result.turnAllocations.prefix(10) { lines.append(contentsOf: renderAllocation(allocation)) }
        if result.turnAllocations.count > 10 {
            lines.append("… \(result.turnAllocations.count - 10) more TURN allocations (see --format json)")
        }
        for connection in result.encryptedTURN.prefix(12) {
            lines.append("")
            lines.append(
                bold("Encrypted TURN") + " \(connection.security.uppercased()) \(connection.client) → \(connection.server): "
                    + "\(Diagnosis.formatMilliseconds(connection.durationMilliseconds)), \(connection.bytesToServer) bytes up, "
                    + "\(connection.bytesFromServer) bytes down (content encrypted; TURN by \(connection.evidence))")
        }
        lines.append(contentsOf: renderNAT(result))
        var problems: [String] = []
        if stats.truncated > 0 { problems.append("\(stats.truncated) truncated") }
        if stats.malformed > 0 { problems.append("\(stats.malformed) malformed") }
        if stats.fingerprintFailures > 0 { problems.append("\(stats.fingerprintFailures) bad FINGERPRINT") }
        if stats.integrityFailures > 0 { problems.append("\(stats.integrityFailures) failed MESSAGE-INTEGRITY") }
        var dropped: [String] = []
        if stats.fragmentsEvicted + stats.fragmentsTimedOut > 0 {
            dropped.append("\(stats.fragmentsEvicted + stats.fragmentsTimedOut) incomplete IP datagrams")
        }
        if stats.fragmentOverlaps > 0 { dropped.append("\(stats.fragmentOverlaps) overlapping fragments") }
        if stats.tcpGaps > 0 { dropped.append("\(stats.tcpGaps) TCP gaps") }
        if stats.tcpStreamsEvicted > 0 { dropped.append("\(stats.tcpStreamsEvicted) TCP streams evicted") }
        if stats.stunFlowsReplaced > 0 { dropped.append("\(stats.stunFlowsReplaced) STUN flows forgotten") }
        if !dropped.isEmpty { problems.append("capped: " + dropped.joined(separator: ", ")) }
        if !problems.isEmpty {
            lines.append("")
            lines.append(yellow("Problems: " + problems.joined(separator: ", ")))
        }
        return Self.printable(lines.joined(separator: "\n") + "\n", keepingColour: color)
    }

    private func renderTransactions(_ tracker: TransactionTracker) -> [String] {
        let summary = tracker.summary()
        let counts = summary.outcomes
        guard summary.count > 0 else { return [] }
        var lines = ["", bold("Transactions")]
        let parts: [(TransactionOutcome, String)] = [(.success, "answered"), (.error, "error"), (.timeout, "timed out"), (.indication, "indications")]
        lines.append("  " + parts.compactMap { outcome, label in counts[outcome].map { "\($0) \(label)" } }.joined(separator: " · "))
        let kept = tracker.transactions
        let rtts = kept.compactMap(\.rttMilliseconds).sorted()
        if !rtts.isEmpty {
            let median = rtts[rtts.count / 2]
            let of = tracker.evicted > 0 ? " (of the \(kept.count) kept)" : ""
            lines.append("  RTT median \(format(median)) ms, max \(format(rtts[rtts.count - 1])) ms\(of)")
        }
        if summary.retransmitted > 0 { lines.append("  \(summary.retransmitted) requests retransmitted") }
        if tracker.orphanResponses > 0 { lines.append("  \(tracker.orphanResponses) responses without a request in the capture") }
        if tracker.evicted > 0 {
            lines.append(
                "  \(tracker.evicted) transactions between the first \(TransactionTracker.headCapacity) and the latest "
                    + "\(TransactionTracker.ringCapacity) only counted (cap \(Limits.transactions))")
        }
        let errors = summary.errors.map { tally, count in
            ("\(tally.method) \(tally.code.map(String.init) ?? "?") \(tally.code.flatMap(STUNErrorCodes.reason(for:)) ?? "")", count)
        }
        for (error, count) in errors.sorted(by: { $0.0 < $1.0 }) { lines.append("  \(count) × \(error)") }
        let timeoutCount = counts[.timeout, default: 0]
        var shown = 0
        for transaction in kept where transaction.outcome == .timeout {
            lines.append(yellow("  timeout: \(transaction.method) \(transaction.client) → \(transaction.server), \(transaction.retransmissions + 1) sends, id \(transaction.id)"))
            shown += 1
            if shown == 5 { break }
        }
        if timeoutCount > shown { lines.append(yellow("  … and \(timeoutCount - shown) more timeouts")) }
        return lines
    }

    private func renderCall(_ call: ICECall) -> [String] {
        let later = call.generations.dropFirst().map { $0.joined(separator: " / ") }
        var lines = [
            "", bold("Call \(call.id)") + "  ufrags \(call.generations.first?.joined(separator: " / ") ?? "?")"
                + (later.isEmpty ? "" : "  (then \(later.joined(separator: ", then ")))"),
        ]
        let time = call.timeToConnectMilliseconds.map { " in \(Diagnosis.formatMilliseconds($0))" } ?? ""
        if let a = call.controlling, let b = call.controlled {
            lines.append("  \(call.outcome.rawValue)\(time) via \(Verdict.callEnd(a)) ↔ \(Verdict.callEnd(b))")
        } else {
            lines.append("  \(call.outcome.rawValue)\(time)")
        }
        if call.restarts > 0 { lines.append("  ICE restarts: \(call.restarts)") }
        lines.append("  seen at \(call.vantages.joined(separator: ", ")): \(call.sessions.joined(separator: ", "))")
        for relay in call.relays {
            lines.append("  relay \(relay.relayed) of \(relay.agent): \(relay.allocations.joined(separator: ", "))")
        }
        return lines
    }

    private func renderSession(_ session: ICESession) -> [String] {
        var lines = [
            "", bold("ICE session \(session.id)") + "  ufrags \(session.ufrags.joined(separator: " / "))"
                + (session.restartOf.map { "  (ICE restart of \($0))" } ?? ""),
        ]
        let verdict: String
        switch session.outcome {
        case .connected:
            if let pair = session.selectedPair {
                let time = session.timeToConnectMilliseconds.map { " in \(format($0)) ms" } ?? ""
                verdict = "connected\(time) on \(Verdict.end(pair.local, pair.localCandidate)) (\(pair.localType?.rawValue ?? "?")) ↔ \(Verdict.end(pair.remote, pair.remoteCandidate)) (\(pair.remoteType?.rawValue ?? "?"))"
            } else {
                verdict = "a pair succeeded but none was seen nominated"
            }
        case .failed: verdict = red("failed: every candidate pair failed")
        case .incomplete:
            verdict = session.relayedChecks > 0
                ? yellow("undecided here: \(session.relayedChecks) checks went through TURN, which WeDio does not yet place on pairs")
                : yellow("incomplete: checks still in progress when the capture ended")
        }
        lines.append("  " + verdict)
        lines.append("  controlling \(session.controlling ?? "?"), controlled \(session.controlled ?? "?")"
            + (session.roleConflicts > 0 ? ", \(session.roleConflicts) role conflict(s), switched: \(session.roleSwitches.joined(separator: ", "))" : ""))
        for candidate in session.candidates {
            let how = [candidate.gathered ? "gathered" : nil, candidate.checked ? "checked" : nil].compactMap { $0 }.joined(separator: ", ")
            let base = candidate.base.map { ", base \($0)" } ?? ""
            lines.append("  candidate \(pad(candidate.type.rawValue, 6))\(candidate.address)  agent \(candidate.agent)  (\(how)\(base))")
        }
        if let media = session.media {
            let first = session.timeToFirstMediaMilliseconds.map { ", first RTP after \(format($0)) ms" } ?? ""
            lines.append("  media: RTP \(media.rtpPackets[0]) / \(media.rtpPackets[1]), RTCP \(media.rtcpPackets[0]) / \(media.rtcpPackets[1]), DTLS records \(media.dtlsRecords.total), \(media.ssrcs.count) SSRCs, payload types \(media.payloadTypeList.map(String.init).joined(separator: ","))\(first)"
                + (media.rtpLost.total > 0 ? ", ~\(media.rtpLost.total) RTP lost" : "")
                + (media.dtlsAlerts > 0 ? ", \(media.dtlsAlerts) DTLS alerts" : ""))
        }
        for (agent, info) in session.networkInfo.sorted(by: { $0.key < $1.key }) {
            lines.append("  network of \(agent): id \(info.networkID), cost \(info.cost) (GOOG-NETWORK-INFO)")
        }
        if session.googPings > 0 { lines.append("  \(session.googPings) GOOG-PING requests") }
        if let consent = session.consent, consent.checks > 0 {
            let interval = consent.medianIntervalMilliseconds.map { ", every \(format($0)) ms" } ?? ""
            lines.append("  consent: \(consent.checks) checks after connecting, \(consent.answered) answered\(interval)"
                + (consent.lost ? red(", consent LOST (no answer for 30 s)") : ""))
        }
        for pair in session.pairs {
            let rtt = pair.rttMilliseconds.sorted()
            let median = rtt.isEmpty ? "" : ", RTT \(format(rtt[rtt.count / 2])) ms"
            lines.append("  pair \(Verdict.end(pair.local, pair.localCandidate)) ↔ \(Verdict.end(pair.remote, pair.remoteCandidate)): \(pair.state.rawValue), \(pair.checks) checks, \(pair.responses) answered\(median)\(pair.nominated ? ", nominated" : "")")
        }
        return lines
    }

    private func renderAllocation(_ allocation: TURNAllocation) -> [String] {
        var lines = ["", bold("TURN allocation \(allocation.id)") + "  \(allocation.client) → \(allocation.server) (\(allocation.transport.rawValue))"]
        var who: [String] = []
        if let username = allocation.username { who.append("user \(username)") }
        if let realm = allocation.realm { who.append("realm \(realm)") }
        let errors = allocation.allocateErrors.map(String.init).joined(separator: ", ")
        switch allocation.end {
        case .failed:
            // Never answered is not refused: say which it was, and list errors only when there were some.
            let reason =
                allocation.credentialsRefused > 0
                ? "credentials refused (401 after an authenticated request); errors \(errors)"
                : errors.isEmpty ? "no answer to the Allocate" : "Allocate refused; errors \(errors)"
            lines.append(red("  failed: \(reason)") + (who.isEmpty ? "" : "  \(who.joined(separator: ", "))"))
        case .alive, .deleted, .expired:
            let relayed = allocation.relayedAddresses.map(\.description).joined(separator: ", ")
            let lifetime = allocation.lifetimeSeconds.map { ", lifetime \($0) s" } ?? ""
            lines.append("  relayed \(relayed)\(lifetime), \(allocation.end.rawValue)" + (who.isEmpty ? "" : "  \(who.joined(separator: ", "))")
                + (errors.isEmpty ? "" : "; Allocate errors first: \(errors)"))
        }
        if !allocation.refreshes.isEmpty { lines.append("  \(allocation.refreshes.count) refreshes") }
        for permission in allocation.permissions {
            lines.append("  permission \(permission.peer) (\(permission.installedBy))")
        }
        for channel in allocation.channels {
            lines.append("  channel 0x\(String(channel.number, radix: 16)) → \(channel.peer)")
        }
        let totals = allocation.totals
        if totals.packetsToPeer + totals.packetsFromPeer > 0 {
            lines.append("  relayed \(totals.packetsToPeer) packets / \(totals.bytesToPeer) bytes to peers, \(totals.packetsFromPeer) / \(totals.bytesFromPeer) from peers")
        }
        if allocation.sendsWithoutPermission > 0 { lines.append(yellow("  \(allocation.sendsWithoutPermission) sends to peers without permission")) }
        if allocation.unboundChannelData > 0 { lines.append(yellow("  \(allocation.unboundChannelData) ChannelData on unbound channels")) }
        for connection in allocation.tcpConnections.prefix(8) {
            let state =
                connection.errorCode.map { "refused \($0)" }
                ?? (connection.bound != nil
                    ? "bound on \(connection.dataConnection?.source.description ?? "?"), \(connection.bytesToPeer) bytes to the peer, "
                        + "\(connection.bytesFromPeer) from it" : "not bound")
            lines.append(
                "  TCP connection (RFC 6062) to \(connection.peer), opened by the \(connection.initiator.rawValue)"
                    + (connection.connectionID.map { ", id \($0)" } ?? "") + ": \(state)")
        }
        if allocation.tcpConnections.count > 8 { lines.append("  … \(allocation.tcpConnections.count - 8) more TCP connections") }
        return lines
    }

    private func format(_ milliseconds: Double) -> String {
        let micro = Int((milliseconds * 1000).rounded())
        return "\(micro / 1000).\(pad3(micro % 1000))"
    }

    private func renderInput(_ input: InputSummary) -> [String] {
        var lines: [String] = []
        let link = input.linkType ?? "-"
        lines.append(
            "  \(input.path)  [\(input.vantage)]  \(link)  \(input.packets) packets, \(input.bytes) bytes"
                + (input.firstTime.map { ", \(TimeFormat.rfc3339($0))" } ?? "")
                + (input.packets > 1 ? String(format3(input.durationSeconds)) : ""))
        switch input.status {
        case .complete:
            break
        case .damaged:
            lines.append(yellow("    damaged: \(input.failure ?? "read error") (everything before it was analysed)"))
        case .unreadable:
            lines.append(red("    unreadable: \(input.failure ?? "cannot open")"))
        }
        if let counters = input.liveCounters {
            let line =
                "    kernel: \(counters.received) received, \(counters.droppedByKernel) dropped (buffer full), "
                + "\(counters.droppedByInterface) dropped by the interface"
                + (input.dropWindows.isEmpty ? "" : "; losses in \(input.dropWindows.count) window\(input.dropWindows.count == 1 ? "" : "s")")
            lines.append(counters.dropped > 0 ? red(line) : line)
        }
        for interface in input.interfaces.prefix(16) {
            let named = [interface.name, interface.description].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
            var line = "    interface \(interface.index)\(named.isEmpty ? "" : " (\(named))"): \(interface.linkType), \(interface.packets) packets"
            if interface.received != nil || interface.droppedByInterface != nil || interface.droppedByOS != nil {
                line += "; capture statistics: \(interface.received.map { "\($0) received, " } ?? "")"
                    + "\(interface.droppedByOS ?? 0) dropped by the OS, \(interface.droppedByInterface ?? 0) by the interface"
            }
            lines.append((interface.droppedByOS ?? 0) + (interface.droppedByInterface ?? 0) > 0 ? red(line) : line)
        }
        if input.decryptionSecretsBlocks > 0 {
            lines.append("    \(input.decryptionSecretsBlocks) Decryption Secrets Blocks (kept for TLS decryption, not used yet)")
        }
        for comment in input.comments.prefix(3) { lines.append("    comment: \(comment)") }
        if !input.errors.isEmpty {
            let counts = input.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("    packet problems: \(counts)")
            if let first = input.errorSamples.first {
                lines.append("    first: \(first)")
            }
        }
        return lines
    }

    private func format3(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        return " over \(milliseconds / 1000).\(pad3(milliseconds % 1000)) s"
    }

    private func pad3(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 3 - text.count)) + text
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }

    private func renderNAT(_ result: AnalysisResult) -> [String] {
        let translated = result.natMappings.filter(\.translated)
        guard !translated.isEmpty || !result.natBehaviour.isEmpty || !result.vantageLinks.isEmpty else { return [] }
        var lines = ["", bold("NAT")]
        for link in result.vantageLinks {
            let offset = link.clockOffsetMilliseconds.map { "\(($0 * 1000).rounded() / 1000) ms" } ?? "unknown"
            lines.append(
                "  \(link.inside) ↔ \(link.outside): \(link.matchedTransactions) transactions on both, \(link.translated) translated"
                    + (link.singleNAT && link.oriented ? " (one NAT, \(link.inside) inside)" : "") + ", clock offset \(offset)"
                    + (link.droppedRequests.isEmpty ? "" : ", \(link.droppedRequests.count) requests dropped by the NAT"))
        }
        for behaviour in result.natBehaviour {
            var parts: [String] = []
            if let mapping = behaviour.mapping { parts.append("mapping \(mapping.rawValue)") }
            if let filtering = behaviour.filtering { parts.append("filtering \(filtering.rawValue)") }
            if let allocation = behaviour.portAllocation { parts.append("ports \(allocation)") }
            if let name = behaviour.classicName { parts.append("(\(name))") }
            if behaviour.fromRFC5780 { parts.append("[RFC 5780]") }
            lines.append(
                "  NAT \(behaviour.externalIP) seen from \(behaviour.vantage): "
                    + (parts.isEmpty ? "not enough data to classify" : parts.joined(separator: ", ")))
        }
        let shown = translated.prefix(12)
        for mapping in shown {
            lines.append(
                "    \(pad(mapping.internalAddress.description, 24)) → \(pad(mapping.externalAddress.description, 24)) towards "
                    + "\(mapping.destination) (\(mapping.source.rawValue))")
        }
        if translated.count > shown.count { lines.append("    … \(translated.count - shown.count) more mappings") }
        return lines
    }
}

/// RFC 3339 UTC timestamps with microseconds, computed from capture time without Foundation.
public enum TimeFormat {
    public static func rfc3339(_ time: CaptureTime) -> String {
        var bytes = ByteBuffer(capacity: 32)
        append(time, to: &bytes)
        return bytes.text
    }

    /// The same text written into `out` (a report writes a million of them: no String in between).
    public static func append(_ time: CaptureTime, to out: inout ByteBuffer) {
        let nanoseconds = time.nanoseconds
        var seconds = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000
        if fraction < 0 {
            fraction += 1_000_000_000
            seconds -= 1
        }
        let microseconds = Int(fraction / 1000)
        var days = seconds / 86_400
        var secondOfDay = Int(seconds % 86_400)
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        if (1000...9999).contains(year) {
            // Years of four digits, the usual case, in one write with one room check (27 bytes): field by field,
            // each with its own check, a time cost 900 instructions (a server's report writes a hundred thousand).
            let (hour, minute, second) = (secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
            unsafe out.append(atMost: 27) { target in
                func put(_ value: Int, width: Int, at start: Int, then separator: UInt8) {
                    unsafe ByteBuffer.writeDigits(UInt64(value.magnitude), count: width, to: target + start)
                    unsafe target[start &+ width] = separator
                }
                put(Int(year), width: 4, at: 0, then: UInt8(ascii: "-"))
                put(Int(month), width: 2, at: 5, then: UInt8(ascii: "-"))
                put(Int(day), width: 2, at: 8, then: UInt8(ascii: "T"))
                put(hour, width: 2, at: 11, then: UInt8(ascii: ":"))
                put(minute, width: 2, at: 14, then: UInt8(ascii: ":"))
                put(second, width: 2, at: 17, then: UInt8(ascii: "."))
                put(microseconds, width: 6, at: 20, then: UInt8(ascii: "Z"))
                return 27
            }
            return
        }
        // A year of other than four digits is spelled as an integer (no year 0999).
        out.appendDecimal(year)
        out.append(UInt8(ascii: "-"))
        out.appendPadded(Int(month), width: 2)
        out.append(UInt8(ascii: "-"))
        out.appendPadded(Int(day), width: 2)
        out.append(UInt8(ascii: "T"))
        out.appendPadded(secondOfDay / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        out.appendPadded(secondOfDay / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        out.appendPadded(secondOfDay % 60, width: 2)
        out.append(UInt8(ascii: "."))
        out.appendPadded(microseconds, width: 6)
        out.append(UInt8(ascii: "Z"))
    }

    /// Days since 1970-01-01 → proleptic Gregorian date (H. Hinnant's civil_from_days algorithm).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
