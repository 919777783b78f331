import WeDioBasics

/// The second stage of an analysis: the finished analyzers of every vantage point merged into one result,
/// correlated across vantage points (matched transactions, NATs between them, clock offsets), and
/// assembled into calls (each ICE session seen at every vantage point and across its restarts, with the
/// candidate types as the agents name them), then diagnosed and put on a timeline.
public enum CallAssembly {
    public static func assemble(inputs: [InputSummary], vantages given: consuming [(name: String, analyzer: Analyzer)]) -> AnalysisResult {
        var vantages = given
        var statistics = Statistics()
        var methodCounts: [String: Int] = [:]
        var messages: [MessageRecord] = []
        var droppedMessages = 0
        var trackers: [(String, TransactionTracker)] = []
        var sessions: [ICESession] = []
        var allocations: [TURNAllocation] = []
        var encryptedTURN: [EncryptedConnection] = []
        let several = vantages.count > 1
        for index in vantages.indices {
            let name = vantages[index].name
            // The checks are let go once this vantage point's sessions are built: with the caller's list
            // consumed, a server's 100 000 checks are not held beside the report built from them.
            var built = vantages[index].analyzer.ice.sessions(media: vantages[index].analyzer.media, end: vantages[index].analyzer.lastTime)
            vantages[index].analyzer.releaseICEChecks()
            let analyzer = vantages[index].analyzer
            statistics.add(analyzer.statistics)
            methodCounts.merge(analyzer.methodCounts, uniquingKeysWith: +)
            messages += analyzer.messages
            droppedMessages += analyzer.messagesDropped
            trackers.append((name, analyzer.transactions))
            // Named in place and moved, not appended one by one: a server's thousands of sessions were held
            // twice at the peak (the built list and its copy).
            for position in built.indices {
                built[position].vantage = name
                if several { built[position].id = "\(name)/\(built[position].id)" }
            }
            if sessions.isEmpty { sessions = built } else { sessions += built }
            encryptedTURN += analyzer.encryptedTURN.connections.map { connection in
                var connection = connection
                connection.vantage = name
                return connection
            }
            for var allocation in analyzer.turn.allocations {
                allocation.vantage = name
                if several { allocation.id = "\(name)/\(allocation.id)" }
                allocations.append(allocation)
            }
        }
        var mediaStreams: [MediaStreamSummary] = []
        var mediaStreamsDropped = 0
        for (name, analyzer) in vantages {
            var sessionByFlow: [FiveTuple: String] = [:]
            for index in sessions.indices where sessions[index].vantage == name {
                for pair in sessions[index].pairs where pair.media != nil {
                    let flow = FiveTuple(source: pair.local, destination: pair.remote, transport: pair.transport).canonical
                    if sessionByFlow[flow] == nil { sessionByFlow[flow] = sessions[index].id }
                }
            }
            let flows = analyzer.media.flows
            for stream in analyzer.media.streams {
                let rtcp = flows.indices.contains(stream.flowIndex)
                    ? flows[stream.flowIndex].rtcpSenders.filter { $0.ssrc == stream.ssrc && $0.direction == stream.direction }
                        .reduce(0) { $0 + $1.packets } : 0
                mediaStreams.append(
                    MediaStreamSummary(stream: stream, vantage: name, session: sessionByFlow[stream.flow.canonical], rtcpPackets: rtcp))
            }
            mediaStreamsDropped += analyzer.media.streamsDropped
        }
        ICERestarts.link(&sessions)
        SDPCandidates.annotate(&sessions, with: vantages.first?.analyzer.options.signalledCandidates ?? [])
        PeerSide.attach(to: &allocations, vantages: vantages)
        var result = AnalysisResult(
            inputs: inputs, statistics: statistics, methodCounts: methodCounts, messages: messages,
            transactions: TransactionTracker.merged(trackers), iceSessions: sessions)
        result.messagesDropped = droppedMessages
        result.mediaStreams = mediaStreams
        result.mediaStreamsDropped = mediaStreamsDropped
        result.turnAllocations = allocations
        // TLS/DTLS on 443 is TURN only on evidence: a server that answered STUN/TURN in clear is one.
        var clearServers = Set(allocations.map(\.server.ip))
        for transaction in result.transactions.transactions where transaction.responseTime != nil {
            clearServers.insert(transaction.server.ip)
        }
        result.encryptedTURN = EncryptedTURNTable.turnOnly(encryptedTURN, clearServers: clearServers)
        for (name, analyzer) in vantages {
            result.icmpErrors += analyzer.icmpErrors.reports.map { report in
                var report = report
                report.vantage = name
                return report
            }
        }
        ICMPTies.tie(&result.icmpErrors, to: result.transactions.transactions)

        // NAT: per vantage point, then across vantage points.
        var views: [VantageView] = []
        for (name, analyzer) in vantages {
            let nat = analyzer.nat
            result.natObservationsDropped += nat.dropped
            result.iceChecksDropped += analyzer.ice.droppedChecks
            result.natMappings += nat.mappings.map { mapping in
                var mapping = mapping
                mapping.vantage = name
                return mapping
            }
            result.mappingChanges += nat.changes.map { change in
                var change = change
                change.vantage = name
                return change
            }
            result.discoveryExchanges += nat.exchanges.map { exchange in
                var exchange = exchange
                exchange.vantage = name
                return exchange
            }
            result.unsolicitedRequests += nat.unsolicited
            result.natBehaviour += NATBehaviourAnalysis.classify(
                mappings: nat.mappings, exchanges: nat.exchanges, unsolicited: nat.unsolicited, vantage: name)
            let own = inputs.filter { $0.vantage == name }
            views.append(
                VantageView(
                    name: name, transactions: analyzer.transactions.transactions, mappedByTransaction: nat.mappedByTransaction,
                    firstTime: own.compactMap(\.firstTime).min(), lastTime: own.compactMap(\.lastTime).max()))
        }
        result.vantageLinks = several ? VantageCorrelation.correlate(views) : []
        for link in result.vantageLinks where !link.mappings.isEmpty {
            result.natMappings += link.mappings
            result.mappingChanges += changes(in: link)
            var behaviours = NATBehaviourAnalysis.classify(
                mappings: link.mappings, exchanges: [], unsolicited: [], vantage: "\(link.inside)→\(link.outside)")
            for index in behaviours.indices {
                NATBehaviourAnalysis.classifyFiltering(dropped: link.droppedRequests, into: &behaviours[index])
            }
            result.natBehaviour += behaviours
        }
        let offsets = VantageCorrelation.clockOffsets(result.vantageLinks, reference: vantages.first?.name ?? "")
        result.vantages = vantages.map { name, _ in
            VantageSummary(
                name: name, inputs: inputs.filter { $0.vantage == name }.map(\.index), clockOffsetMilliseconds: offsets[name])
        }
        for input in inputs where !input.dropWindows.isEmpty {
            result.transactions.markCaptureDrops(input.dropWindows, vantage: several ? input.vantage : nil)
        }
        result.calls = calls(result.iceSessions, allocations: result.turnAllocations, clock: ReferenceClock(result))
        result.browserComparisons = BrowserComparison.compare(
            vantages.first?.analyzer.options.browserViews ?? [], with: result.calls)
        result.mediaStalls = Diagnosis.mediaStalls(result)
        // The findings and the timeline read the result and not each other: worked out side by side (on a
        // server's capture, each a few milliseconds of the report's serial time).
        enum Piece: Sendable {
            case findings([Finding])
            case timeline(Timeline)
        }
        let finished = result
        for piece in concurrentMap(count: 2, chunk: 1, { index -> Piece in
            index == 0 ? .findings(Diagnosis.findings(for: finished)) : .timeline(Timeline.build(from: finished))
        }) {
            switch piece {
            case .findings(let findings): result.findings = findings
            case .timeline(let timeline): result.timeline = timeline
            }
        }
        return result
    }

    /// The NAT between two vantage points gave an internal address a new external one towards the same
    /// destination (a rebinding, or the router's public address changed): seen by matching transactions, so
    /// it needs no STUN server's answer.
    static func changes(in link: VantageLink) -> [MappingChange] {
        struct Key: Hashable {
            var internalAddress: TransportAddress
            var destination: TransportAddress
        }
        var latest: [Key: NATMapping] = [:]
        var changes: [MappingChange] = []
        for mapping in link.mappings.sorted(by: { $0.firstTime < $1.firstTime }) {
            let key = Key(internalAddress: mapping.internalAddress, destination: mapping.destination)
            if let previous = latest[key], previous.externalAddress != mapping.externalAddress, changes.count < Limits.natMappings {
                changes.append(
                    MappingChange(
                        internalAddress: mapping.internalAddress, destination: mapping.destination, previous: previous.externalAddress,
                        current: mapping.externalAddress, time: mapping.firstTime, ref: mapping.firstRef, vantage: link.inside))
            }
            latest[key] = mapping
        }
        return changes
    }
}
