import WeDioBasics

/// RFC 8445 §9: an ICE restart gives the agents new ufrags, so its checks form a new session; it is linked
/// to the session it replaces (same vantage point) when it checks a candidate pair with the same addresses
/// (aioice keeps its sockets), or checks between the same two IP addresses from new ports (browsers gather
/// anew on a restart) and either shares one agent's ufrag with it (Chromium's first new checks carry the
/// peer's old ufrag) or replaces it (the old session's last check came at least a second before the new
/// one's). Sessions that run side by side, such as a server that reuses its ufrag for every client, are not
/// linked: their clients' addresses differ, or both stay busy.
public enum ICERestarts {
    public static func link(_ sessions: inout [ICESession]) {
        // Keyed by the vantage point's number, not its name, and placed by their words (WordHash): hashing the
        // name through `Hasher` for every pair made each look-up 600 instructions (a server's 7 000 sessions
        // linked on one thread while the other waits).
        struct PairKey: Hashable {
            var vantage: Int
            var local: TransportAddress
            var remote: TransportAddress

            func _rawHashValue(seed: Int) -> Int {
                WordHash.bucket(WordHash.fold(local.hashWord ^ UInt64(truncatingIfNeeded: vantage) << 58, remote.hashWord), seed: seed)
            }
        }
        struct HostsKey: Hashable {
            var vantage: Int
            var local: IPAddress
            var remote: IPAddress

            func _rawHashValue(seed: Int) -> Int {
                let (near, far) = (TransportAddress(ip: local, port: 0), TransportAddress(ip: remote, port: 0))
                return WordHash.bucket(WordHash.fold(near.hashWord ^ UInt64(truncatingIfNeeded: vantage) << 58, far.hashWord), seed: seed)
            }
        }
        var vantageNumbers: [String: Int] = [:]
        var vantageOf: [Int] = []
        vantageOf.reserveCapacity(sessions.count)
        for index in sessions.indices {
            let name = sessions[index].vantage
            if vantageNumbers[name] == nil { vantageNumbers[name] = vantageNumbers.count }
            vantageOf.append(vantageNumbers[name] ?? 0)
        }
        var latest: [PairKey: Int] = [:]
        var latestHosts: [HostsKey: Int] = [:]
        latest.reserveCapacity(sessions.count)
        latestHosts.reserveCapacity(sessions.count)
        let order = sessions.indices.sorted { sessions[$0].firstCheck < sessions[$1].firstCheck }
        for index in order {
            let vantage = vantageOf[index]
            var previous: Int?
            func consider(_ earlier: Int?) {
                guard let earlier, earlier != index else { return }
                if previous.map({ sessions[earlier].firstCheck > sessions[$0].firstCheck }) ?? true { previous = earlier }
            }
            for pair in sessions[index].pairs {
                consider(latest[PairKey(vantage: vantage, local: pair.local, remote: pair.remote)])
            }
            if previous == nil {
                // New ports between the same hosts: a restart if the sessions share one agent's ufrag (Chromium's
                // first new checks carry the peer's old one), or if the earlier session went quiet first.
                func replaced(_ earlier: Int) -> Bool {
                    if !Set(sessions[index].ufrags).isDisjoint(with: sessions[earlier].ufrags),
                        sessions[index].firstCheck > sessions[earlier].firstCheck
                    {
                        return true
                    }
                    guard sessions[index].firstCheck > sessions[earlier].firstCheck,
                        let oldLast = sessions[earlier].lastActivity, let newLast = sessions[index].lastActivity
                    else { return false }
                    return newLast.milliseconds(since: oldLast) >= 1_000
                }
                for pair in sessions[index].pairs {
                    if let earlier = latestHosts[HostsKey(vantage: vantage, local: pair.local.ip, remote: pair.remote.ip)],
                        replaced(earlier)
                    {
                        consider(earlier)
                    }
                }
            }
            if let previous { sessions[index].restartOf = sessions[previous].id }
            for pair in sessions[index].pairs {
                latest[PairKey(vantage: vantage, local: pair.local, remote: pair.remote)] = index
                latestHosts[HostsKey(vantage: vantage, local: pair.local.ip, remote: pair.remote.ip)] = index
            }
        }
    }
}
