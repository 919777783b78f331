import WeDioBasics

/// RFC 8445 §9: an ICE restart gives the agents new ufrags, so its checks form a new session; it is linked
/// to the session it replaces when both check a candidate pair with the same addresses (same vantage point).
public enum ICERestarts {
    public static func link(_ sessions: inout [ICESession]) {
        struct PairKey: Hashable {
            var vantage: String
            var local: TransportAddress
            var remote: TransportAddress
        }
        var latest: [PairKey: Int] = [:]
        for index in sessions.indices.sorted(by: { sessions[$0].firstCheck < sessions[$1].firstCheck }) {
            var previous: Int?
            for pair in sessions[index].pairs {
                let key = PairKey(vantage: sessions[index].vantage, local: pair.local, remote: pair.remote)
                if let earlier = latest[key], earlier != index,
                    previous.map({ sessions[earlier].firstCheck > sessions[$0].firstCheck }) ?? true
                {
                    previous = earlier
                }
            }
            if let previous { sessions[index].restartOf = sessions[previous].id }
            for pair in sessions[index].pairs {
                latest[PairKey(vantage: sessions[index].vantage, local: pair.local, remote: pair.remote)] = index
            }
        }
    }
}
