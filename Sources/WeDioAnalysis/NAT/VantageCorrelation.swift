import WeDioBasics
import WeDioSTUN

/// One vantage point's view, as the correlation needs it.
public struct VantageView: Sendable {
    public var name: String
    public var transactions: [STUNTransaction]
    public var mappedByTransaction: [TransactionID: TransportAddress]
    public var firstTime: CaptureTime?
    public var lastTime: CaptureTime?

    public init(
        name: String, transactions: [STUNTransaction], mappedByTransaction: [TransactionID: TransportAddress],
        firstTime: CaptureTime?, lastTime: CaptureTime?
    ) {
        self.name = name
        self.transactions = transactions
        self.mappedByTransaction = mappedByTransaction
        self.firstTime = firstTime
        self.lastTime = lastTime
    }
}

/// The same request seen at two vantage points with different addresses: a NAT between them.
public struct VantageTranslation: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable {
        /// Sent from inside: the source was translated.
        case outbound
        /// Sent from outside to the NAT's external address: the destination was translated.
        case inbound
        /// Both addresses changed: more than one NAT between the vantage points.
        case both
    }

    public var id: TransactionID
    public var method: STUNMethod
    public var direction: Direction
    public var inside: FiveTuple
    public var outside: FiveTuple
    public var insideTime: CaptureTime
    public var outsideTime: CaptureTime
    public var insideRef: PacketRef
    public var outsideRef: PacketRef
    /// Time spent crossing the NAT, the clock offset removed (when it is known).
    public var delayMilliseconds: Double?
}

/// A request seen outside a NAT, addressed to its external address, that never appeared inside while
/// the inside capture ran: the NAT dropped it (filtering, RFC 4787 §5).
public struct DroppedRequest: Sendable, Hashable {
    public var id: TransactionID
    public var flow: FiveTuple
    public var time: CaptureTime
    public var ref: PacketRef
    /// True when the inside address had sent to the requester's IP before (on another port).
    public var requesterIPContacted: Bool
    public var requesterContacted: Bool
}

/// What two vantage points share: matched transactions, the clock offset between the captures, and —
/// when a NAT sits between them — the translations, mappings and dropped requests.
public struct VantageLink: Sendable, Hashable {
    /// The vantage point nearer the clients (`inside`) and the other; `oriented` says whether the data told
    /// which is which (mapped addresses, private address ranges), else the input order is kept.
    public var inside: String
    public var outside: String
    public var oriented: Bool
    public var matchedTransactions: Int
    /// Transactions seen with the same addresses on both sides.
    public var unchanged: Int
    public var translated: Int
    /// Outside's clock minus inside's, from answered transactions seen on both sides (NTP-style: half the
    /// difference of the two one-way differences), median; nil without an answered match.
    public var clockOffsetMilliseconds: Double?
    /// Median time a request took from one vantage point to the other, the offset removed.
    public var medianDelayMilliseconds: Double?
    public var translations: [VantageTranslation]
    public var mappings: [NATMapping]
    public var droppedRequests: [DroppedRequest]
    /// True when every translation changed the same side of the flow in a consistent way: one NAT between.
    public var singleNAT: Bool
}

public enum VantageCorrelation {
    /// Translations kept per link for the report (all are counted).
    static let translationsKept = 512

    public static func correlate(_ views: [VantageView]) -> [VantageLink] {
        var links: [VantageLink] = []
        for (index, first) in views.enumerated() {
            for second in views.dropFirst(index + 1) {
                if let link = link(first, second) { links.append(link) }
            }
        }
        return links
    }

    /// Offsets of every vantage point's clock against the first one's (in milliseconds, to subtract from
    /// its times), following links breadth-first. Unlinked vantage points are absent.
    public static func clockOffsets(_ links: [VantageLink], reference: String) -> [String: Double] {
        var offsets: [String: Double] = [reference: 0]
        var frontier = [reference]
        while let current = frontier.popLast() {
            guard let base = offsets[current] else { continue }
            for link in links {
                guard let offset = link.clockOffsetMilliseconds else { continue }
                if link.inside == current, offsets[link.outside] == nil {
                    offsets[link.outside] = base + offset
                    frontier.append(link.outside)
                } else if link.outside == current, offsets[link.inside] == nil {
                    offsets[link.inside] = base - offset
                    frontier.append(link.inside)
                }
            }
        }
        return offsets
    }

    private struct Match {
        var x: STUNTransaction
        var y: STUNTransaction
    }

    static func link(_ x: VantageView, _ y: VantageView) -> VantageLink? {
        var indexY: [TransactionID: Int] = [:]
        indexY.reserveCapacity(y.transactions.count)
        for (index, transaction) in y.transactions.enumerated() { indexY[transaction.id] = index }
        var matches: [Match] = []
        for transaction in x.transactions {
            guard let index = indexY[transaction.id], y.transactions.indices.contains(index) else { continue }
            let other = y.transactions[index]
            // A check relayed through TURN travels the relayed 5-tuple, the same at every vantage point; it is
            // left on the outer one where its allocation is unknown (the client's NAT changed its address):
            // never a NAT's translation.
            guard other.method == transaction.method, other.transport == transaction.transport,
                transaction.carrier == .direct && other.carrier == .direct
                    || transaction.client == other.client && transaction.server == other.server
            else { continue }
            matches.append(Match(x: transaction, y: other))
        }
        guard !matches.isEmpty else { return nil }

        // Which side is inside: the mapped address a server returned is the outside view of the client.
        var votesXInside = 0
        var votesYInside = 0
        for match in matches {
            if match.x.client != match.y.client {
                let mapped = x.mappedByTransaction[match.x.id] ?? y.mappedByTransaction[match.y.id]
                if mapped == match.y.client { votesXInside += 2 }
                if mapped == match.x.client { votesYInside += 2 }
                if match.x.client.ip.isPrivate && !match.y.client.ip.isPrivate { votesXInside += 1 }
                if match.y.client.ip.isPrivate && !match.x.client.ip.isPrivate { votesYInside += 1 }
            }
            if match.x.server != match.y.server {
                if match.x.server.ip.isPrivate && !match.y.server.ip.isPrivate { votesXInside += 1 }
                if match.y.server.ip.isPrivate && !match.x.server.ip.isPrivate { votesYInside += 1 }
            }
        }
        let yInside = votesYInside > votesXInside
        let inside = yInside ? y : x
        let outside = yInside ? x : y
        let pairs = matches.map { yInside ? (inside: $0.y, outside: $0.x) : (inside: $0.x, outside: $0.y) }

        var offsets: [Double] = []
        for pair in pairs {
            guard let insideResponse = pair.inside.responseTime, let outsideResponse = pair.outside.responseTime else {
                continue
            }
            let request = pair.outside.requestTime.milliseconds(since: pair.inside.requestTime)
            let response = outsideResponse.milliseconds(since: insideResponse)
            offsets.append((request + response) / 2)
        }
        let offset = median(offsets)

        var translations: [VantageTranslation] = []
        var translatedCount = 0
        var unchanged = 0
        var directions: Set<VantageTranslation.Direction> = []
        var delays: [Double] = []
        var mappingIndex: [[TransportAddress]: Int] = [:]
        var mappings: [NATMapping] = []
        let label = "\(inside.name)→\(outside.name)"
        for pair in pairs {
            let insideFlow = FiveTuple(source: pair.inside.client, destination: pair.inside.server, transport: pair.inside.transport)
            let outsideFlow = FiveTuple(
                source: pair.outside.client, destination: pair.outside.server, transport: pair.outside.transport)
            // A request travelling inward is seen outside first; its delay is measured the other way.
            let outward = pair.outside.requestTime.milliseconds(since: pair.inside.requestTime) - (offset ?? 0)
            if offset != nil { delays.append(abs(outward)) }
            guard insideFlow != outsideFlow else {
                unchanged += 1
                continue
            }
            translatedCount += 1
            let direction: VantageTranslation.Direction =
                insideFlow.destination == outsideFlow.destination
                ? .outbound : insideFlow.source == outsideFlow.source ? .inbound : .both
            directions.insert(direction)
            if translations.count < translationsKept {
                translations.append(
                    VantageTranslation(
                        id: pair.inside.id, method: pair.inside.method, direction: direction, inside: insideFlow,
                        outside: outsideFlow, insideTime: pair.inside.requestTime, outsideTime: pair.outside.requestTime,
                        insideRef: pair.inside.requestRef, outsideRef: pair.outside.requestRef,
                        delayMilliseconds: offset.map { _ in abs(outward) }))
            }
            let mapping: NATMapping? =
                switch direction {
                case .outbound:
                    NATMapping(
                        internalAddress: insideFlow.source, externalAddress: outsideFlow.source,
                        destination: insideFlow.destination, transport: insideFlow.transport, source: .vantageMatch,
                        firstTime: pair.inside.requestTime, lastTime: pair.inside.requestTime, firstRef: pair.inside.requestRef,
                        vantage: label)
                case .inbound:
                    NATMapping(
                        internalAddress: insideFlow.destination, externalAddress: outsideFlow.destination,
                        destination: insideFlow.source, transport: insideFlow.transport, source: .vantageMatch,
                        firstTime: pair.inside.requestTime, lastTime: pair.inside.requestTime, firstRef: pair.inside.requestRef,
                        vantage: label)
                case .both: nil
                }
            guard let mapping else { continue }
            let key = [mapping.internalAddress, mapping.destination, mapping.externalAddress]
            if let index = mappingIndex[key] {
                mappings[index].observations += 1
                mappings[index].lastTime = max(mappings[index].lastTime, mapping.lastTime)
                mappings[index].firstTime = min(mappings[index].firstTime, mapping.firstTime)
            } else if mappings.count < Limits.natMappings {
                mappingIndex[key] = mappings.count
                mappings.append(mapping)
            }
        }
        let singleNAT = !directions.isEmpty && !directions.contains(.both)
        let oriented = votesXInside != votesYInside
        if !singleNAT || !oriented { mappings = [] }
        mappings.sort { ($0.firstTime, $0.internalAddress, $0.destination) < ($1.firstTime, $1.internalAddress, $1.destination) }

        var dropped: [DroppedRequest] = []
        if singleNAT && oriented {
            dropped = droppedRequests(inside: inside, outside: outside, mappings: mappings, offset: offset ?? 0)
        }
        return VantageLink(
            inside: inside.name, outside: outside.name, oriented: oriented, matchedTransactions: matches.count,
            unchanged: unchanged, translated: translatedCount, clockOffsetMilliseconds: offset,
            medianDelayMilliseconds: median(delays), translations: translations, mappings: mappings,
            droppedRequests: dropped, singleNAT: singleNAT)
    }

    /// Requests to a mapped external address seen outside, inside's capture running, never seen inside.
    private static func droppedRequests(
        inside: VantageView, outside: VantageView, mappings: [NATMapping], offset: Double
    ) -> [DroppedRequest] {
        guard let insideFirst = inside.firstTime, let insideLast = inside.lastTime else { return [] }
        var internalFor: [TransportAddress: TransportAddress] = [:]
        for mapping in mappings { internalFor[mapping.externalAddress] = mapping.internalAddress }
        let insideIDs = Set(inside.transactions.map(\.id))
        var dropped: [DroppedRequest] = []
        for transaction in outside.transactions where transaction.outcome != .indication {
            guard let internalAddress = internalFor[transaction.server], !insideIDs.contains(transaction.id) else { continue }
            let insideClock = transaction.requestTime.subtracting(milliseconds: offset)
            guard insideClock >= insideFirst, insideClock <= insideLast else { continue }
            // Had the inside address sent to this requester (or its IP) before, as seen outside?
            let earlier = mappings.filter { $0.internalAddress == internalAddress && $0.firstTime <= insideClock }
            dropped.append(
                DroppedRequest(
                    id: transaction.id,
                    flow: FiveTuple(source: transaction.client, destination: transaction.server, transport: transaction.transport),
                    time: transaction.requestTime, ref: transaction.requestRef,
                    requesterIPContacted: earlier.contains { $0.destination.ip == transaction.client.ip },
                    requesterContacted: earlier.contains { $0.destination == transaction.client }))
            if dropped.count >= Limits.natEvents { break }
        }
        return dropped
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
