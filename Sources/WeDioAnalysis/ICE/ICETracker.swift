import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// Reconstructs ICE sessions from connectivity checks (RFC 8445 §7): Binding requests with USERNAME
/// "RFRAG:LFRAG" and PRIORITY, grouped by the pair of ufrags. Candidates are typed from addresses, never
/// from PRIORITY. Checks carried inside TURN (ChannelData, Send/Data indications) arrive here with the
/// 5-tuple they really travelled (relayed address ↔ peer, resolved by the analyzer from the allocation's
/// channels and peers) and are placed on pairs like direct ones; only those whose allocation was never seen
/// are counted apart (`relayedChecks`).
public struct ICETracker: Sendable {
    struct Check: Sendable {
        var sender: String
        var receiver: String
        var from: TransportAddress
        var to: TransportAddress
        var transport: Transport
        var time: CaptureTime
        var priority: UInt32
        var useCandidate: Bool
        var controlling: UInt64?
        var controlled: UInt64?
        var responseTime: CaptureTime?
        var success: Bool?
        var errorCode: Int?
        var networkInfo: ICESession.NetworkInfo?
        /// XOR-MAPPED-ADDRESS of the success answer: the sender's address as the peer saw it.
        var mapped: TransportAddress?
        /// The session's place in `sessionCounts`: what `sessions` groups by, with no pair of ufrags hashed
        /// per check (on one thread, before the sessions are built on every core: 500 000 on the million-message
        /// server capture).
        var session: Int32 = -1
    }

    /// A server-reflexive address an agent gathered: the STUN server's answer to a Binding from `base`.
    struct Gathered: Sendable {
        var mapped: TransportAddress
        var server: TransportAddress
        var time: CaptureTime
    }

    /// A relayed address an agent gathered: the Allocate success sent to `client`.
    struct Allocation: Sendable {
        var relayed: TransportAddress
        var server: TransportAddress
        var client: TransportAddress
        var transport: Transport
        var time: CaptureTime
    }

    private var checks: [Check] = []
    private var checkIndex = CheckIndex()
    /// Server-reflexive addresses learned from STUN servers (Binding without USERNAME); bounded like NAT mappings.
    private var reflexive: Set<TransportAddress> = []
    /// Relayed addresses from Allocate successes, and the TURN servers' IPs.
    private var relayed: Set<TransportAddress> = []
    private var turnServers: Set<IPAddress> = []
    /// Binding requests to STUN servers (no USERNAME) awaiting their answer, with the address they came from
    /// (the agent's base at this vantage point); bounded like the pending requests.
    private var serverBindings: [TransactionID: FiveTuple] = [:]
    /// Server-reflexive addresses by the base they were learned from, and allocations by client address:
    /// an agent's gathered candidates, even those it never sent a check from.
    private var gatheredFrom: [TransportAddress: Gathered] = [:]
    private var allocations: [Allocation] = []
    /// Indexes of the two above by IP (bases and clients), by relayed address: one look-up per agent address.
    private var basesByIP: [IPAddress: [TransportAddress]] = [:]
    private var allocationsByIP: [IPAddress: [Int]] = [:]
    private var allocationByRelayed: [TransportAddress: Int] = [:]
    /// First time each address was seen as a check's source or as a check's destination.
    private var firstSeenAsSource: [TransportAddress: CaptureTime] = [:]
    private var firstSeenAsTarget: [TransportAddress: CaptureTime] = [:]
    public private(set) var droppedChecks = 0
    private var relayedChecks: [AgentPair: Int] = [:]
    private var googPings: [AgentPair: Int] = [:]
    private var relayedOrder: [AgentPair] = []

    /// The two ufrags of a session, in a fixed order.
    struct AgentPair: Hashable, Sendable {
        let first: Substring
        let second: Substring
        /// FNV-1a of both ufrags' bytes, worked out once: a session is looked up for every check and answer,
        /// and hashing the two strings through `Hasher` (Unicode-normalising) each time was a tenth of the
        /// analysing thread on a server's capture.
        private let digest: UInt64

        init(_ a: Substring, _ b: Substring) {
            // Ordered by their bytes (ufrags are ASCII, RFC 8445 §5.3: the same order as the strings'), and
            // hashed over the bytes in place.
            let aFirst: Bool
            if a.isContiguousUTF8, b.isContiguousUTF8 {
                let (x, y) = (a.utf8.span, b.utf8.span)
                (aFirst, digest) = Self.ordered(x, 0..<x.count, y, 0..<y.count)
            } else {
                let (x, y) = (Array(a.utf8), Array(b.utf8))
                (aFirst, digest) = Self.ordered(x.span, x.indices, y.span, y.indices)
            }
            (first, second) = aFirst ? (a, b) : (b, a)
        }

        /// The pair a USERNAME names ("receiver:sender", RFC 8445 §7.2.2), split at its first colon; nil
        /// when it has none.
        init?(username: String) {
            guard let (pair, _, _) = Self.split(username: username) else { return nil }
            self = pair
        }

        private init(first: Substring, second: Substring, digest: UInt64) {
            self.first = first
            self.second = second
            self.digest = digest
        }

        /// The pair, and the USERNAME's two halves as sent. Split, ordered and hashed over the string's bytes
        /// in one pass: through `String.Index` and `Substring` comparisons this was a fifth of the analysing
        /// thread's work per check.
        static func split(username: String) -> (pair: AgentPair, receiver: Substring, sender: Substring)? {
            let found: (colon: Int, swapped: Bool, digest: UInt64)?
            if username.isContiguousUTF8 {
                found = split(username.utf8.span)
            } else {
                let bytes = Array(username.utf8)
                found = split(bytes.span)
            }
            guard let found else { return nil }
            let colon = username.utf8.index(username.utf8.startIndex, offsetBy: found.colon)
            let receiver = username[..<colon]
            let sender = username[username.utf8.index(after: colon)...]
            let (first, second) = found.swapped ? (sender, receiver) : (receiver, sender)
            return (AgentPair(first: first, second: second, digest: found.digest), receiver, sender)
        }

        private static func split(_ bytes: borrowing Span<UInt8>) -> (colon: Int, swapped: Bool, digest: UInt64)? {
            var colon: Int?
            for index in bytes.indices where bytes[index] == UInt8(ascii: ":") {
                colon = index
                break
            }
            guard let colon else { return nil }
            let (receiverFirst, digest) = ordered(bytes, 0..<colon, bytes, (colon + 1)..<bytes.count)
            return (colon, !receiverFirst, digest)
        }

        /// Whether `x[xRange]` sorts strictly before `y[yRange]` byte by byte, and FNV-1a of the first of the
        /// two, a colon, the second.
        private static func ordered(
            _ x: borrowing Span<UInt8>, _ xRange: Range<Int>, _ y: borrowing Span<UInt8>, _ yRange: Range<Int>
        ) -> (xFirst: Bool, digest: UInt64) {
            var xFirst = xRange.count < yRange.count
            for offset in 0..<min(xRange.count, yRange.count) {
                let (left, right) = (x[xRange.lowerBound + offset], y[yRange.lowerBound + offset])
                if left != right {
                    xFirst = left < right
                    break
                }
            }
            var digest = WordHash.fnvOffsetBasis
            func mix(_ bytes: borrowing Span<UInt8>, _ range: Range<Int>) {
                for index in range { digest = WordHash.fnv(digest, bytes[index]) }
            }
            if xFirst { mix(x, xRange) } else { mix(y, yRange) }
            digest = WordHash.fnv(digest, UInt8(ascii: ":"))
            if xFirst { mix(y, yRange) } else { mix(x, xRange) }
            return (xFirst, digest)
        }
        static func == (a: AgentPair, b: AgentPair) -> Bool {
            a.digest == b.digest && a.first == b.first && a.second == b.second
        }

        func hash(into hasher: inout Hasher) { hasher.combine(digest) }

        func _rawHashValue(seed: Int) -> Int { WordHash.bucket(digest, seed: seed) }
    }

    struct SessionCount: Sendable {
        var kept = 0
        var dropped = 0
    }

    /// Checks kept and dropped per session (pair of ufrags): `sessionSlots` places a session in the dense
    /// `sessionCounts`, and each named USERNAME remembers its session's place once it has one, so that a check
    /// reaches its session's counts without hashing the pair again (on a server's capture that look-up, one
    /// cache miss after another across thousands of sessions, was a tenth of the analysing thread).
    private var sessionSlots: [AgentPair: Int32] = [:]
    private var sessionCounts: [SessionCount] = []
    /// The last session found full, its place in `sessionCounts` (-1: none; what a check compares, without
    /// copying its pair of ufrags), and the checks dropped from it since (not yet in `sessionCounts`).
    private var lastFullSession: AgentPair?
    private var lastFullSlot: Int32 = -1
    /// The USERNAME of the check that found it full.
    private var lastFullUsername: String?
    private var lastFullSessionDropped = 0
    /// Each USERNAME seen in checks, split once: its pair and its two ufrags as the checks keep them. Every
    /// check of a session carries the same USERNAME, and splitting, ordering and copying its halves each time
    /// was half of the ICE tracker's work per check. Bounded: emptied when full (a flood of distinct names).
    private var namedUsernames: [UsernameKey: Int32] = [:]
    private var named: [NamedUsername] = []

    struct NamedUsername: Sendable {
        let agents: AgentPair
        let receiver: String
        let sender: String
        /// The session's place in `sessionCounts`, once it has one (-1 before).
        var slot: Int32 = -1
    }

    /// A USERNAME placed by an FNV-1a digest of its bytes (WordHash): keyed by the String itself, the
    /// table hashed it through `Hasher` (Unicode-normalising) and saved nothing.
    struct UsernameKey: Hashable, Sendable {
        let digest: UInt64
        let username: String

        init(_ username: String) {
            var digest = WordHash.fnvOffsetBasis
            var utf8 = username
            utf8.withUTF8 { bytes in
                for unsafe byte in unsafe bytes { digest = WordHash.fnv(digest, byte) }
            }
            self.digest = digest
            self.username = utf8
        }

        static func == (a: UsernameKey, b: UsernameKey) -> Bool { a.digest == b.digest && a.username == b.username }
        func hash(into hasher: inout Hasher) { hasher.combine(digest) }
        func _rawHashValue(seed: Int) -> Int { WordHash.bucket(digest, seed: seed) }
    }

    public init() {}

    /// Starts bringing the check index's line for `id` into cache, a few messages ahead of `handle`.
    func prefetch(_ id: TransactionID) { checkIndex.prefetch(id) }

    /// The USERNAME's place in `named`: its pair and halves ("receiver:sender", RFC 8445 §7.2.2); nil without a colon.
    private mutating func name(_ username: String) -> Int? {
        let key = UsernameKey(username)
        if let index = namedUsernames[key] { return Int(index) }
        guard let (agents, receiver, sender) = AgentPair.split(username: username) else { return nil }
        if named.count >= Limits.namedUsernames {
            namedUsernames.removeAll(keepingCapacity: true)
            named.removeAll(keepingCapacity: true)
        }
        namedUsernames[key] = Int32(named.count)
        named.append(NamedUsername(agents: agents, receiver: String(receiver), sender: String(sender)))
        return named.count - 1
    }

    /// The session's place in `sessionCounts` (made if `create`), remembered by the named USERNAME.
    private mutating func sessionSlot(named index: Int, create: Bool) -> Int? {
        let known = named[index].slot
        if known >= 0 { return Int(known) }
        let agents = named[index].agents
        var slot = sessionSlots[agents]
        if slot == nil, create {
            slot = Int32(sessionCounts.count)
            sessionSlots[agents] = slot
            sessionCounts.append(SessionCount())
        }
        if let slot { named[index].slot = slot }
        return slot.map(Int.init)
    }

    /// Checks dropped from a session, for the report.
    private func checksDropped(from agents: AgentPair) -> Int {
        sessionSlots[agents].map { sessionCounts[Int($0)].dropped } ?? 0
    }

    /// Forgets the sessions (pairs of ufrags) with no check or answer since `cutoff` (a long live capture:
    /// consent checks keep a live session busy every few seconds); returns how many.
    public mutating func evict(idleBefore cutoff: CaptureTime) -> Int {
        var lastActivity: [AgentPair: CaptureTime] = [:]
        for check in checks {
            let key = AgentPair(Substring(check.receiver), Substring(check.sender))
            let latest = max(check.time, check.responseTime ?? check.time)
            if lastActivity[key].map({ latest > $0 }) ?? true { lastActivity[key] = latest }
        }
        let idle = Set(lastActivity.filter { $0.value < cutoff }.keys)
        forgetGathering(before: cutoff)
        namedUsernames.removeAll()
        named.removeAll()
        guard !idle.isEmpty else { return 0 }
        var newIndex: [Int] = Array(repeating: -1, count: checks.count)
        var kept: [Check] = []
        kept.reserveCapacity(checks.count)
        for (index, check) in checks.enumerated()
        where !idle.contains(AgentPair(Substring(check.receiver), Substring(check.sender))) {
            newIndex[index] = kept.count
            kept.append(check)
        }
        checks = kept
        checkIndex = checkIndex.remapped(newIndex)
        var keptSlots: [AgentPair: Int32] = [:]
        var keptCounts: [SessionCount] = []
        var newSlot = [Int32](repeating: -1, count: sessionCounts.count)
        // Renumbered in their old order (not the table's): a session keeps its place relative to the others.
        for (key, slot) in sessionSlots.sorted(by: { $0.value < $1.value }) where !idle.contains(key) {
            if newSlot.indices.contains(Int(slot)) { newSlot[Int(slot)] = Int32(keptCounts.count) }
            keptSlots[key] = Int32(keptCounts.count)
            keptCounts.append(sessionCounts[Int(slot)])
        }
        (sessionSlots, sessionCounts) = (keptSlots, keptCounts)
        for index in checks.indices {
            let slot = Int(checks[index].session)
            checks[index].session = newSlot.indices.contains(slot) ? newSlot[slot] : -1
        }
        lastFullSlot = lastFullSession.flatMap { sessionSlots[$0] } ?? -1
        for key in idle {
            relayedChecks[key] = nil
            googPings[key] = nil
        }
        relayedOrder.removeAll { relayedChecks[$0] == nil }
        if let full = lastFullSession, idle.contains(full) {
            lastFullSession = nil
            lastFullSlot = -1
            lastFullUsername = nil
            lastFullSessionDropped = 0
        }
        firstSeenAsSource.removeAll(keepingCapacity: true)
        firstSeenAsTarget.removeAll(keepingCapacity: true)
        for check in checks {
            if firstSeenAsSource[check.from].map({ check.time < $0 }) ?? true { firstSeenAsSource[check.from] = check.time }
            if firstSeenAsTarget[check.to].map({ check.time < $0 }) ?? true { firstSeenAsTarget[check.to] = check.time }
        }
        return idle.count
    }

    /// Forgets server-reflexive addresses and allocations learned before `cutoff` (a long live capture), so
    /// that their caps never stop later gathering from being seen.
    private mutating func forgetGathering(before cutoff: CaptureTime) {
        gatheredFrom = gatheredFrom.filter { $0.value.time >= cutoff }
        basesByIP.removeAll(keepingCapacity: true)
        for base in gatheredFrom.keys { basesByIP[base.ip, default: []].append(base) }
        allocations.removeAll { $0.time < cutoff }
        allocationsByIP.removeAll(keepingCapacity: true)
        allocationByRelayed.removeAll(keepingCapacity: true)
        for (index, allocation) in allocations.enumerated() {
            allocationsByIP[allocation.client.ip, default: []].append(index)
            allocationByRelayed[allocation.relayed] = index
        }
    }

    public mutating func handle(_ message: STUNMessage, flow: FiveTuple, time: CaptureTime, carrier: MessageCarrier) {
        switch (message.method, message.messageClass) {
        case (.googPing, .request):
            // GOOG-PING (libwebrtc) replaces a repeated check on an established pair: USERNAME, no PRIORITY.
            if case .text(let username) = message.value(.username), let key = AgentPair(username: username) {
                if googPings[key] != nil || googPings.count < 4_096 { googPings[key, default: 0] += 1 }
            }
        case (.binding, .request):
            let read = CheckAttributes(message)
            // A flood repeats one full session's USERNAME: compared whole, before it is split and ordered
            // (that one had a colon: this is a check).
            if carrier == .direct, read.priority != nil, let username = read.username, username == lastFullUsername {
                droppedChecks += 1
                lastFullSessionDropped += 1
                return
            }
            guard let username = read.username, let priority = read.priority, let namedIndex = name(username) else {
                if serverBindings.count >= Limits.pendingRequests { serverBindings.removeAll(keepingCapacity: true) }
                serverBindings[message.transactionID] = flow
                return
            }
            guard carrier == .direct else {
                let agents = named[namedIndex].agents
                // Relayed, and the relayed address unknown (the allocation was not captured): no pair can be
                // named, so the check is counted, so that a session is never called failed while checks went
                // through TURN.
                if relayedChecks[agents] == nil {
                    guard relayedOrder.count < Limits.iceChecks else { return }  // bounded like the checks
                    relayedOrder.append(agents)
                }
                relayedChecks[agents, default: 0] += 1
                return
            }
            // One session (a pair of ufrags) keeps at most `Limits.iceChecksPerSession` checks: a flood reusing
            // one USERNAME from random ports would otherwise make every later step work on all of them. Past
            // the cap a check is counted without the id lookup (a retransmission of a kept one counts again).
            // A flood repeats one full session: counted against it by its place, without hashing or copying the
            // ufrags (a USERNAME not yet placed takes the path below once, which counts it the same).
            if lastFullSlot >= 0, named[namedIndex].slot == lastFullSlot {
                droppedChecks += 1
                lastFullSessionDropped += 1
                return
            }
            let existingSlot = sessionSlot(named: namedIndex, create: false)
            let kept = existingSlot.map { sessionCounts[$0].kept } ?? 0
            guard kept < Limits.iceChecksPerSession, checks.count < Limits.iceChecks else {
                droppedChecks += 1
                if let slot = sessionSlot(named: namedIndex, create: sessionCounts.count < Limits.iceChecks) {
                    sessionCounts[slot].dropped += 1
                }
                if kept >= Limits.iceChecksPerSession {
                    if lastFullSlot >= 0, sessionCounts.indices.contains(Int(lastFullSlot)) {
                        sessionCounts[Int(lastFullSlot)].dropped += lastFullSessionDropped
                    }
                    lastFullSession = named[namedIndex].agents
                    lastFullSlot = existingSlot.map(Int32.init) ?? -1
                    lastFullUsername = username
                    lastFullSessionDropped = 0
                }
                return
            }
            // Room for every check the cap allows, reserved once it is clear many will come: the pages are
            // only touched as checks arrive, and the list never doubles (a doubling holds the old copy and the
            // new one at once: 25 MB more at the peak of a server's capture).
            if checks.count == 4_096 {
                checks.reserveCapacity(Limits.iceChecks)
                checkIndex.reserveCapacity(Limits.iceChecks)
            }
            // One look-up: placed at once unless a retransmission (the transaction tracker counts it).
            if checkIndex.insertIfAbsent(message.transactionID, place: checks.count) != nil { return }
            let slot = existingSlot ?? sessionSlot(named: namedIndex, create: true)
            if let slot { sessionCounts[slot].kept += 1 }
            var check = Check(
                sender: named[namedIndex].sender, receiver: named[namedIndex].receiver,
                from: flow.source, to: flow.destination, transport: flow.transport, time: time, priority: priority,
                useCandidate: read.useCandidate || read.nomination, controlling: read.controlling,
                controlled: read.controlled, networkInfo: read.networkInfo)
            check.session = slot.map { Int32($0) } ?? -1
            if firstSeenAsSource[flow.source] == nil { firstSeenAsSource[flow.source] = time }
            if firstSeenAsTarget[flow.destination] == nil { firstSeenAsTarget[flow.destination] = time }
            checks.append(check)
        case (.binding, .successResponse), (.binding, .errorResponse), (.googPing, .successResponse):
            if let index = checkIndex[message.transactionID] {
                guard checks[index].responseTime == nil else { return }
                checks[index].responseTime = time
                checks[index].success = message.messageClass == .successResponse
                if case .errorCode(let code, _) = message.value(.errorCode) { checks[index].errorCode = code }
                if case .xorAddress(let mapped) = message.value(.xorMappedAddress) { checks[index].mapped = mapped }
            } else if let request = serverBindings.removeValue(forKey: message.transactionID), message.messageClass == .successResponse,
                case .xorAddress(let mapped) = message.value(.xorMappedAddress), reflexive.count < Limits.natMappings
            {
                reflexive.insert(mapped)
                if gatheredFrom[request.source] == nil {
                    gatheredFrom[request.source] = Gathered(mapped: mapped, server: request.destination, time: time)
                    basesByIP[request.source.ip, default: []].append(request.source)
                }
            }
        case (.allocate, .request):
            // Even a refused Allocate says this address is a TURN server: its other ports are relays.
            if turnServers.count < 1_024 { turnServers.insert(flow.destination.ip) }
        case (.allocate, .successResponse):
            turnServers.insert(flow.source.ip)
            for attribute in message.attributes where attribute.type == .xorRelayedAddress {
                guard case .xorAddress(let address) = attribute.value, relayed.count < Limits.turnAllocations else { continue }
                // An agent's relay candidate: tied to it by the client address even if it never checks from it.
                if relayed.insert(address).inserted {
                    allocationsByIP[flow.destination.ip, default: []].append(allocations.count)
                    allocationByRelayed[address] = allocations.count
                    allocations.append(
                        Allocation(relayed: address, server: flow.source, client: flow.destination, transport: flow.transport, time: time))
                }
            }
        default:
            break
        }
    }

    /// Consent checks (RFC 7675): checks on the selected pair after its first success.
    private func consent(on pair: ICECandidatePair, _ positions: [Int32], end: CaptureTime?) -> ICESession.Consent? {
        guard let connected = pair.firstSuccess else { return nil }
        // What is looked at of each check on the pair after it connected: copied out whole, a check is a few
        // hundred bytes.
        struct Seen {
            var time: CaptureTime
            var responseTime: CaptureTime?
            var success: Bool?
        }
        let all = checks.span
        var onPair: [Seen] = []
        for position in positions {
            let at = Int(position)
            let (from, to, time) = (all[at].from, all[at].to, all[at].time)
            guard (from == pair.local && to == pair.remote || from == pair.remote && to == pair.local) && time > connected else { continue }
            onPair.append(Seen(time: time, responseTime: all[at].responseTime, success: all[at].success))
        }
        var consent = ICESession.Consent()
        consent.checks = onPair.count
        consent.answered = onPair.filter { $0.success == true }.count
        let times = onPair.map(\.time)
        let intervals = zip(times.dropFirst(), times).map { $0.milliseconds(since: $1) }.sorted()
        if !intervals.isEmpty { consent.medianIntervalMilliseconds = intervals[intervals.count / 2] }
        // The longest time without an answer, up to the end of the capture.
        var lastAnswer = connected
        var longest = 0.0
        var longestStart = connected
        for check in onPair {
            if let response = check.responseTime, check.success == true {
                if response.milliseconds(since: lastAnswer) > longest {
                    longest = response.milliseconds(since: lastAnswer)
                    longestStart = lastAnswer
                }
                lastAnswer = response
            }
        }
        let finish = end ?? onPair.last?.time ?? connected
        if finish > lastAnswer, finish.milliseconds(since: lastAnswer) >= longest {
            longest = finish.milliseconds(since: lastAnswer)
            longestStart = lastAnswer
            consent.silenceRunsToEnd = true
        }
        consent.longestSilenceMilliseconds = longest
        consent.silenceStart = longestStart
        let silenceEnd = longestStart.adding(milliseconds: Int64(longest.rounded()))
        consent.unansweredInSilence = onPair.filter { $0.time > longestStart && $0.time <= silenceEnd && $0.success != true }.count
        consent.lost = longest >= 30_000 && onPair.contains { $0.time > lastAnswer }
        if consent.lost { consent.lostAt = lastAnswer.adding(milliseconds: 30_000) }
        return consent
    }

    /// What a check carries, read in one walk over its attributes (asking `value(_:)` for each walked the
    /// list six times). As there, the first attribute of a type that is not to be ignored counts.
    struct CheckAttributes {
        var username: String?
        var priority: UInt32?
        var controlling: UInt64?
        var controlled: UInt64?
        var useCandidate = false
        /// libwebrtc's renomination (0xC001 NOMINATION) nominates as USE-CANDIDATE does.
        var nomination = false
        var networkInfo: ICESession.NetworkInfo?

        init(_ message: STUNMessage) {
            var seen: UInt8 = 0
            func first(_ bit: UInt8) -> Bool {
                defer { seen |= bit }
                return seen & bit == 0
            }
            // Through a span of the list: each attribute borrowed in place (through the array, every access
            // copied the attribute, retaining and releasing its value: 630 instructions a check).
            let attributes = message.attributes.span
            for index in attributes.indices where !attributes[index].ignored {
                switch attributes[index].type {
                case .username where first(1):
                    if case .text(let text) = attributes[index].value { username = text }
                case .priority where first(2):
                    if case .uint32(let number) = attributes[index].value { priority = number }
                case .iceControlling where first(4):
                    if case .uint64(let number) = attributes[index].value { controlling = number }
                case .iceControlled where first(8):
                    if case .uint64(let number) = attributes[index].value { controlled = number }
                case .useCandidate where first(16):
                    useCandidate = true
                case .nomination where first(32):
                    if case .nomination = attributes[index].value { nomination = true }
                case .googNetworkInfo where first(64):
                    if case .googNetworkInfo(let id, let cost) = attributes[index].value {
                        networkInfo = ICESession.NetworkInfo(networkID: id, cost: cost)
                    }
                default:
                    break
                }
            }
        }
    }

    /// Forgets the checks (after `sessions` was built from them); what was counted stays.
    mutating func releaseChecks() {
        checks = []
        checkIndex = CheckIndex()
    }

    /// Builds the sessions at the end of the capture; `media` adds what crossed each selected pair.
    public func sessions(media: MediaTable = MediaTable(), end: CaptureTime? = nil) -> [ICESession] {
        // Grouped by index, and each session's checks copied out only while it is built: a copy of every
        // check at once doubled the peak memory of a server's capture (100 000 checks). Grouped by the session's
        // place each check carries; a check without one (none is kept without) by its pair of ufrags.
        var pairOfSlot = [AgentPair?](repeating: nil, count: sessionCounts.count)
        for (key, slot) in sessionSlots where pairOfSlot.indices.contains(Int(slot)) { pairOfSlot[Int(slot)] = key }
        var order: [AgentPair] = []
        var groupedIndexes: [AgentPair: [Int32]] = [:]
        var bySlot = [[Int32]](repeating: [], count: sessionCounts.count)
        var slotOrder: [Int] = []
        for position in checks.indices {
            let slot = Int(checks[position].session)
            if bySlot.indices.contains(slot), pairOfSlot[slot] != nil {
                if bySlot[slot].isEmpty { slotOrder.append(slot) }
                bySlot[slot].append(Int32(position))
            } else {
                let key = AgentPair(Substring(checks[position].sender), Substring(checks[position].receiver))
                if groupedIndexes[key] == nil { order.append(key) }
                groupedIndexes[key, default: []].append(Int32(position))
            }
        }
        let fellBack = !order.isEmpty
        for slot in slotOrder {
            guard let key = pairOfSlot[slot] else { continue }
            if groupedIndexes[key] == nil { order.append(key) }
            groupedIndexes[key, default: []].append(contentsOf: bySlot[slot])
        }
        if fellBack {
            // Both ways used: back to the order of each session's first check, each session's checks in order.
            for key in order { groupedIndexes[key]?.sort() }
            order.sort { (groupedIndexes[$0]?.first ?? 0) < (groupedIndexes[$1]?.first ?? 0) }
        }
        for key in relayedOrder where groupedIndexes[key] == nil { order.append(key) }
        // Each session is built from its own checks only: built on every core (a server's thousands of
        // sessions took a fifth of the time after reading), in the same order.
        let (keys, grouped) = (order, groupedIndexes)
        return concurrentMap(count: keys.count, chunk: 32) { index in
            let key = keys[index]
            // The session's checks by their places in `checks`, read there in place: copied out (a list per
            // session, then each check again by every loop over it), they were a fifth of building the sessions.
            let positions = grouped[key] ?? []
            let all = checks.span
            var built = session(id: "ice-\(index + 1)", positions, ufrags: [String(key.first), String(key.second)])
            built.relayedChecks = relayedChecks[key] ?? 0
            built.googPings = googPings[key] ?? 0
            built.checksDropped = checksDropped(from: key) + (key == lastFullSession ? lastFullSessionDropped : 0)
            built.checksSeen += built.checksDropped
            for position in positions {
                if let info = all[Int(position)].networkInfo { built.networkInfo[all[Int(position)].sender] = info }
            }
            for index in built.pairs.indices {
                let pair = built.pairs[index]
                built.pairs[index].media = media.flow(between: pair.local, pair.remote, transport: pair.transport)
            }
            if let selected = built.selectedPair {
                built.selectedPair?.media = media.flow(between: selected.local, selected.remote, transport: selected.transport)
                built.media = built.selectedPair?.media
                if let firstRTP = built.media?.firstRTPTime {
                    built.timeToFirstMediaMilliseconds = firstRTP.milliseconds(since: built.firstCheck)
                }
                built.consent = consent(on: selected, positions, end: end)
            }
            return built
        }
    }

    /// A session from its checks: `positions`, their places in `checks` in order (read in place).
    private func session(id: String, _ positions: [Int32], ufrags: [String]) -> ICESession {
        let all = checks.span
        guard let firstPosition = positions.first else {
            return ICESession(id: id, ufrags: ufrags, firstCheck: CaptureTime(nanoseconds: 0))
        }
        let first = all[Int(firstPosition)]
        var session = ICESession(id: id, ufrags: [], firstCheck: first.time)
        session.checksSeen = positions.count
        var lastActivity = first.time
        for position in positions {
            let index = Int(position)
            lastActivity = max(lastActivity, all[index].time, all[index].responseTime ?? all[index].time)
        }
        session.lastActivity = lastActivity
        // The session's two agents by index (0: the first check's sender), so that what is kept per agent is
        // an array slot rather than a String-keyed table hashed for every check.
        let agents = [first.sender, first.receiver]
        func agentIndex(_ ufrag: String) -> Int { ufrag == agents[0] ? 0 : 1 }
        // Roles: the attribute each agent's latest check carried; a change is a role switch.
        var roles: [Bool?] = [nil, nil]
        var tieBreakers: [UInt64?] = [nil, nil]
        // An agent that answers checks but never sends one is ICE-lite (RFC 8445 §2.5): host candidates only.
        // (One that neither sends nor answers may simply be unreachable from here.)
        var sendsChecks = [false, false]
        var answersChecks = [false, false]
        for position in positions {
            let index = Int(position)
            let sender = agentIndex(all[index].sender)
            sendsChecks[sender] = true
            if all[index].responseTime != nil { answersChecks[agentIndex(all[index].receiver)] = true }
            let (controlling, controlled) = (all[index].controlling, all[index].controlled)
            if controlling == nil && controlled == nil { continue }
            let isControlling = controlling != nil
            if let previous = roles[sender], previous != isControlling, !session.roleSwitches.contains(all[index].sender) {
                session.roleSwitches.append(all[index].sender)
            }
            roles[sender] = isControlling
            tieBreakers[sender] = controlling ?? controlled
            if all[index].errorCode == 487 { session.roleConflicts += 1 }
        }
        for index in agents.indices {
            if let tieBreaker = tieBreakers[index] { session.tieBreakers[agents[index]] = tieBreaker }
        }
        // Both claiming one role (a conflict still open at the end) names the first check's sender: a
        // String-keyed table named whichever its per-process hash seed put first.
        session.controlling = agents.indices.first { roles[$0] == true }.map { agents[$0] }
        session.controlled = agents.indices.first { roles[$0] == false }.map { agents[$0] }
        if let controlling = session.controlling {
            session.ufrags = [controlling] + agents.filter { $0 != controlling }
        } else {
            session.ufrags = agents
        }
        func sends(_ ufrag: String) -> Bool { agents.contains(ufrag) && sendsChecks[agentIndex(ufrag)] }
        func answers(_ ufrag: String) -> Bool { agents.contains(ufrag) && answersChecks[agentIndex(ufrag)] }
        // Candidates: where each agent sent checks from, and where the peer sent checks to. Kept in a list
        // with an index by address (changed in place: a session can have thousands).
        var candidates: [ICECandidate] = []
        var candidateAt: [TransportAddress: Int] = [:]
        func note(_ address: TransportAddress, agent: String, transport: Transport, priority: UInt32?) {
            if let known = candidateAt[address] {
                if candidates[known].priority == nil { candidates[known].priority = priority }
                return
            }
            let peer = agents.first { $0 != agent } ?? ""
            let (type, evidence) = classify(address, peerSendsChecks: sends(peer) || !answers(peer))
            candidateAt[address] = candidates.count
            var candidate = ICECandidate(agent: agent, address: address, transport: transport, type: type, priority: priority, evidence: [evidence])
            candidate.checked = true
            candidates.append(candidate)
        }
        var previous: (from: TransportAddress, to: TransportAddress)?
        for position in positions {
            let index = Int(position)
            let (from, to, transport) = (all[index].from, all[index].to, all[index].transport)
            // A check between the addresses of the one before it adds nothing: both are known by then, the
            // sender's with its priority. Most of a session's checks are such (consent freshness), and each
            // was three look-ups.
            if let previous, previous.from == from, previous.to == to { continue }
            previous = (from, to)
            note(from, agent: all[index].sender, transport: transport, priority: all[index].priority)
            let receiver = all[index].receiver
            if !sends(receiver), answers(receiver), candidateAt[to] == nil {
                candidateAt[to] = candidates.count
                var candidate = ICECandidate(
                    agent: receiver, address: to, transport: transport, type: .host, priority: nil,
                    evidence: ["the agent never sends checks (ICE-lite, RFC 8445 §2.5): host candidates only"])
                candidate.checked = true
                candidates.append(candidate)
            }
            note(to, agent: receiver, transport: transport, priority: nil)
        }
        let named = gatherAndName(positions, agents: agents, into: &candidates, index: &candidateAt)
        session.candidates = candidates
        // Pairs, oriented controlling → controlled; the same list-and-index.
        struct PairKey: Hashable {
            var local: TransportAddress
            var remote: TransportAddress
            var transport: Transport

            /// Placed by its words, as FiveTuple is (WordHash): no SipHash per check.
            func _rawHashValue(seed: Int) -> Int {
                WordHash.bucket(WordHash.fold(local.hashWord, remote.hashWord ^ UInt64(transport.hashBits) << 62), seed: seed)
            }
        }
        var pairs: [ICECandidatePair] = []
        var pairAt: [PairKey: Int] = [:]
        var answered: [Bool] = []
        // The pair of the check before: most checks are on it (one look-up by address pair saved each).
        var lastKey: PairKey?
        var lastIndex = 0
        for position in positions {
            let at = Int(position)
            let (from, to, transport, time) = (all[at].from, all[at].to, all[at].transport, all[at].time)
            let (responseTime, success, errorCode) = (all[at].responseTime, all[at].success, all[at].errorCode)
            let sender = all[at].sender
            let senderIsControlling = session.controlling.map { $0 == sender } ?? true
            let local = senderIsControlling ? from : to
            let remote = senderIsControlling ? to : from
            let key = PairKey(local: local, remote: remote, transport: transport)
            let index: Int
            if key == lastKey {
                index = lastIndex
            } else if let known = pairAt[key] {
                index = known
            } else {
                index = pairs.count
                pairAt[key] = index
                let localName = named[local] ?? local
                let remoteName = named[remote] ?? remote
                var pair = ICECandidatePair(
                    local: local, remote: remote, localType: candidateAt[localName].map { candidates[$0].type },
                    remoteType: candidateAt[remoteName].map { candidates[$0].type }, transport: transport,
                    firstCheck: time)
                pair.localCandidate = localName == local ? nil : localName
                pair.remoteCandidate = remoteName == remote ? nil : remoteName
                // RFC 8445 §6.1.2.3, from the candidates' priorities (settled before the pairs are made).
                if let localPriority = candidateAt[local].flatMap({ candidates[$0].priority }),
                    let remotePriority = candidateAt[remote].flatMap({ candidates[$0].priority })
                {
                    let g = UInt64(localPriority)
                    let d = UInt64(remotePriority)
                    pair.priority = (UInt64(1) << 32) * min(g, d) + 2 * max(g, d) + (g > d ? 1 : 0)
                }
                pairs.append(pair)
                answered.append(false)
            }
            pairs[index].checks += 1
            if responseTime != nil { answered[index] = true }
            if let responseTime, success == true {
                pairs[index].responses += 1
                pairs[index].rttMilliseconds.append(responseTime.milliseconds(since: time))
                if pairs[index].firstSuccess.map({ responseTime < $0 }) ?? true { pairs[index].firstSuccess = responseTime }
                pairs[index].state = .succeeded
                if all[at].useCandidate && senderIsControlling && !pairs[index].nominated {
                    pairs[index].nominated = true
                    pairs[index].nominatedAt = responseTime
                }
            } else if let code = errorCode {
                pairs[index].errors.append(code)
            }
            (lastKey, lastIndex) = (key, index)
        }
        // Failed: an error answered it (other than a role conflict, which is retried), or every check went
        // unanswered; in progress otherwise.
        for index in pairs.indices
        where pairs[index].state != .succeeded && (pairs[index].errors.contains { $0 != 487 } || !answered[index]) {
            pairs[index].state = .failed
        }
        session.pairs = pairs
        session.selectedPair = session.pairs.filter(\.nominated).max { ($0.nominatedAt ?? first.time) < ($1.nominatedAt ?? first.time) }
        // Connected when the first nominated pair succeeded (the agents' "connected"), even if a later
        // nomination switched to another pair (libwebrtc renominates a better pair once it works).
        if let success = session.pairs.filter(\.nominated).compactMap({ $0.nominatedAt ?? $0.firstSuccess }).min() {
            session.timeToConnectMilliseconds = success.milliseconds(since: first.time)
        }
        // A flood of checks from random ports makes one session with as many pairs: report the ones that
        // matter (succeeded or nominated first, then in order of first check) and count the rest.
        if session.pairs.count > Limits.icePairsReported {
            let important = session.pairs.filter { $0.state == .succeeded || $0.nominated }.prefix(Limits.icePairsReported)
            let others = session.pairs.filter { $0.state != .succeeded && !$0.nominated }
                .prefix(Limits.icePairsReported - important.count)
            session.pairsOmitted = session.pairs.count - important.count - others.count
            session.answersOnOmittedPairs = session.pairs.filter { $0.state != .succeeded && !$0.nominated }
                .dropFirst(others.count).reduce(0) { $0 + $1.responses + $1.errors.count }
            session.pairs = Array(important) + Array(others)
        }
        if session.candidates.count > Limits.icePairsReported {
            let used = Set(session.pairs.flatMap { [$0.local, $0.remote] })
            let kept = session.candidates.filter { used.contains($0.address) }.prefix(Limits.icePairsReported)
            session.candidatesOmitted = session.candidates.count - kept.count
            session.candidates = Array(kept)
        }
        return session
    }

    /// Adds what the agents gathered and how they name their ends: the server-reflexive address a STUN
    /// server returned to a Binding from an address the agent checks from, the relayed address of an Allocate
    /// from it (same address, or same IP for agents that allocate from another socket), and the address the
    /// peer's answers name (XOR-MAPPED-ADDRESS) when it is not the wire's (inside the agent's NAT): a known
    /// server-reflexive or relayed address keeps its type, any other is peer-reflexive (RFC 8445 §7.2.5.3.1).
    /// Returns wire address → the candidate the agent names for it.
    private func gatherAndName(
        _ positions: [Int32], agents: [String], into candidates: inout [ICECandidate], index: inout [TransportAddress: Int]
    ) -> [TransportAddress: TransportAddress] {
        let all = checks.span
        func add(
            _ address: TransportAddress, agent: String, transport: Transport, type: CandidateType, evidence: String,
            gathered: Bool, checked: Bool, base: TransportAddress?
        ) {
            if let known = index[address] {
                if candidates[known].agent != agent { return }  // the other agent's address: not ours to retype
                if gathered && !candidates[known].gathered {
                    candidates[known].gathered = true
                    candidates[known].type = type
                    // The gathering names the server and the base: it replaces the address-only reasons.
                    let generic: Set<String> = [
                        "XOR-RELAYED-ADDRESS of an Allocate success", "XOR-MAPPED-ADDRESS from a STUN server",
                    ]
                    candidates[known].evidence = [evidence] + candidates[known].evidence.filter { !generic.contains($0) }
                } else if !candidates[known].evidence.contains(evidence), candidates[known].evidence.count < 4 {
                    candidates[known].evidence.append(evidence)
                }
                if checked { candidates[known].checked = true }
                if candidates[known].base == nil, let base, base != address { candidates[known].base = base }
                return
            }
            guard candidates.count < Limits.icePairsReported * 4 else { return }
            index[address] = candidates.count
            var candidate = ICECandidate(agent: agent, address: address, transport: transport, type: type, priority: nil, evidence: [evidence])
            candidate.gathered = gathered
            candidate.checked = checked
            candidate.base = base == address ? nil : base
            candidates.append(candidate)
        }
        var sources: [String: [TransportAddress]] = [:]
        var transports: [TransportAddress: Transport] = [:]
        var firstTime: CaptureTime?
        var lastTime: CaptureTime?
        var lastFrom: TransportAddress?
        for position in positions {
            let at = Int(position)
            let (from, time) = (all[at].from, all[at].time)
            if from != lastFrom, transports[from] == nil {
                transports[from] = all[at].transport
                sources[all[at].sender, default: []].append(from)
            }
            lastFrom = from
            if firstTime.map({ time < $0 }) ?? true { firstTime = time }
            if lastTime.map({ time > $0 }) ?? true { lastTime = time }
        }
        // Gathered: server-reflexive from the agent's own sockets, relays allocated from them. For a relay,
        // another socket of the same IP counts when it was used around the session's time (aioice allocates
        // from a socket of its own; never an hour apart, so that agents sharing a NAT's address stay apart).
        func nearSession(_ time: CaptureTime) -> Bool {
            guard let firstTime, let lastTime else { return false }
            return time.milliseconds(since: firstTime) > -60_000 && time <= lastTime
        }
        for agent in agents {
            let own = sources[agent] ?? []
            let ownAddresses = Set(own)
            // In order of first use; a set beside the list: a flood's checks from thousands of addresses made the
            // list's linear search quadratic (1.3 G instructions for 16 384 checks).
            var ownIPs: [IPAddress] = []
            var seenIPs: Set<IPAddress> = []
            for address in own where seenIPs.insert(address.ip).inserted { ownIPs.append(address.ip) }
            for ip in ownIPs {
                for base in basesByIP[ip] ?? [] {
                    // Only from a socket it checks from: an aiortc peer gathers on sockets of transports it
                    // then discards (bundle), whose reflexive addresses are no candidates of this session.
                    guard ownAddresses.contains(base), let gathered = gatheredFrom[base] else { continue }
                    add(
                        gathered.mapped, agent: agent, transport: transports[base] ?? .udp, type: .srflx,
                        evidence: "XOR-MAPPED-ADDRESS of a Binding from \(base) to the STUN server \(gathered.server)",
                        gathered: true, checked: false, base: base)
                }
            }
            // Its allocations: made from a socket it checks from or another of its IP near the session, or
            // relaying its checks (a relay-only agent checks from nothing else).
            var mine: [Int] = []
            for ip in ownIPs {
                for index in allocationsByIP[ip] ?? [] where ownAddresses.contains(allocations[index].client) || nearSession(allocations[index].time) {
                    mine.append(index)
                }
            }
            for address in own { if let index = allocationByRelayed[address], !mine.contains(index) { mine.append(index) } }
            for index in mine {
                let allocation = allocations[index]
                add(
                    allocation.relayed, agent: agent, transport: .udp, type: .relay,
                    evidence: "XOR-RELAYED-ADDRESS of the Allocate success from \(allocation.server) to \(allocation.client)",
                    gathered: true, checked: false, base: allocation.client)
            }
        }
        // Named: the peer's answers say where the checks came from; inside a NAT that is the agent's candidate.
        var named: [TransportAddress: TransportAddress] = [:]
        for position in positions where all[Int(position)].success == true {
            let at = Int(position)
            guard let mapped = all[at].mapped, mapped != all[at].from, named[all[at].from] == nil else { continue }
            // Rare: an answer naming an address other than the wire's, the first time for its source.
            let check = all[at]
            named[check.from] = mapped
            let type: CandidateType
            let evidence: String
            if relayed.contains(mapped) {
                type = .relay
                evidence = "XOR-RELAYED-ADDRESS of an Allocate success, named by the peer's answer to a check from \(check.from)"
            } else if gatheredFrom[check.from]?.mapped == mapped || reflexive.contains(mapped) {
                type = .srflx
                evidence = "the peer's answer to a check from \(check.from) names this server-reflexive address (libwebrtc reports the pair's local candidate so)"
            } else {
                type = .prflx
                evidence = "XOR-MAPPED-ADDRESS of the peer's answer to a check from \(check.from): a mapping no STUN server returned (peer-reflexive, RFC 8445 §7.2.5.3.1)"
            }
            add(mapped, agent: check.sender, transport: check.transport, type: type, evidence: evidence,
                gathered: type == .srflx && gatheredFrom[check.from]?.mapped == mapped, checked: true, base: check.from)
        }
        return named
    }

    /// Types an address from what the wire shows (see ICECandidate.evidence). `peerSendsChecks`: the other
    /// agent is full ICE, so it can learn peer-reflexive candidates from incoming checks.
    private func classify(_ address: TransportAddress, peerSendsChecks: Bool) -> (CandidateType, String) {
        if relayed.contains(address) { return (.relay, "XOR-RELAYED-ADDRESS of an Allocate success") }
        if turnServers.contains(address.ip) { return (.relay, "on a TURN server's address, not its listening port") }
        if reflexive.contains(address) { return (.srflx, "XOR-MAPPED-ADDRESS from a STUN server") }
        let source = firstSeenAsSource[address]
        let target = firstSeenAsTarget[address]
        if let source, peerSendsChecks, target.map({ source < $0 }) ?? true, !address.ip.isPrivate {
            return (.prflx, "first seen as the source of a check, before any check was sent to it")
        }
        if address.ip.isPrivate { return (.host, "a private address") }
        if let source, target.map({ source < $0 }) ?? true {
            return (.host, "the agent sent checks from it before any check was sent to it (its own address here)")
        }
        return (.srflx, "a public address the peer was told about (server-reflexive, inferred)")
    }

}
