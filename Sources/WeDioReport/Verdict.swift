import WeDioAnalysis
import WeDioBasics

/// The one-line answer a report opens with: connected how and how fast, or failed and why.
public enum Verdict {
    public static func sentence(_ result: AnalysisResult) -> String {
        let sentence = callSentence(result)
        // Packets the capture lost are not the call's failure: said beside the verdict, not as it.
        let lost = result.inputs.reduce(0) { $0 + ($1.liveCounters?.dropped ?? 0) }
        guard lost > 0 else { return sentence }
        return sentence + " (Caution: the capture lost \(lost) packets; see capture-dropped-packets.)"
    }

    private static func callSentence(_ result: AnalysisResult) -> String {
        let sessions = result.iceSessions
        // Looked through in place, not filtered into copies: a server's capture has thousands of sessions and calls.
        let connected = sessions.lazy.filter { $0.outcome == .connected }
        let worst = result.findings.first { $0.severity == .error && $0.code != .captureDroppedPackets }
        if sessions.isEmpty {
            if let worst { return "Failed: \(worst.message)" }
            if !result.turnAllocations.isEmpty {
                let made = result.turnAllocations.filter { $0.created != nil }.count
                return "No ICE session seen; \(made) of \(result.turnAllocations.count) TURN allocations succeeded."
            }
            if result.transactions.transactions.isEmpty { return "No STUN transactions seen." }
            return "No ICE session seen; \(result.transactions.transactions.count) STUN transactions."
        }
        // A call is the unit: the same session at several vantage points, and its restarts, count once.
        let calls = result.calls
        let connectedCalls = calls.count { $0.outcome == .connected }
        let chosen = calls.firstIndex { $0.outcome == .connected && $0.controlling != nil } ?? calls.firstIndex { $0.outcome == .connected }
        if let chosen {
            let call = calls[chosen]
            var via = "a candidate pair"
            if let a = call.controlling, let b = call.controlled {
                via = "\(a.type?.rawValue ?? "?") ↔ \(b.type?.rawValue ?? "?") (\(end(a.base ?? a.address, a.address)) ↔ \(end(b.base ?? b.address, b.address)))"
            } else if let session = connected.first(where: { call.sessions.contains($0.id) }),
                let pair = session.pairs.first(where: { $0.state == .succeeded })
            {
                via = path(pair)
            }
            let time = call.timeToConnectMilliseconds.map { " in \(Diagnosis.formatMilliseconds($0))" } ?? ""
            let restarts = call.restarts == 0 ? "" : call.restarts == 1 ? ", after an ICE restart" : ", after \(call.restarts) ICE restarts"
            let others = calls.count > 1 ? " (\(connectedCalls) of \(calls.count) calls connected)" : ""
            let warning = worst.map { "; but: \($0.message)" } ?? ""
            return "Connected via \(via)\(time)\(restarts)\(others)\(warning)"
        }
        if let worst { return "Failed: \(worst.message)" }
        return "Not connected by the end of the capture (\(sessions.count) ICE sessions in progress)."
    }

    /// "srflx ↔ relay (198.51.100.2:41340 ↔ 192.0.2.10:49336)".
    static func path(_ pair: ICECandidatePair) -> String {
        "\(pair.localType?.rawValue ?? "?") ↔ \(pair.remoteType?.rawValue ?? "?") (\(end(pair.local, pair.localCandidate)) ↔ \(end(pair.remote, pair.remoteCandidate)))"
    }

    /// A call's end as its agent names it: "srflx 198.51.100.2:52626 (from 10.1.0.2:52626)".
    public static func callEnd(_ end: ICECall.End) -> String {
        "\(end.type?.rawValue ?? "?") \(end.address)" + (end.base.map { " (from \($0))" } ?? "")
    }

    /// A pair end: the wire address, and the candidate the agent names it by when that differs
    /// ("10.1.0.2:52626 as 198.51.100.2:52626": a check from inside a NAT).
    public static func end(_ wire: TransportAddress, _ named: TransportAddress?) -> String {
        guard let named, named != wire else { return wire.description }
        return "\(wire) as \(named)"
    }
}
