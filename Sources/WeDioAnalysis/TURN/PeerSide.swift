import WeDioBasics

/// Ties traffic to and from a relayed address, seen at any vantage point, to its allocation (RFC 8656 §2.2:
/// beyond the server, relayed data travels as plain UDP between the relayed address and the peer). One pass
/// over each vantage point's transactions and media flows.
enum PeerSide {
    static func attach(to allocations: inout [TURNAllocation], vantages: [(name: String, analyzer: Analyzer)]) {
        var owner: [TransportAddress: Int] = [:]
        for (index, allocation) in allocations.enumerated() {
            for relayed in allocation.relayedAddresses where owner[relayed] == nil { owner[relayed] = index }
        }
        guard !owner.isEmpty else { return }
        struct Key: Hashable {
            var allocation: Int
            var vantage: String
            var relayed: TransportAddress
            var peer: TransportAddress
        }
        var traffic: [Key: PeerSideTraffic] = [:]
        var order: [Key] = []
        func entry(_ allocation: Int, _ vantage: String, _ relayed: TransportAddress, _ peer: TransportAddress, _ time: CaptureTime)
            -> Key
        {
            let key = Key(allocation: allocation, vantage: vantage, relayed: relayed, peer: peer)
            if traffic[key] == nil {
                order.append(key)
                traffic[key] = PeerSideTraffic(vantage: vantage, relayed: relayed, peer: peer, firstTime: time, lastTime: time)
            }
            return key
        }
        for (name, analyzer) in vantages {
            for transaction in analyzer.transactions.transactions where transaction.carrier == .direct {
                let (relayed, peer) =
                    owner[transaction.client] != nil ? (transaction.client, transaction.server) : (transaction.server, transaction.client)
                guard let allocation = owner[relayed], peer != allocations[allocation].server else { continue }
                let key = entry(allocation, name, relayed, peer, transaction.requestTime)
                guard var value = traffic[key] else { continue }
                value.stunTransactions += 1
                value.firstTime = min(value.firstTime, transaction.requestTime)
                value.lastTime = max(value.lastTime, transaction.responseTime ?? transaction.requestTime)
                traffic[key] = value
            }
            for flow in analyzer.media.flows where !flow.unwrappedFromTURN {
                let forward = owner[flow.flow.source] != nil
                let relayed = forward ? flow.flow.source : flow.flow.destination
                let peer = forward ? flow.flow.destination : flow.flow.source
                guard let allocation = owner[relayed] else { continue }
                let key = entry(allocation, name, relayed, peer, flow.firstTime)
                // Direction 0 of a media flow is source → destination.
                let out = forward ? 0 : 1
                guard var value = traffic[key] else { continue }
                value.mediaPacketsToPeer += flow.packets[out]
                value.mediaBytesToPeer += flow.bytes[out]
                value.mediaPacketsFromPeer += flow.packets[1 - out]
                value.mediaBytesFromPeer += flow.bytes[1 - out]
                value.firstTime = min(value.firstTime, flow.firstTime)
                value.lastTime = max(value.lastTime, flow.lastTime)
                traffic[key] = value
            }
        }
        for key in order {
            guard let value = traffic[key], allocations[key.allocation].peerSide.count < Limits.icePairsReported else { continue }
            allocations[key.allocation].peerSide.append(value)
        }
    }
}
