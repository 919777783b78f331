import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// Turns what the trackers reconstructed into findings. Each rule names its code; thresholds are the
/// RFCs' where they have one (RFC 7675's 30 s consent, RFC 8489's retransmission schedule).
public enum Diagnosis {
    /// From first check to first success above this is worth explaining (RFC 8445 §14.3 paces checks every
    /// 50 ms; a healthy call connects well under a second, browsers show a spinner past two).
    public static let slowConnectMilliseconds = 2_000.0

    public static func findings(for result: AnalysisResult) -> [Finding] {
        var findings: [Finding] = []
        let clock = ReferenceClock(result)
        iceFindings(result, clock: clock, into: &findings)
        turnFindings(result, clock: clock, into: &findings)
        natFindings(result, clock: clock, into: &findings)
        messageFindings(result, clock: clock, into: &findings)
        captureFindings(result, clock: clock, into: &findings)
        icmpFindings(result, clock: clock, into: &findings)
        mediaFindings(result, clock: clock, into: &findings)
        for comparison in result.browserComparisons where !comparison.agrees {
            findings.append(
                Finding(
                    severity: .warning, code: .browserDisagrees,
                    message:
                        "The browser's own view (\(comparison.view.source), peer connection \(comparison.view.peerConnection)) "
                        + "differs from the wire's\(comparison.call.map { " call \($0)" } ?? ""): "
                        + comparison.differences.joined(separator: "; ") + ".",
                    evidence: [Evidence(comparison.differences.joined(separator: "; "))],
                    fix:
                        "A dump from another call or another moment (the browser switched pairs after the capture ended), "
                        + "or a capture that missed part of the call: compare the times; the wire shows what was sent.",
                    time: nil))
        }
        var merged: [Finding] = []
        var byKey: [String: Int] = [:]
        for finding in findings {
            if let key = finding.mergeKey.map({ "\(finding.code.rawValue)/\($0)" }), let index = byKey[key] {
                merged[index].evidence += finding.evidence
                merged[index].severity = max(merged[index].severity, finding.severity)
                if let time = finding.time, merged[index].time.map({ time < $0 }) ?? true { merged[index].time = time }
                continue
            }
            if let key = finding.mergeKey.map({ "\(finding.code.rawValue)/\($0)" }) { byKey[key] = merged.count }
            merged.append(finding)
        }
        // The same sentence twice (two vantage points, or two clients the sentence does not name) reads as a
        // repeat: one finding, with each one's evidence (which names the client and the vantage point).
        var bySentence: [String: Int] = [:]
        var distinct: [Finding] = []
        for finding in merged {
            let sentence = "\(finding.code.rawValue)/\(finding.message)"
            if let index = bySentence[sentence] {
                distinct[index].evidence += finding.evidence
                distinct[index].severity = max(distinct[index].severity, finding.severity)
                if let time = finding.time, distinct[index].time.map({ time < $0 }) ?? true { distinct[index].time = time }
                continue
            }
            bySentence[sentence] = distinct.count
            distinct.append(finding)
        }
        merged = distinct
        // Worst first, then in time order.
        merged.sort {
            if $0.severity != $1.severity { return $0.severity > $1.severity }
            return ($0.time?.nanoseconds ?? .max, $0.code.rawValue) < ($1.time?.nanoseconds ?? .max, $1.code.rawValue)
        }
        return capped(merged)
    }

    /// At most `Limits.findingsPerCode` findings of a code; the rest become one finding that counts them.
    static func capped(_ findings: [Finding]) -> [Finding] {
        var perCode: [FindingCode: Int] = [:]
        var rest: [FindingCode: (count: Int, severity: Severity, first: Finding)] = [:]
        var kept: [Finding] = []
        for finding in findings {
            let seen = perCode[finding.code, default: 0]
            perCode[finding.code] = seen + 1
            if seen < Limits.findingsPerCode {
                kept.append(finding)
            } else if let previous = rest[finding.code] {
                rest[finding.code] = (previous.count + 1, max(previous.severity, finding.severity), previous.first)
            } else {
                rest[finding.code] = (1, finding.severity, finding)
            }
        }
        for code in FindingCode.allCases {
            guard let summary = rest[code] else { continue }
            kept.append(
                Finding(
                    severity: summary.severity, code: code,
                    message: "… and \(summary.count) more findings of this kind (the first: \(summary.first.message))",
                    evidence: [], fix: summary.first.fix, time: summary.first.time))
        }
        return kept
    }

    // MARK: ICE

    static func iceFindings(_ result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]) {
        struct CheckKey: Hashable {
            var vantage: String
            var client: TransportAddress
            var server: TransportAddress
        }
        // Transaction ids per pair, for the failed sessions only (a flood has hundreds of thousands).
        var wanted: Set<CheckKey> = []
        for session in result.iceSessions where session.outcome != .connected {
            for pair in session.pairs.prefix(64) {
                wanted.insert(CheckKey(vantage: session.vantage, client: pair.local, server: pair.remote))
                wanted.insert(CheckKey(vantage: session.vantage, client: pair.remote, server: pair.local))
            }
        }
        var checkIDs: [CheckKey: [TransactionID]] = [:]
        if !wanted.isEmpty {
            for transaction in result.transactions.transactions where transaction.method == .binding {
                let key = CheckKey(vantage: transaction.vantage, client: transaction.client, server: transaction.server)
                guard wanted.contains(key) else { continue }
                if checkIDs[key, default: []].count < Finding.evidenceItemsKept { checkIDs[key, default: []].append(transaction.id) }
            }
        }
        func ids(_ session: ICESession) -> [String] {
            var found: [TransactionID] = []
            for pair in session.pairs.prefix(64) {
                found += checkIDs[CheckKey(vantage: session.vantage, client: pair.local, server: pair.remote)] ?? []
                found += checkIDs[CheckKey(vantage: session.vantage, client: pair.remote, server: pair.local)] ?? []
                if found.count >= Finding.evidenceItemsKept { break }
            }
            return found.prefix(Finding.evidenceItemsKept).map(\.description)
        }
        var captureEnd: [String: CaptureTime] = [:]
        for input in result.inputs {
            if let last = input.lastTime { captureEnd[input.vantage] = max(captureEnd[input.vantage] ?? last, last) }
        }
        for session in result.iceSessions {
            let start = findings.count
            defer {
                // Spelled only for a session with findings: most of a server's thousands have none.
                if findings.count > start {
                    let key = session.ufrags.sorted().joined(separator: ":")
                    for index in start..<findings.count { findings[index].mergeKey = key }
                }
            }
            var name: String { sessionName(session) }
            let time = clock.time(session.firstCheck, session.vantage)
            let checks = session.checksSeen
            // Still checking when the capture ended counts as failed only if the capture went on long enough for
            // ICE to give up (RFC 8445's checks of a pair end after about 40 s; agents give up well before).
            let gaveUp =
                session.outcome == .failed
                || (session.outcome == .incomplete
                    && (captureEnd[session.vantage].map { $0.milliseconds(since: session.firstCheck) > 10_000 } ?? false))
            if gaveUp, checks > 0 {
                let answered = session.pairs.reduce(0) { $0 + $1.responses + $1.errors.count } + session.answersOnOmittedPairs
                // Checks beyond the session's cap were counted, not followed: nothing is claimed about their answers.
                let keptChecks = checks - session.checksDropped
                let beyondCap = session.checksDropped > 0 ? "; \(session.checksDropped) more checks (of \(checks) seen) were counted only." : "."
                let pairList = session.pairs.prefix(6).map { "\($0.local) ↔ \($0.remote): \($0.checks) checks, \($0.responses) answers" }
                let evidence = [
                    Evidence(pairList.joined(separator: "; "), vantage: session.vantage, transactions: ids(session), times: [time])
                ]
                if answered == 0 {
                    findings.append(
                        Finding(
                            severity: .error, code: .iceFailedNoResponse,
                            message:
                                "ICE \(name) did not connect: none of the \(keptChecks) connectivity checks on "
                                + "\(session.pairs.count + session.pairsOmitted) candidate pairs was answered" + beyondCap,
                            evidence: evidence,
                            fix:
                                "The two sides' packets never reach each other. When both are behind NATs or firewalls, give "
                                + "the agents a TURN server (also TURN over TCP/TLS on port 443 for networks that block UDP) so "
                                + "a relay candidate exists; check that UDP to the peer's candidates is allowed.",
                            time: time))
                } else {
                    let codes = Set(session.pairs.flatMap(\.errors)).sorted().map(String.init).joined(separator: ", ")
                    findings.append(
                        Finding(
                            severity: .error, code: .iceFailedAllPairs,
                            message:
                                "ICE \(name) did not connect: \(answered) of \(keptChecks) checks were answered, but no candidate "
                                + "pair succeeded" + (codes.isEmpty ? "" : " (errors \(codes))") + beyondCap,
                            evidence: evidence,
                            fix:
                                "Look at the error codes: 401 means the ICE passwords exchanged in the offer/answer do not "
                                + "match; 487 a role conflict that was not resolved. Checks answered only one way point to "
                                + "filtering on one side: a TURN relay avoids it.",
                            time: time))
                }
            }
            if session.roleConflicts > 0 {
                let switched = session.roleSwitches.isEmpty ? "" : " (\(session.roleSwitches.joined(separator: ", ")) switched)"
                findings.append(
                    Finding(
                        severity: session.roleConflicts > 2 ? .warning : .info, code: .roleConflict,
                        message:
                            "ICE \(name): both agents claimed the same role; \(session.roleConflicts) checks were refused with "
                            + "487 Role Conflict and the tie-breaker decided\(switched).",
                        evidence: [Evidence("\(session.roleConflicts) × 487", vantage: session.vantage, times: [time])],
                        fix:
                            "Harmless when resolved once (RFC 8445 §7.3.1.1). If it repeats, both endpoints believe they are "
                            + "the offerer (glare): fix the signalling so one side is controlling.",
                        time: time))
            }
            if let connect = session.timeToConnectMilliseconds, connect > slowConnectMilliseconds {
                let retransmitted = session.pairs.filter { $0.checks > 1 && $0.responses == 0 }.count
                findings.append(
                    Finding(
                        severity: .warning, code: .slowConnect,
                        message:
                            "ICE \(name) took \(formatMilliseconds(connect)) from the first check to the first success on "
                            + "the selected pair" + (retransmitted > 0 ? "; \(retransmitted) pairs were checked in vain first." : "."),
                        evidence: [
                            Evidence(
                                session.selectedPair.map { "selected \($0.local) ↔ \($0.remote)" } ?? "", vantage: session.vantage,
                                times: [time])
                        ],
                        fix:
                            "Candidates that can never work (unreachable private addresses, blocked UDP) delay the pair that "
                            + "does: trickle ICE, a TURN server close to the client, and dropping unreachable candidates help.",
                        time: time))
            }
            if let consent = session.consent, !consent.lost, let silence = consent.longestSilenceMilliseconds, silence >= 5_000,
                consent.unansweredInSilence >= 3, let selected = session.selectedPair, let start = consent.silenceStart
            {
                // What changed just before: a NAT giving an end of the pair a new address.
                let ends: Set<TransportAddress> = [selected.local, selected.remote, selected.localNamed, selected.remoteNamed]
                let change = result.mappingChanges.first {
                    (ends.contains($0.internalAddress) || ends.contains($0.previous))
                        && $0.time.milliseconds(since: start) > -1_000 && $0.time.milliseconds(since: start) < 10_000
                }
                let until = consent.silenceRunsToEnd ? "until the capture ended" : "before answers came back"
                var message =
                    "ICE \(name): \(consent.unansweredInSilence) consent checks on the selected pair went unanswered for "
                    + "\(formatMilliseconds(silence)) \(until); browsers report the connection \"disconnected\" after a few "
                    + "seconds of this, and RFC 7675 ends it at 30 s."
                var evidence = [
                    Evidence(
                        "\(consent.unansweredInSilence) unanswered consent checks after the answer at the start of the silence",
                        vantage: session.vantage, times: [clock.time(start, session.vantage)])
                ]
                if let change {
                    message +=
                        " It began as the NAT moved \(change.internalAddress) from \(change.previous) to \(change.current) "
                        + "(towards \(change.destination)): the far side's filtering drops what comes from the new address, "
                        + "and answers to the old one find no mapping."
                    evidence.append(
                        Evidence(
                            "mapping \(change.previous) → \(change.current)", vantage: change.vantage, packets: [change.ref],
                            times: [clock.time(change.time, change.vantage)]))
                }
                findings.append(
                    Finding(
                        severity: consent.silenceRunsToEnd ? .error : .warning, code: .consentInterrupted, message: message,
                        evidence: evidence,
                        fix:
                            change != nil
                            ? "The network changed under the call: the application should restart ICE (restartIce()) when "
                                + "the connection goes \"disconnected\"; a relay keeps the peer's view stable."
                            : "The path stopped carrying answers after the call connected: a NAT binding timed out, the network "
                                + "changed, or the peer stopped; an ICE restart recovers.",
                        time: clock.time(start, session.vantage)))
            }
            if let consent = session.consent, consent.lost {
                findings.append(
                    Finding(
                        severity: .error, code: .consentLost,
                        message:
                            "ICE \(name): the peer stopped answering consent checks on the selected pair for "
                            + "\(formatMilliseconds(consent.longestSilenceMilliseconds ?? 0)); by RFC 7675 the media must stop.",
                        evidence: [
                            Evidence(
                                "\(consent.checks) consent checks, \(consent.answered) answered", vantage: session.vantage,
                                times: consent.lostAt.map { [clock.time($0, session.vantage)] } ?? [])
                        ],
                        fix:
                            "The path broke after the call connected: a NAT binding timed out, the network changed, or the "
                            + "peer went away. ICE restart (or a relay with keep-alives) recovers.",
                        time: consent.lostAt.map { clock.time($0, session.vantage) } ?? time))
            }
        }
    }

    // MARK: ICMP

    /// Requests answered by an ICMP error, per destination, reporter and meaning: "checks to X were answered
    /// by ICMP port unreachable from Y". A STUN or TURN server that is not listening is an error; ICE checks to
    /// a candidate that cannot be reached are the normal cost of ICE unless no session connected.
    static func icmpFindings(_ result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]) {
        struct Key: Hashable {
            var vantage: String
            var destination: TransportAddress
            var reporter: IPAddress
            var meaning: String
            var answer: Bool
        }
        var groups: [Key: [ICMPReport]] = [:]
        var order: [Key] = []
        for report in result.icmpErrors {
            let answer = report.quotedClass == .successResponse || report.quotedClass == .errorResponse
            // Requests per destination; answers per the server that sent them (each to another closed port).
            let key = Key(
                vantage: report.vantage, destination: answer ? report.quoted.source : report.quoted.destination,
                reporter: report.kind.reporter, meaning: report.kind.meaning, answer: answer)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(report)
        }
        let anyConnected = result.iceSessions.contains { $0.outcome == .connected }
        for key in order.prefix(50) {
            guard let reports = groups[key], let first = reports.first else { continue }
            let purposes = Set(reports.compactMap(\.purpose))
            let toServer = purposes.contains(.stunServer) || purposes.contains(.turnAllocation)
                || reports.contains { [.allocate, .refresh, .createPermission, .channelBind].contains($0.method) }
            let senders = Set(reports.map { key.answer ? $0.quoted.destination : $0.quoted.source }).sorted { $0.description < $1.description }
            let from = senders.prefix(3).map(\.description).joined(separator: ", ") + (senders.count > 3 ? ", …" : "")
            let tied = reports.compactMap(\.transaction)
            let icmp = "ICMP \(key.meaning) from \(key.reporter)"
            let severity: Severity
            let message: String
            let fix: String
            if key.answer {
                // The answer reached a port nobody listened on any more.
                severity = .warning
                message =
                    "\(reports.count) answers from \(key.destination) to \(from) came back as \(icmp): the requester no longer "
                    + "listened there (it closed the socket, or its NAT's mapping had gone)."
                fix =
                    "A client that gives up on a request before its answer arrives (short timeouts, sockets closed early) "
                    + "wastes the server's answer; keep the socket until the transaction times out (RFC 8489 §6.2.1)."
            } else if toServer {
                severity = .error
                message =
                    "\(reports.count) requests to the STUN/TURN server \(key.destination) (from \(from)) were answered by "
                    + "\(icmp): nothing listens there, or a firewall rejects it."
                fix =
                    "Check the server's address and port, and that it runs; a firewall that rejects UDP answers so. Offer "
                    + "TURN over TCP or TLS where UDP is refused."
            } else {
                let checks = purposes == [.iceCheck]
                severity = checks && anyConnected ? .info : .warning
                message =
                    "\(reports.count) \(checks ? "ICE checks" : "requests") to \(key.destination) (from \(from)) were answered by "
                    + "\(icmp)."
                fix =
                    "A check to a candidate this network cannot reach: harmless when another pair works; otherwise the "
                    + "peer's candidates are unreachable from here (a relay helps)."
            }
            findings.append(
                Finding(
                    severity: severity, code: .icmpUnreachable, message: message,
                    evidence: [
                        Evidence(
                            "\(icmp) (ICMPv\(first.kind.version == 4 ? "4" : "6") type \(first.kind.type), code \(first.kind.code))"
                                + (tied.isEmpty ? "" : "; \(tied.count) tied to their transactions"),
                            vantage: key.vantage, transactions: tied.map(\.hex), packets: reports.map(\.ref),
                            times: reports.map { clock.time($0.time, key.vantage) })
                    ],
                    fix: fix, time: clock.time(first.time, key.vantage)))
        }
    }

    // MARK: TURN

    static func turnFindings(_ result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]) {
        let allocates = AllocateTransactions(result)
        for allocation in result.turnAllocations {
            let start = findings.count
            defer {
                let key = "\(allocation.server)/\(allocation.username ?? "")/\(allocation.allocateErrors)"
                for index in start..<findings.count { findings[index].mergeKey = key }
            }
            let user = allocation.username.map { "user '\($0)'" } ?? "a client"
            let time = clock.time(allocation.firstRequest, allocation.vantage)
            let evidence = Evidence(
                "\(allocation.client) → \(allocation.server) (\(allocation.transport.rawValue)), Allocate errors "
                    + allocation.allocateErrors.map(String.init).joined(separator: ", "),
                vantage: allocation.vantage, transactions: allocates[allocation].map(\.id.description), times: [time])
            let staleNonces = longestRun(of: 438, in: allocation.allocateErrors)
            if allocation.credentialsRefused > 0 && allocation.created == nil {
                findings.append(
                    Finding(
                        severity: .error, code: .turnAuthFailed,
                        message:
                            "TURN server \(allocation.server) refused the credentials of \(user)"
                            + (allocation.realm.map { " in realm '\($0)'" } ?? "")
                            + ": the authenticated Allocate was answered 401 again, so no relay exists.",
                        evidence: [evidence],
                        fix:
                            "Check the TURN username and password (for time-limited REST credentials: the shared secret and "
                            + "the clocks); the realm the server sent must be used when computing the key.",
                        time: time))
            } else if staleNonces >= 2 {
                findings.append(
                    Finding(
                        severity: allocation.created == nil ? .error : .warning, code: .turnStaleNonceLoop,
                        message:
                            "TURN client \(allocation.client) got 438 Stale Nonce \(staleNonces) times in a row from "
                            + "\(allocation.server): it keeps retrying with a nonce the server no longer accepts.",
                        evidence: [evidence],
                        fix:
                            "The client must take the NONCE from the 438 response and retry once (RFC 8489 §9.2.5); a loop "
                            + "means it does not, or the server's nonce lifetime is far too short.",
                        time: time))
            } else if allocation.end == .failed, let code = allocation.allocateErrors.last(where: { $0 != 401 && $0 != 438 }) {
                let reason = STUNErrorCodes.reason(for: code) ?? "error"
                findings.append(
                    Finding(
                        severity: .error, code: .turnAllocationFailed,
                        message: "TURN server \(allocation.server) refused the allocation of \(user): \(code) \(reason).",
                        evidence: [evidence], fix: allocationFix(code), time: time))
            }
            if allocation.end == .expired {
                let at = allocation.expires.map { clock.time($0, allocation.vantage) }
                findings.append(
                    Finding(
                        severity: .warning, code: .allocationExpired,
                        message:
                            "The TURN allocation of \(user) at \(allocation.server) expired: no Refresh arrived before its "
                            + "lifetime (\(allocation.lifetimeSeconds.map { "\($0) s" } ?? "?")) ran out.",
                        evidence: [
                            Evidence(
                                "relayed \(allocation.relayedAddresses.map(\.description).joined(separator: ", "))",
                                vantage: allocation.vantage, times: at.map { [$0] } ?? [])
                        ],
                        fix:
                            "The client must send Refresh before the lifetime ends (RFC 8656 §8); a client that went away "
                            + "or lost its path leaves the allocation to expire.",
                        time: at ?? time))
            }
            if allocation.sendsWithoutPermission > 0 || allocation.unboundChannelData > 0 {
                var parts: [String] = []
                if allocation.sendsWithoutPermission > 0 {
                    parts.append("\(allocation.sendsWithoutPermission) datagrams sent to peers without a permission in force")
                }
                if allocation.unboundChannelData > 0 {
                    parts.append("\(allocation.unboundChannelData) ChannelData messages on unbound channels")
                }
                findings.append(
                    Finding(
                        severity: .warning, code: .permissionMissing,
                        message:
                            "TURN allocation of \(user) at \(allocation.server): " + parts.joined(separator: " and ")
                            + "; the server drops them silently.",
                        evidence: [
                            Evidence(
                                parts.joined(separator: "; ") + "; the first: "
                                    + allocation.permissionMisses.prefix(3).map { miss in
                                        (miss.channel.map { "ChannelData on channel 0x\(String($0, radix: 16))" } ?? "Send to \(miss.peer.map(\.description) ?? "?")")
                                            + (miss.ref.map { " (packet \($0))" } ?? "")
                                    }.joined(separator: ", "),
                                vantage: allocation.vantage, packets: allocation.permissionMisses.compactMap(\.ref),
                                times: allocation.permissionMisses.map { clock.time($0.time, allocation.vantage) })
                        ],
                        fix:
                            "Install a permission (CreatePermission or ChannelBind) for each peer IP before sending and refresh "
                            + "it within 300 s; refresh channel bindings within 600 s (RFC 8656 §9, §12).",
                        time: time))
            }
        }
    }

    public static func allocationFix(_ code: Int) -> String {
        switch code {
        case 437: "The client reused a 5-tuple that already has an allocation: wait for it to expire or delete it first."
        case 440: "The server does not support the requested address family: ask for the other family."
        case 441: "The credentials differ from those the allocation was made with: use the same username for all requests."
        case 442: "The server does not relay the requested transport (e.g. TCP, RFC 6062): request UDP."
        case 443: "The peer address family does not match the relayed address: use a peer of the same family."
        case 486: "The user reached the server's allocation quota: free old allocations (Refresh 0) or raise the quota."
        case 508: "The server ran out of relay ports or capacity: another server, or more relay ports on this one."
        case 403: "The server forbids this request (policy, or a peer address it refuses to relay to)."
        case 420: "The server does not understand a comprehension-required attribute the client sent."
        default: "See the error's meaning in RFC 8656 §19 and the server's log."
        }
    }

    /// The Allocate transactions of each allocation (same vantage point, client and server), found in one
    /// pass over the transactions: scanning them once per allocation was quadratic.
    struct AllocateTransactions {
        private struct Key: Hashable {
            var vantage: String
            var client: TransportAddress
            var server: TransportAddress
        }
        private var byAllocation: [Key: [STUNTransaction]] = [:]

        init(_ result: AnalysisResult) {
            guard !result.turnAllocations.isEmpty else { return }
            for transaction in result.transactions.transactions where transaction.method == .allocate {
                byAllocation[Key(vantage: transaction.vantage, client: transaction.client, server: transaction.server), default: []]
                    .append(transaction)
            }
        }

        subscript(_ allocation: TURNAllocation) -> [STUNTransaction] {
            byAllocation[Key(vantage: allocation.vantage, client: allocation.client, server: allocation.server)] ?? []
        }
    }

    // MARK: NAT

    static func natFindings(_ result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]) {
        var reported: Set<String> = []
        for behaviour in result.natBehaviour {
            guard let mapping = behaviour.mapping, mapping != .endpointIndependent else { continue }
            let insideVantage = behaviour.vantage.split(separator: "→").first.map(String.init) ?? behaviour.vantage
            let internals = Set(behaviour.internalAddresses)
            for session in result.iceSessions where session.vantage == insideVantage {
                // The agent behind this NAT: its host candidates are the NAT's internal addresses.
                guard
                    let agent = session.candidates.first(where: { $0.type == .host && internals.contains($0.address) })?.agent,
                    !session.candidates.contains(where: { $0.agent == agent && $0.type == .relay })
                else { continue }
                guard reported.insert("\(session.ufrags.sorted())/\(agent)").inserted else { continue }
                let connected = session.outcome == .connected
                let time = clock.time(session.firstCheck, session.vantage)
                findings.append(
                    Finding(
                        severity: connected ? .info : .error, code: .symmetricNATWithoutRelay,
                        message:
                            "The NAT at \(behaviour.externalIP) maps each destination to a different port "
                            + "(\(mapping.rawValue) mapping, 'symmetric') and the agent behind it (ufrag \(agent)) had no "
                            + "relay candidate: " + (connected
                                ? "the call connected only because the other side's NAT let its checks in."
                                : "the addresses it advertised could never be reached."),
                        evidence: [Evidence(behaviour.mappingEvidence.joined(separator: "; "), vantage: behaviour.vantage, times: [time])],
                        fix:
                            "Configure a TURN server for this agent (UDP, and TCP/TLS on 443 as fallback); behind such a NAT "
                            + "only a relay (or a peer with an open NAT) works.",
                        time: time))
            }
        }
        for link in result.vantageLinks where !link.droppedRequests.isEmpty {
            let failed = result.iceSessions.contains { $0.vantage == link.inside && $0.outcome != .connected }
            let first = link.droppedRequests[0]
            let sources = Set(link.droppedRequests.map(\.flow.source)).sorted().prefix(4).map(\.description)
            let time = clock.time(first.time, link.outside)
            findings.append(
                Finding(
                    severity: failed ? .error : .info, code: .filteringBlocksPeer,
                    message:
                        "The NAT between \(link.inside) and \(link.outside) dropped \(link.droppedRequests.count) requests "
                        + "from \(sources.joined(separator: ", ")) that reached its outside address "
                        + "\(first.flow.destination): it only lets in traffic from addresses the inside host has sent to"
                        + (failed ? ", and the call failed." : " (normal early in ICE, before the inside side's own checks open the way)."),
                    evidence: [
                        Evidence(
                            "seen at \(link.outside), never at \(link.inside)", vantage: link.outside,
                            transactions: link.droppedRequests.map(\.id.description),
                            packets: link.droppedRequests.map(\.ref), times: [time])
                    ],
                    fix:
                        failed
                        ? "With address-dependent filtering on both sides, checks must cross in time or go through a relay: "
                            + "configure TURN, or open the NAT (endpoint-independent filtering, RFC 4787 REQ-8)."
                        : "Nothing to fix while the call connects; it explains the unanswered early checks.",
                    time: time))
        }
        // Servers that never answered (STUN Binding without CHANGE-REQUEST; TURN Allocate).
        struct ServerKey: Hashable {
            var vantage: String
            var server: TransportAddress
        }
        var asked: [ServerKey: [STUNTransaction]] = [:]
        var answered: Set<ServerKey> = []
        var order: [ServerKey] = []
        let changeRequests = Set(result.discoveryExchanges.filter(\.asksForChange).map(\.id))
        let stunServerIDs = Set(result.discoveryExchanges.map(\.id))
        for transaction in result.transactions.transactions
        where (transaction.method == .binding && stunServerIDs.contains(transaction.id) && !changeRequests.contains(transaction.id))
            || transaction.method == .allocate
        {
            let key = ServerKey(vantage: transaction.vantage, server: transaction.server)
            if transaction.outcome == .success || transaction.outcome == .error {
                answered.insert(key)
            } else if transaction.outcome == .timeout {
                if asked[key] == nil { order.append(key) }
                asked[key, default: []].append(transaction)
            }
        }
        for key in order where !answered.contains(key) {
            let unanswered = asked[key] ?? []
            guard let first = unanswered.first else { continue }
            let time = clock.time(first.requestTime, key.vantage)
            let kind = first.method == .allocate ? "TURN" : "STUN"
            findings.append(
                Finding(
                    severity: .warning, code: .unansweredSTUNServer,
                    message:
                        "The \(kind) server \(key.server) never answered: \(unanswered.count) requests "
                        + "(\(unanswered.reduce(0) { $0 + $1.retransmissions }) retransmissions) got no response, so no "
                        + (kind == "TURN" ? "relay" : "server-reflexive") + " candidate came from it.",
                    evidence: [
                        Evidence(
                            "\(first.client) → \(key.server) (\(first.transport.rawValue))", vantage: key.vantage,
                            transactions: unanswered.map(\.id.description), packets: unanswered.map(\.requestRef), times: [time])
                    ],
                    fix:
                        "Check the server address and port in the ICE configuration, that the server runs, and that a "
                        + "firewall lets UDP to it through (try TCP/TLS on 443 where UDP is blocked).",
                    time: time))
        }
    }

    // MARK: messages

    static func messageFindings(_ result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]) {
        let failed = result.transactions.transactions.filter { $0.requestIntegrity == .failed || $0.responseIntegrity == .failed }
        if let first = failed.first {
            let time = clock.time(first.requestTime, first.vantage)
            findings.append(
                Finding(
                    severity: .error, code: .integrityFailed,
                    message:
                        "\(failed.count) STUN transactions failed MESSAGE-INTEGRITY with the credentials given: the key is "
                        + "wrong (or the message was altered on the way).",
                    evidence: [
                        Evidence(
                            "first: \(first.method) \(first.client) → \(first.server)", vantage: first.vantage,
                            transactions: failed.map(\.id.description), packets: failed.map(\.requestRef), times: [time])
                    ],
                    fix:
                        "Compare the passwords given to wedio with the ICE passwords in the SDP (or the TURN credentials); "
                        + "if they match, something on the path rewrites STUN (an ALG).",
                    time: time))
        }
        if result.statistics.fingerprintFailures > 0 {
            let samples = result.inputs.flatMap { input in
                input.errorSamples.filter { $0.reason == .fingerprintFailed }
            }
            findings.append(
                Finding(
                    severity: .warning, code: .fingerprintFailed,
                    message:
                        "\(result.statistics.fingerprintFailures) STUN messages carry a FINGERPRINT that does not match their "
                        + "bytes: a receiver discards them.",
                    evidence: [Evidence(samples.first?.detail ?? "", packets: samples.map(\.ref))],
                    fix:
                        "A middlebox altered the messages (an ALG rewriting addresses), or the sender computes the CRC "
                        + "wrongly (it must XOR 0x5354554E, RFC 8489 §14.7).",
                    time: nil))
        }
        let tooFast = result.transactions.transactions.filter {
            $0.carrier == .direct && $0.transport == .udp && $0.retransmissions > 0 && !$0.followsRetransmissionSchedule
                && $0.method != .binding
        }
        if let first = tooFast.first {
            findings.append(
                Finding(
                    severity: .info, code: .retransmissionsTooFast,
                    message:
                        "\(tooFast.count) requests to servers were retransmitted faster than RFC 8489 §6.2.1 allows (RTO "
                        + "500 ms, doubling).",
                    evidence: [
                        Evidence(
                            "first: \(first.method) \(first.client) → \(first.server), gaps "
                                + first.retransmissionIntervalsMilliseconds.map { formatMilliseconds($0) }.joined(separator: ", "),
                            vantage: first.vantage, transactions: tooFast.map(\.id.description))
                    ],
                    fix: "Harmless for a call; a client this eager adds load to servers under loss.",
                    time: clock.time(first.requestTime, first.vantage)))
        }
    }

    // MARK: the capture itself

    static func captureFindings(_ result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]) {
        for input in result.inputs where (input.liveCounters?.dropped ?? 0) > 0 || !input.dropWindows.isEmpty {
            droppedPacketsFinding(input, result: result, clock: clock, into: &findings)
        }
        // A pcapng file's own statistics (Interface Statistics Block): the capturing host lost packets.
        for input in result.inputs {
            let lossy = input.interfaces.filter { ($0.droppedByOS ?? 0) + ($0.droppedByInterface ?? 0) > 0 }
            guard !lossy.isEmpty else { continue }
            let parts = lossy.map { interface in
                "interface \(interface.name ?? "\(interface.index)"): \(interface.droppedByOS ?? 0) dropped by the OS, "
                    + "\(interface.droppedByInterface ?? 0) by the interface" + (interface.received.map { " of \($0) received" } ?? "")
            }
            findings.append(
                Finding(
                    severity: .warning, code: .captureDroppedPackets,
                    message:
                        "The capture file's own statistics say packets were lost while it was written (\(input.path): "
                        + parts.joined(separator: "; ") + "): timeouts and unanswered checks may be the capture's, not the call's.",
                    evidence: [Evidence(parts.joined(separator: "; "), vantage: input.vantage)],
                    fix: "Capture again with a larger buffer (dumpcap -B, tcpdump -B) or a narrower filter, or on a less loaded host.",
                    time: input.firstTime.map { clock.time($0, input.vantage) }))
        }
        for vantage in result.vantages {
            let own = result.transactions.transactions.lazy.filter { $0.vantage == vantage.name && $0.outcome != .indication }
            let summary = result.transactions.summary(vantage: vantage.name)
            let requests = summary.requests
            let answered = summary.answered
            // Requests only ever in one direction and none answered: the capture saw one way only (judged on
            // the first 10 000 kept, enough to see a return direction if there is one).
            var oneWay = false
            if requests >= 5 && answered == 0 {
                let sample = own.prefix(10_000)
                let clients = Set(sample.map(\.client.ip))
                oneWay = sample.allSatisfy { !clients.contains($0.server.ip) }
            }
            let orphans = result.vantages.count == 1 ? result.transactions.orphanResponses : 0
            let mostlyOrphans = orphans >= 3 && orphans > answered
            guard oneWay || mostlyOrphans else { continue }
            let time = own.first.map { clock.time($0.requestTime, vantage.name) }
            findings.append(
                Finding(
                    severity: .warning, code: .oneSidedCapture,
                    message: oneWay
                        ? "At \(vantage.name) only requests going one way were captured (\(requests), none answered): "
                            + "either the capture missed the return direction or nothing ever answered."
                        : "At \(vantage.name) \(orphans) responses were captured without their requests: the capture missed the "
                            + "outgoing direction.",
                    evidence: [Evidence("\(requests) requests, \(answered) answered, \(orphans) orphan responses", vantage: vantage.name)],
                    fix:
                        "Capture on an interface (or with a filter) that sees both directions, e.g. `-i any`, or on both "
                        + "sides of the NAT and pass both files with --vantage.",
                    time: time))
        }
    }

    /// A live capture that lost packets: say how many, when, and which conclusions they make unsafe.
    static func droppedPacketsFinding(
        _ input: InputSummary, result: AnalysisResult, clock: ReferenceClock, into findings: inout [Finding]
    ) {
        let counters = input.liveCounters ?? CaptureCounters()
        let kernel = max(counters.droppedByKernel, input.dropWindows.reduce(0) { $0 + $1.droppedByKernel })
        let interface = max(counters.droppedByInterface, input.dropWindows.reduce(0) { $0 + $1.droppedByInterface })
        let several = result.vantages.count > 1
        let unsafe = result.transactions.transactions.filter { $0.duringCaptureDrops && (!several || $0.vantage == input.vantage) }
        let keptTimeouts = result.transactions.transactions.filter { $0.outcome == .timeout && (!several || $0.vantage == input.vantage) }.count
        let allTimeouts = result.transactions.summary(vantage: several ? input.vantage : nil).timeout
        // Transactions only tallied (beyond the cap) have no times: they cannot be placed in a window.
        let unplaced = allTimeouts - keptTimeouts
        let windows = input.dropWindows
        var reasons: [String] = []
        if kernel > 0 { reasons.append("\(kernel) by the kernel, its capture buffer full") }
        if interface > 0 { reasons.append("\(interface) by the interface") }
        var message =
            "The live capture on \(input.path) lost \(kernel + interface) packets (\(reasons.joined(separator: "; ")))"
            + (windows.isEmpty ? "" : " in \(windows.count) window\(windows.count == 1 ? "" : "s") between "
                + "\(timeOfDay(clock.time(windows[0].start, input.vantage))) and "
                + "\(timeOfDay(clock.time(windows[windows.count - 1].end, input.vantage)))") + ". "
        if unsafe.isEmpty && unplaced == 0 {
            message += "No transaction reported as timed out falls in these windows, but counts, rates and anything "
                + "decided from a missing packet there are incomplete."
        } else {
            message += "\(unsafe.count) transactions reported as timed out fall in these windows and may have been answered"
                + (unplaced > 0 ? " (and \(unplaced) more timeouts were only counted, past the transaction cap, so cannot be placed)" : "")
                + ": timeouts, unanswered checks, failed pairs and lost consent in these windows are not safe conclusions."
        }
        var evidence = windows.prefix(Finding.evidenceItemsKept).map { window in
            Evidence(
                "\(window.dropped) packets lost between \(timeOfDay(clock.time(window.start, input.vantage))) and "
                    + "\(timeOfDay(clock.time(window.end, input.vantage)))", vantage: input.vantage,
                times: [clock.time(window.start, input.vantage)])
        }
        if !unsafe.isEmpty {
            evidence.append(
                Evidence(
                    "\(unsafe.count) timeouts inside the drop windows", vantage: input.vantage, transactions: unsafe.map(\.id.description),
                    packets: unsafe.map(\.requestRef)))
        }
        if evidence.isEmpty {
            evidence.append(Evidence("kernel counters at the end: \(counters.received) received, \(counters.dropped) dropped", vantage: input.vantage))
        }
        findings.append(
            Finding(
                severity: unsafe.isEmpty && unplaced == 0 ? .warning : .error, code: .captureDroppedPackets, message: message, evidence: evidence,
                fix: "Give the capture a larger kernel buffer (`wedio sniff --buffer-size 256M`), a narrower --filter "
                    + "(e.g. `udp`), or a smaller --snaplen; or capture with `tcpdump -w` and analyse the file.",
                time: windows.first.map { clock.time($0.start, input.vantage) }))
    }

    // MARK: helpers

    /// "HH:MM:SS.mmm UTC" of a capture time (the report gives the full date elsewhere).
    static func timeOfDay(_ time: CaptureTime) -> String {
        let milliseconds = time.nanoseconds / 1_000_000
        let day = ((milliseconds % 86_400_000) + 86_400_000) % 86_400_000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = day % 1_000
        let fractionText = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(two(day / 3_600_000)):\(two(day / 60_000 % 60)):\(two(day / 1_000 % 60)).\(fractionText) UTC"
    }

    static func sessionName(_ session: ICESession) -> String {
        "\(session.id) (ufrags \(session.ufrags.joined(separator: " / ")))"
    }

    static func longestRun(of code: Int, in errors: [Int]) -> Int {
        var longest = 0
        var current = 0
        for error in errors {
            current = error == code ? current + 1 : 0
            longest = max(longest, current)
        }
        return longest
    }

    public static func formatMilliseconds(_ value: Double) -> String {
        value >= 1_000 ? "\(Double(Int(value / 10)) / 100) s" : "\(Double(Int(value * 10)) / 10) ms"
    }
}

/// Puts a vantage point's capture times on the reference clock (the first vantage point's).
public struct ReferenceClock: Sendable {
    var offsets: [String: Double]

    public init(_ result: AnalysisResult) {
        var offsets: [String: Double] = [:]
        for vantage in result.vantages { offsets[vantage.name] = vantage.clockOffsetMilliseconds }
        self.offsets = offsets
    }

    /// A vantage point's time on the reference clock (the first vantage point's).
    public func time(_ time: CaptureTime, _ vantage: String) -> CaptureTime {
        guard let offset = offsets[vantage], offset != 0 else { return time }
        return time.subtracting(milliseconds: offset)
    }
}
