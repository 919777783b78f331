import WeDioBasics

/// RFC 8445 §9: an ICE restart gives the agents new ufrags, so its checks form a new session; it is linked
/// to the session it replaces (same vantage point) when it checks a candidate pair with the same addresses
/// (aioice keeps its sockets), shares an agent's ufrag (checks sent before the peer's new answer arrived), or
/// checks between the same two IP addresses from new ports (browsers gather anew on a restart) starting at
/// least half a second later (two calls set up at once between the same hosts are not restarts).
public enum ICERestarts {
    public static func link(_ sessions: inout [ICESession]) {
        struct PairKey: Hashable {
            var vantage: String
            var local: TransportAddress
            var remote: TransportAddress
        }
        struct HostsKey: Hashable {
            var vantage: String
            var local: IPAddress
            var remote: IPAddress
        }
        struct UfragKey: Hashable {
            var vantage: String
            var ufrag: String
        }
        var latest: [PairKey: Int] = [:]
        var latestHosts: [HostsKey: Int] = [:]
        var latestUfrag: [UfragKey: Int] = [:]
        let order = sessions.indices.sorted { sessions[$0].firstCheck < sessions[$1].firstCheck }
        for index in order {
            let vantage = sessions[index].vantage
            var previous: Int?
            func consider(_ earlier: Int?) {
                guard let earlier, earlier != index else { return }
                if previous.map({ sessions[earlier].firstCheck > sessions[$0].firstCheck }) ?? true { previous = earlier }
            }
            for pair in sessions[index].pairs {
                consider(latest[PairKey(vantage: vantage, local: pair.local, remote: pair.remote)])
            }
            if previous == nil {
                for ufrag in sessions[index].ufrags { consider(latestUfrag[UfragKey(vantage: vantage, ufrag: ufrag)]) }
            }
            if previous == nil {
                for pair in sessions[index].pairs {
                    let earlier = latestHosts[HostsKey(vantage: vantage, local: pair.local.ip, remote: pair.remote.ip)]
                    if let earlier, sessions[index].firstCheck.milliseconds(since: sessions[earlier].firstCheck) >= 500 {
                        consider(earlier)
                    }
                }
            }
            if let previous { sessions[index].restartOf = sessions[previous].id }
            for pair in sessions[index].pairs {
                latest[PairKey(vantage: vantage, local: pair.local, remote: pair.remote)] = index
                latestHosts[HostsKey(vantage: vantage, local: pair.local.ip, remote: pair.remote.ip)] = index
            }
            for ufrag in sessions[index].ufrags { latestUfrag[UfragKey(vantage: vantage, ufrag: ufrag)] = index }
        }
    }
}
