import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// Matches requests and responses by transaction id (RFC 8489 §6.3.1), counts retransmissions, and
/// decides timeouts in capture time. Memory is bounded: the first `Limits.transactions / 2` transactions
/// (the call's set-up) and the latest `Limits.transactions / 2` are kept in full; those in between are
/// dropped as newer ones arrive and only tallied (`dropped`), so totals stay right under a flood.
public struct TransactionTracker: Sendable {
    public static let timeoutNanoseconds: Int64 = 39_500_000_000
    /// Transactions kept from the start of the capture; the rest of `Limits.transactions` is a ring of the latest.
    public static let headCapacity = Limits.transactions / 2
    public static let ringCapacity = Limits.transactions - headCapacity

    /// Transaction id → slot in `storage`; an entry goes stale when its slot is reused.
    private var byID = TransactionIndex(capacity: Limits.transactions)
    /// The head (slots below `headCapacity`, never reused) then the ring of the latest.
    private var storage: [STUNTransaction] = []
    /// The ring slot (counted from `headCapacity`) that is overwritten next once the ring is full.
    private var ringNext = 0
    public private(set) var orphanResponses = 0
    /// Tallies of the transactions dropped from the list (this vantage point's own).
    public private(set) var dropped = TransactionSummary()
    /// The same per vantage point, once several are merged.
    public private(set) var droppedByVantage: [String: TransactionSummary] = [:]

    public init() {}

    /// The kept transactions in the order their first request was seen.
    public var transactions: [STUNTransaction] {
        guard ringNext > 0 else { return storage }
        let head = Self.headCapacity
        return Array(storage[..<head]) + storage[(head + ringNext)...] + storage[head..<(head + ringNext)]
    }

    /// Transactions dropped from the list by the cap.
    public var evicted: Int { dropped.count }

    /// Tallies over every transaction seen (kept and dropped), for one vantage point or all.
    public func summary(vantage: String? = nil) -> TransactionSummary {
        var summary = TransactionSummary()
        summary.merge(vantage.map { droppedByVantage[$0] ?? TransactionSummary() } ?? dropped)
        for transaction in storage where vantage == nil || transaction.vantage == vantage { summary.add(transaction) }
        return summary
    }

    /// Counts by outcome, the dropped included.
    public var outcomeCounts: [TransactionOutcome: Int] { summary().outcomes }

    /// Several vantage points' transactions in one list, each tagged with its vantage point.
    public static func merged(_ trackers: [(String, TransactionTracker)]) -> TransactionTracker {
        var merged = TransactionTracker()
        for (name, tracker) in trackers {
            merged.storage += tracker.transactions.map { transaction in
                var transaction = transaction
                transaction.vantage = name
                return transaction
            }
            merged.orphanResponses += tracker.orphanResponses
            merged.dropped.merge(tracker.dropped)
            merged.droppedByVantage[name, default: TransactionSummary()].merge(tracker.dropped)
        }
        // Merged lists are read, never appended to: no index and no ring.
        return merged
    }

    /// Starts bringing the index entry of `id` into cache, a few messages ahead of `handle`.
    func prefetch(_ id: TransactionID) { byID.prefetch(id) }

    /// Returns the request when `message` is the first response to it (nil otherwise).
    @discardableResult
    public mutating func handle(
        _ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef, carrier: MessageCarrier,
        integrity: IntegrityResult, purpose: RequestPurpose? = nil
    ) -> AnsweredRequest? {
        switch message.messageClass {
        case .request:
            let id = message.transactionID
            if let index = byID.find(id, holds: { storage.indices.contains($0) && storage[$0].id == id }) {
                storage[index].retransmissions += 1
                // A request after the answer is a retransmission that crossed the response: no time kept.
                guard storage[index].responseTime.map({ time <= $0 }) ?? true else { return nil }
                if storage[index].retransmissionTimes.count < Limits.retransmissionsKept {
                    storage[index].retransmissionTimes.append(time)
                }
                return nil
            }
            var transaction = STUNTransaction(
                id: message.transactionID, method: message.method, client: flow.source, server: flow.destination,
                transport: flow.transport, carrier: carrier, requestRef: ref, requestTime: time, requestIntegrity: integrity)
            transaction.purpose = purpose ?? RequestPurpose(message)
            let slot = nextSlot
            place(consume transaction, at: slot)
            byID.insert(id, slot: slot)
            return nil
        case .indication:
            let slot = nextSlot
            place(
                STUNTransaction(
                    id: message.transactionID, method: message.method, client: flow.source, server: flow.destination,
                    transport: flow.transport, carrier: carrier, requestRef: ref, requestTime: time, outcome: .indication,
                    requestIntegrity: integrity), at: slot)
            byID.insert(message.transactionID, slot: slot)
            return nil
        case .successResponse, .errorResponse:
            let id = message.transactionID
            guard let index = byID.find(id, holds: { storage.indices.contains($0) && storage[$0].id == id }) else {
                orphanResponses += 1
                return nil
            }
            if storage[index].responseTime != nil {
                storage[index].duplicateResponses += 1
                return nil
            }
            storage[index].responseRef = ref
            storage[index].responseTime = time
            storage[index].responseIntegrity = integrity
            let expected = FiveTuple(
                source: storage[index].server, destination: storage[index].client,
                transport: storage[index].transport)
            if flow != expected { storage[index].responseFlow = flow }
            if message.messageClass == .successResponse {
                storage[index].outcome = .success
            } else {
                storage[index].outcome = .error
                if case .errorCode(let code, let reason) = message.value(.errorCode) {
                    storage[index].errorCode = code
                    storage[index].errorReason = reason
                }
            }
            return AnsweredRequest(storage[index])
        }
    }

    /// Where the next new transaction goes: the end of the list, or once it is full the oldest ring slot.
    private var nextSlot: Int {
        storage.count < Limits.transactions ? storage.count : Self.headCapacity + ringNext
    }

    /// Stores a transaction at `nextSlot`; the ring's oldest gives way, tallied in `dropped` (its index
    /// entry goes stale with it, no shifting).
    private mutating func place(_ transaction: consuming STUNTransaction, at slot: Int) {
        if slot == storage.count {
            storage.append(transaction)
            return
        }
        ringNext = (ringNext + 1) % Self.ringCapacity
        // The old one tallied from its fields in place and overwritten: swapped out and passed whole, it was
        // copied four times over (a few hundred bytes each, into a slot not in cache), a fifth of the
        // analysing thread under a flood.
        guard storage.indices.contains(slot) else { return }
        dropped.add(
            method: storage[slot].method, outcome: storage[slot].outcome, errorCode: storage[slot].errorCode,
            retransmitted: storage[slot].retransmissions > 0)
        storage[slot] = transaction
    }

    /// Forgets transactions over before `cutoff` (answered, indications, or unanswered for 39.5 s), tallied like
    /// those the cap drops (a long live capture: the report then lists what is recent); returns how many.
    public mutating func evict(before cutoff: CaptureTime) -> Int {
        var kept: [STUNTransaction] = []
        var removed = 0
        for var transaction in transactions {
            let over: CaptureTime? =
                transaction.outcome != nil
                ? (transaction.responseTime ?? transaction.requestTime)
                : CaptureTime(nanoseconds: transaction.requestTime.nanoseconds &+ Self.timeoutNanoseconds)
            if let over, over < cutoff {
                if transaction.outcome == nil { transaction.outcome = .timeout }
                dropped.add(transaction)
                removed += 1
            } else {
                kept.append(transaction)
            }
        }
        guard removed > 0 else { return 0 }
        storage = kept
        ringNext = 0
        byID = TransactionIndex(capacity: Limits.transactions)
        for (slot, transaction) in storage.enumerated() { byID.insert(transaction.id, slot: slot) }
        return removed
    }

    /// Takes out the requests still waiting for their answer and not yet 39.5 s old at `now` (a window report of
    /// a live capture: they are decided, and reported, in a later window); returns how many.
    public mutating func removeInFlight(at now: CaptureTime) -> Int {
        let all = transactions
        let kept = all.filter { transaction in
            transaction.outcome != nil || transaction.requestTime.nanoseconds &+ Self.timeoutNanoseconds <= now.nanoseconds
        }
        guard kept.count < all.count else { return 0 }
        storage = kept
        ringNext = 0
        byID = TransactionIndex(capacity: Limits.transactions)
        for (slot, transaction) in storage.enumerated() { byID.insert(transaction.id, slot: slot) }
        return all.count - kept.count
    }

    /// Seconds after a request's last transmission during which its answer could still arrive, for deciding
    /// whether a lost packet may have been that answer (RFC 8489's last wait is Rm × RTO = 8 s).
    public static let answerWindowNanoseconds: Int64 = 8_000_000_000

    /// Marks the timeouts whose answer may have been among the packets a live capture lost: the drop window
    /// overlaps the time from the request to 8 s after its last transmission. `vantage` nil: every transaction.
    public mutating func markCaptureDrops(_ windows: [CaptureDropWindow], vantage: String?) {
        guard !windows.isEmpty else { return }
        for index in storage.indices where storage[index].outcome == .timeout {
            if let vantage, storage[index].vantage != vantage { continue }
            let from = storage[index].requestTime
            let last = storage[index].retransmissionTimes.last ?? from
            let to = CaptureTime(nanoseconds: last.nanoseconds &+ Self.answerWindowNanoseconds)
            if windows.contains(where: { $0.overlaps(from, to) }) { storage[index].duringCaptureDrops = true }
        }
    }

    /// Timeouts marked by `markCaptureDrops`.
    public var timeoutsDuringCaptureDrops: [STUNTransaction] { storage.filter(\.duringCaptureDrops) }

    /// Closes open requests at the end of the capture: each becomes a timeout (nothing answered it while
    /// the capture ran, or it waited past 39.5 s).
    public mutating func finish(at end: CaptureTime) {
        for index in storage.indices where storage[index].outcome == nil {
            storage[index].outcome = .timeout
        }
    }
}

/// Tallies over transactions, kept or dropped: what the report says about all of them. Plain counters:
/// a flood adds one per packet.
public struct TransactionSummary: Sendable, Equatable {
    public var count = 0
    public var success = 0
    public var error = 0
    /// Requests never answered (still open at the end counts here too).
    public var timeout = 0
    public var indication = 0
    /// Requests sent more than once.
    public var retransmitted = 0
    /// Error responses by method and code.
    public var errors: [ErrorTally: Int] = [:]

    public struct ErrorTally: Sendable, Hashable {
        public var method: STUNMethod
        public var code: Int?
    }

    public init() {}

    public var requests: Int { count - indication }
    public var answered: Int { success + error }

    /// By outcome, the outcomes never seen left out.
    public var outcomes: [TransactionOutcome: Int] {
        let all: [(TransactionOutcome, Int)] = [(.success, success), (.error, error), (.timeout, timeout), (.indication, indication)]
        return Dictionary(uniqueKeysWithValues: all.filter { $0.1 > 0 })
    }

    public mutating func add(_ transaction: STUNTransaction) {
        add(
            method: transaction.method, outcome: transaction.outcome, errorCode: transaction.errorCode,
            retransmitted: transaction.retransmissions > 0)
    }

    /// `add` from the fields it reads.
    mutating func add(method: STUNMethod, outcome: TransactionOutcome?, errorCode: Int?, retransmitted wasRetransmitted: Bool) {
        count += 1
        switch outcome {
        case .success: success += 1
        case .error:
            error += 1
            errors[ErrorTally(method: method, code: errorCode), default: 0] += 1
        case .indication: indication += 1
        case .timeout, nil: timeout += 1
        }
        if wasRetransmitted { retransmitted += 1 }
    }

    public mutating func merge(_ other: TransactionSummary) {
        count += other.count
        success += other.success
        error += other.error
        timeout += other.timeout
        indication += other.indication
        retransmitted += other.retransmitted
        errors.merge(other.errors, uniquingKeysWith: +)
    }
}
