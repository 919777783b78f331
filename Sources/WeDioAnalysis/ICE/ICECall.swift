import WeDioBasics

/// One call: an ICE session seen at every vantage point (the same two ufrags) and across its restarts (new
/// ufrags, linked by `ICESession.restartOf`), told once. Its selected pair names each end by the candidate
/// its agent reports (the address the peer saw, typed by the strongest evidence any vantage point holds),
/// with the wire address it left from where a capture shows that.
public struct ICECall: Sendable, Hashable {
    /// One end of the call's selected pair.
    public struct End: Sendable, Hashable {
        /// The agent's ufrag (of the last generation).
        public var agent: String
        /// The candidate as the agent names it.
        public var address: TransportAddress
        public var type: CandidateType?
        /// The address it left from at the agent (its base), when a capture inside the agent's NAT shows it.
        public var base: TransportAddress?
        /// Why the type: the evidence of the candidate the type was taken from, and where it was seen.
        public var evidence: [String]
        public var typedAt: String
    }

    public var id: String
    /// The two ufrags of each ICE generation in order (controlling first when known); more than one after a
    /// restart.
    public var generations: [[String]]
    /// The per-vantage sessions of the call, in order of their first check.
    public var sessions: [String]
    public var vantages: [String]
    public var outcome: ICESession.Outcome
    /// The final generation's selected pair: the controlling agent's end, then the controlled agent's.
    public var controlling: End?
    public var controlled: End?
    /// From the call's first check at any vantage point to its first selected pair's first answer, on the
    /// reference clock (offsets between vantage points removed).
    public var timeToConnectMilliseconds: Double?
    public var firstCheck: CaptureTime
    /// Each restart gives both agents new ufrags; a generation between (one agent's new ufrag with the other's
    /// old one: checks sent before the new answer arrived) is no restart of its own.
    public var restarts: Int { max(0, Set(generations.joined()).count / 2 - 1) }
    /// The TURN allocations of the call's relay candidates, by relayed address: one allocation seen at the
    /// client, past its NAT and at the server is one relay.
    public var relays: [Relay]

    public struct Relay: Sendable, Hashable {
        public var relayed: TransportAddress
        public var agent: String
        /// The allocation at each vantage point that saw it.
        public var allocations: [String]
    }
}

extension CallAssembly {
    /// Groups the sessions into calls and tells each call once, its times on the reference clock.
    static func calls(_ sessions: [ICESession], allocations: [TURNAllocation], clock: ReferenceClock) -> [ICECall] {
        guard !sessions.isEmpty else { return [] }
        // Union-find over sessions: the same ufrags anywhere, or a restart of one another.
        var parent = Array(sessions.indices)
        func root(_ index: Int) -> Int {
            var current = index
            while parent[current] != current {
                parent[current] = parent[parent[current]]
                current = parent[current]
            }
            return current
        }
        func join(_ a: Int, _ b: Int) {
            let (ra, rb) = (root(a), root(b))
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        var byUfrags: [[String]: Int] = [:]
        var byID: [String: Int] = [:]
        // By index, the fields read in place (a session copied out per step was most of this serial part).
        for index in sessions.indices {
            byID[sessions[index].id] = index
            let key = sessions[index].ufrags.sorted()
            if let first = byUfrags[key] { join(first, index) } else { byUfrags[key] = index }
        }
        for index in sessions.indices {
            if let previous = sessions[index].restartOf, let earlier = byID[previous] { join(earlier, index) }
        }
        var groups: [Int: [Int]] = [:]
        var order: [Int] = []
        for index in sessions.indices {
            let group = root(index)
            if groups[group] == nil { order.append(group) }
            groups[group, default: []].append(index)
        }
        var relayedOwner: [TransportAddress: [String]] = [:]
        for allocation in allocations {
            for relayed in allocation.relayedAddresses { relayedOwner[relayed, default: []].append(allocation.id) }
        }
        // Each call is built from its own sessions: built on every core, in the same order.
        let (calls, members, owners) = (order, groups, relayedOwner)
        return concurrentMap(count: calls.count, chunk: 32) { number in
            let group = calls[number]
            let onReference = clock.time
            // In order of first check; within a millisecond (one check seen at two vantage points, the clock
            // offset an estimate) in the order the vantage points were given.
            let ordered = (members[group] ?? []).sorted {
                let (a, b) = (onReference(sessions[$0].firstCheck, sessions[$0].vantage), onReference(sessions[$1].firstCheck, sessions[$1].vantage))
                return abs(a.milliseconds(since: b)) > 1 ? a < b : $0 < $1
            }
            return call(id: "call-\(number + 1)", ordered.map { sessions[$0] }, clock: clock, relayedOwner: owners)
        }
    }

    private static func call(
        id: String, _ members: [ICESession], clock: ReferenceClock,
        relayedOwner: [TransportAddress: [String]]
    ) -> ICECall {
        let onReference = clock.time
        // Generations: distinct ufrag pairs in order of first check.
        // Sessions looked at in place (by index): a loop over `members` copied each session out, six times a call.
        var generations: [[String]] = []
        for index in members.indices where !generations.contains(where: { Set($0) == Set(members[index].ufrags) }) {
            generations.append(members[index].ufrags)
        }
        let firstCheck = members.map { onReference($0.firstCheck, $0.vantage) }.min() ?? CaptureTime(nanoseconds: 0)
        var vantages: [String] = []
        for index in members.indices where !vantages.contains(members[index].vantage) { vantages.append(members[index].vantage) }
        var call = ICECall(
            id: id, generations: generations, sessions: members.map(\.id), vantages: vantages,
            outcome: members.contains { $0.outcome == .connected } ? .connected
                : members.allSatisfy { $0.outcome == .failed } ? .failed : .incomplete,
            firstCheck: firstCheck, relays: [])
        // The final selected pair: the generation nominated last, as each of its views saw it (a generation
        // between two restarts may be nominated too, before the new answer arrives).
        let withPair = members.filter { $0.selectedPair != nil }
        func nominated(_ session: ICESession) -> CaptureTime {
            let time = session.selectedPair?.nominatedAt ?? session.selectedPair?.firstSuccess ?? session.firstCheck
            return onReference(time, session.vantage)
        }
        // Each agent's newest ufrag (first seen last, by role): the generation with both is the final one.
        var firstSeen: [String: CaptureTime] = [:]
        var controllingUfrags: Set<String> = []
        for index in members.indices {
            let time = onReference(members[index].firstCheck, members[index].vantage)
            for ufrag in members[index].ufrags where firstSeen[ufrag].map({ time < $0 }) ?? true { firstSeen[ufrag] = time }
            if let controlling = members[index].controlling { controllingUfrags.insert(controlling) }
        }
        func newest(_ ufrags: [String]) -> String? { ufrags.max { (firstSeen[$0] ?? firstCheck) < (firstSeen[$1] ?? firstCheck) } }
        let allUfrags = Array(Set(members.flatMap(\.ufrags)))
        let newestPair = [newest(allUfrags.filter { controllingUfrags.contains($0) }), newest(allUfrags.filter { !controllingUfrags.contains($0) })]
        let final = withPair.last { Set($0.ufrags) == Set(newestPair.compactMap { $0 }) }
            ?? withPair.max(by: { nominated($0) < nominated($1) })
        if let lastGeneration = final.map({ Set($0.ufrags) }) {
            let views = withPair.filter { Set($0.ufrags) == lastGeneration }
            call.controlling = end(views, controlling: true)
            call.controlled = end(views, controlling: false)
        }
        // Time to connect: the first generation that connected, from the call's first check.
        if let first = withPair.first {
            let generation = Set(first.ufrags)
            let successes = withPair.filter { Set($0.ufrags) == generation }.compactMap { session in
                session.pairs.filter(\.nominated).compactMap { $0.nominatedAt ?? $0.firstSuccess }.min().map { onReference($0, session.vantage) }
            }
            if let connected = successes.min() { call.timeToConnectMilliseconds = connected.milliseconds(since: firstCheck) }
        }
        // Relays: each relay candidate of the call with the allocations that made it, at every vantage point.
        var seen: Set<TransportAddress> = []
        for index in members.indices {
            for candidate in members[index].candidates where candidate.type == .relay && !seen.contains(candidate.address) {
                guard let owners = relayedOwner[candidate.address] else { continue }
                seen.insert(candidate.address)
                call.relays.append(ICECall.Relay(relayed: candidate.address, agent: candidate.agent, allocations: owners))
            }
        }
        return call
    }

    /// One end of the selected pair, from every view: the named address most views agree on, typed by the
    /// strongest evidence (signalled in the SDP, gathered from a server, named by an answer at the agent's
    /// own side, a private host address), and the base from the view inside the agent's NAT.
    private static func end(_ views: [ICESession], controlling: Bool) -> ICECall.End? {
        struct Seen {
            var address: TransportAddress
            var wire: TransportAddress
            var candidate: ICECandidate?
            var vantage: String
            var agent: String
        }
        var seen: [Seen] = []
        for view in views {
            guard let pair = view.selectedPair else { continue }
            let named = controlling ? pair.localNamed : pair.remoteNamed
            let wire = controlling ? pair.local : pair.remote
            let agent = (controlling ? view.controlling : view.controlled) ?? (controlling ? view.ufrags.first : view.ufrags.last) ?? ""
            let candidate = view.candidates.first { $0.address == named && $0.agent == agent }
                ?? view.candidates.first { $0.address == named }
            seen.append(Seen(address: named, wire: wire, candidate: candidate, vantage: view.vantage, agent: agent))
        }
        guard !seen.isEmpty else { return nil }
        var votes: [TransportAddress: Int] = [:]
        for entry in seen { votes[entry.address, default: 0] += 1 }
        let address = seen.map(\.address).max { (votes[$0] ?? 0) < (votes[$1] ?? 0) } ?? seen[0].address
        let agreeing = seen.filter { $0.address == address }
        func strength(_ entry: Seen) -> Int {
            guard let candidate = entry.candidate else { return 0 }
            if candidate.signalledType != nil { return 6 }
            if candidate.gathered { return 5 }
            if entry.wire != entry.address { return 4 }  // named by the peer's answer, seen from inside the NAT
            if candidate.type == .relay { return 4 }
            if candidate.type == .host && candidate.address.ip.isPrivate { return 3 }
            return 1
        }
        let best = agreeing.max { strength($0) < strength($1) } ?? agreeing[0]
        let base = agreeing.first { $0.wire != $0.address }?.wire
        return ICECall.End(
            agent: best.agent, address: address, type: best.candidate?.type, base: base,
            evidence: best.candidate?.evidence ?? [], typedAt: best.vantage)
    }
}
