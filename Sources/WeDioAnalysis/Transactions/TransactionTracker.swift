import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// Matches requests and responses by transaction id (RFC 8489 §6.3.1), counts retransmissions, and
/// decides timeouts in capture time. Memory is bounded: at most `Limits.transactions` are kept; beyond
/// that the oldest finished ones are dropped from the list and counted.
public struct TransactionTracker: Sendable {
    public static let timeoutNanoseconds: Int64 = 39_500_000_000

    private var byID: [TransactionID: Int] = [:]
    public private(set) var transactions: [STUNTransaction] = []
    public private(set) var orphanResponses = 0
    public private(set) var evicted = 0
    /// Transactions dropped by the cap, by outcome, so totals stay right.
    public private(set) var evictedOutcomes: [TransactionOutcome: Int] = [:]

    public init() {}

    /// Several vantage points' transactions in one list, each tagged with its vantage point.
    public static func merged(_ trackers: [(String, TransactionTracker)]) -> TransactionTracker {
        if trackers.count == 1, let only = trackers.first {
            var tracker = only.1
            for index in tracker.transactions.indices { tracker.transactions[index].vantage = only.0 }
            return tracker
        }
        var merged = TransactionTracker()
        for (name, tracker) in trackers {
            merged.transactions += tracker.transactions.map { transaction in
                var transaction = transaction
                transaction.vantage = name
                return transaction
            }
            merged.orphanResponses += tracker.orphanResponses
            merged.evicted += tracker.evicted
            merged.evictedOutcomes.merge(tracker.evictedOutcomes, uniquingKeysWith: +)
        }
        return merged
    }

    public mutating func handle(
        _ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef, carrier: MessageCarrier,
        integrity: IntegrityResult
    ) {
        switch message.messageClass {
        case .request:
            if let index = byID[message.transactionID] {
                guard transactions[index].responseTime == nil || transactions[index].responseTime.map({ time <= $0 }) == true
                else {
                    // A request after the answer: a retransmission that crossed the response.
                    transactions[index].retransmissions += 1
                    return
                }
                transactions[index].retransmissions += 1
                if transactions[index].retransmissionTimes.count < Limits.retransmissionsKept {
                    transactions[index].retransmissionTimes.append(time)
                }
                return
            }
            append(
                STUNTransaction(
                    id: message.transactionID, method: message.method, client: flow.source, server: flow.destination,
                    transport: flow.transport, carrier: carrier, requestRef: ref, requestTime: time,
                    requestIntegrity: integrity))
        case .indication:
            append(
                STUNTransaction(
                    id: message.transactionID, method: message.method, client: flow.source, server: flow.destination,
                    transport: flow.transport, carrier: carrier, requestRef: ref, requestTime: time, outcome: .indication,
                    requestIntegrity: integrity))
        case .successResponse, .errorResponse:
            guard let index = byID[message.transactionID] else {
                orphanResponses += 1
                return
            }
            if transactions[index].responseTime != nil {
                transactions[index].duplicateResponses += 1
                return
            }
            transactions[index].responseRef = ref
            transactions[index].responseTime = time
            transactions[index].responseIntegrity = integrity
            let expected = FiveTuple(
                source: transactions[index].server, destination: transactions[index].client,
                transport: transactions[index].transport)
            if flow != expected { transactions[index].responseFlow = flow }
            if message.messageClass == .successResponse {
                transactions[index].outcome = .success
            } else {
                transactions[index].outcome = .error
                if case .errorCode(let code, let reason) = message.value(.errorCode) {
                    transactions[index].errorCode = code
                    transactions[index].errorReason = reason
                }
            }
        }
    }

    private mutating func append(_ transaction: STUNTransaction) {
        if transactions.count >= Limits.transactions { evictOldest() }
        byID[transaction.id] = transactions.count
        transactions.append(transaction)
    }

    /// Drops the oldest eighth of the list (finished or not) and re-indexes; counted in `evicted`.
    private mutating func evictOldest() {
        let dropped = max(1, transactions.count / 8)
        for transaction in transactions.prefix(dropped) {
            evictedOutcomes[transaction.outcome ?? .timeout, default: 0] += 1
        }
        evicted += dropped
        transactions.removeFirst(dropped)
        byID.removeAll(keepingCapacity: true)
        for (index, transaction) in transactions.enumerated() { byID[transaction.id] = index }
    }

    /// Closes open requests at the end of the capture: each becomes a timeout (nothing answered it while
    /// the capture ran, or it waited past 39.5 s).
    public mutating func finish(at end: CaptureTime) {
        for index in transactions.indices where transactions[index].outcome == nil {
            transactions[index].outcome = .timeout
        }
    }

    /// Counts by outcome, the evicted included.
    public var outcomeCounts: [TransactionOutcome: Int] {
        var counts = evictedOutcomes
        for transaction in transactions { counts[transaction.outcome ?? .timeout, default: 0] += 1 }
        return counts
    }
}
