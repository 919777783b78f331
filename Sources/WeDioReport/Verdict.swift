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
        let connected = sessions.filter { $0.outcome == .connected }
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
        if let session = connected.first(where: { $0.selectedPair != nil }) ?? connected.first {
            let pair = session.selectedPair ?? session.pairs.first { $0.state == .succeeded }
            let via = pair.map { path($0) } ?? "a candidate pair"
            let time = session.timeToConnectMilliseconds.map { " in \(Diagnosis.formatMilliseconds($0))" } ?? ""
            // The same session seen at several vantage points counts once.
            let distinct = Set(sessions.map { $0.ufrags.sorted() }).count
            let distinctConnected = Set(connected.map { $0.ufrags.sorted() }).count
            let others = distinct > 1 ? " (\(distinctConnected) of \(distinct) ICE sessions connected)" : ""
            let warning = worst.map { "; but: \($0.message)" } ?? ""
            return "Connected via \(via)\(time)\(others)\(warning)"
        }
        if let worst { return "Failed: \(worst.message)" }
        return "Not connected by the end of the capture (\(sessions.count) ICE sessions in progress)."
    }

    /// "srflx ↔ relay (198.51.100.2:41340 ↔ 192.0.2.10:49336)".
    static func path(_ pair: ICECandidatePair) -> String {
        "\(pair.localType?.rawValue ?? "?") ↔ \(pair.remoteType?.rawValue ?? "?") (\(end(pair.local, pair.localCandidate)) ↔ \(end(pair.remote, pair.remoteCandidate)))"
    }

    /// A pair end: the wire address, and the candidate the agent names it by when that differs
    /// ("10.1.0.2:52626 as 198.51.100.2:52626": a check from inside a NAT).
    public static func end(_ wire: TransportAddress, _ named: TransportAddress?) -> String {
        guard let named, named != wire else { return wire.description }
        return "\(wire) as \(named)"
    }
}
