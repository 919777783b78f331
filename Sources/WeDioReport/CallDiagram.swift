import WeDioAnalysis
import WeDioBasics
import WeDioSTUN

/// The sequence diagram of one call: lanes for agent A, A's NAT, the STUN/TURN servers, B's NAT and agent B,
/// drawn from every vantage point with each exchange once (the copy seen nearest its sender). A check relayed
/// through TURN is drawn through the TURN server; what the NATs translated is said in notes.
extension MarkdownReport {
    enum Lane: Hashable {
        case agent(Int)
        case nat(Int)
        case server(IPAddress)
        case other(IPAddress)
    }

    struct CallLanes {
        var laneOf: [IPAddress: Lane] = [:]
        /// Relayed address → the side whose relay it is.
        var relayOwner: [TransportAddress: Int] = [:]
        var sideOf: [String: Int] = [:]
        var hostIPs: [[IPAddress]] = [[], []]
        var natIPs: [[IPAddress]] = [[], []]
        var servers: [IPAddress: String] = [:]

        func lane(_ address: TransportAddress) -> Lane {
            if relayOwner[address] != nil { return .server(address.ip) }
            return laneOf[address.ip] ?? .other(address.ip)
        }
    }

    static func lanes(for call: ICECall, in result: AnalysisResult) -> CallLanes {
        var lanes = CallLanes()
        let members = result.iceSessions.filter { call.sessions.contains($0.id) }
        for session in members {
            let first = session.controlling ?? session.ufrags.first
            for ufrag in session.ufrags where lanes.sideOf[ufrag] == nil {
                lanes.sideOf[ufrag] = ufrag == first ? 0 : 1
            }
        }
        for allocation in result.turnAllocations { lanes.servers[allocation.server.ip] = "TURN server" }
        for exchange in result.discoveryExchanges where lanes.servers[exchange.server.ip] == nil {
            lanes.servers[exchange.server.ip] = "STUN server"
        }
        for session in members {
            for candidate in session.candidates {
                guard let side = lanes.sideOf[candidate.agent] else { continue }
                switch candidate.type {
                case .host:
                    if !lanes.hostIPs[side].contains(candidate.address.ip) { lanes.hostIPs[side].append(candidate.address.ip) }
                case .srflx, .prflx:
                    if let base = candidate.base, !lanes.hostIPs[side].contains(base.ip), base.ip.isPrivate {
                        lanes.hostIPs[side].append(base.ip)
                    }
                    if !lanes.natIPs[side].contains(candidate.address.ip) { lanes.natIPs[side].append(candidate.address.ip) }
                case .relay:
                    lanes.relayOwner[candidate.address] = side
                    if lanes.servers[candidate.address.ip] == nil { lanes.servers[candidate.address.ip] = "TURN server" }
                }
            }
        }
        for side in 0..<2 {
            // A public host address is its own NAT-less lane; an address both sides name stays with the first.
            lanes.natIPs[side].removeAll { lanes.hostIPs[side].contains($0) || lanes.servers[$0] != nil }
            for ip in lanes.hostIPs[side] where lanes.laneOf[ip] == nil { lanes.laneOf[ip] = .agent(side) }
        }
        for side in 0..<2 { for ip in lanes.natIPs[side] where lanes.laneOf[ip] == nil { lanes.laneOf[ip] = .nat(side) } }
        for ip in lanes.servers.keys where lanes.laneOf[ip] == nil { lanes.laneOf[ip] = .server(ip) }
        return lanes
    }

    func callDiagram(_ result: AnalysisResult, call: ICECall) -> [String] {
        let lanes = Self.lanes(for: call, in: result)
        let reference = ReferenceClock(result).time
        func known(_ address: TransportAddress) -> Bool {
            if case .other = lanes.lane(address) { return false }
            return true
        }
        // Each transaction once: the copy whose sender sits in an agent's lane (seen before any NAT), else the
        // first seen. Only what touches the call's lanes.
        var chosen: [TransactionID: STUNTransaction] = [:]
        var order: [TransactionID] = []
        for transaction in result.transactions.transactions where known(transaction.client) || known(transaction.server) {
            if let previous = chosen[transaction.id] {
                if case .agent = lanes.lane(transaction.client), !isAgent(lanes.lane(previous.client)) {
                    chosen[transaction.id] = transaction
                }
                continue
            }
            guard order.count < 200_000 else { break }
            chosen[transaction.id] = transaction
            order.append(transaction.id)
        }
        let transactions = order.compactMap { chosen[$0] }.sorted {
            reference($0.requestTime, $0.vantage) < reference($1.requestTime, $1.vantage)
        }
        struct Arrow {
            var from: Lane
            var to: Lane
            var label: String
            var dashed: Bool
        }
        struct Group {
            var arrows: [Arrow]
            var count: Int
            var first: CaptureTime
            var timeout: (Lane, Lane)?
        }
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        var omitted = 0
        var used: Set<Lane> = []
        for transaction in transactions {
            let outcome = transaction.outcome ?? .timeout
            let answer: String? =
                switch outcome {
                case .success: "success"
                case .error: "\(transaction.errorCode ?? 0) \(transaction.errorReason ?? "")"
                case .timeout, .indication: nil
                }
            let kind = outcome == .indication ? "indication" : "request"
            let client = lanes.lane(transaction.client)
            let server = lanes.lane(transaction.server)
            var arrows: [Arrow] = []
            let relayedClient = lanes.relayOwner[transaction.client]
            let relayedServer = lanes.relayOwner[transaction.server]
            if transaction.carrier != .direct || relayedClient != nil || relayedServer != nil {
                // Through TURN: the relay's owner talks to the server, the server to the peer.
                let requester: Lane = relayedClient.map { .agent($0) } ?? client
                let responder: Lane = relayedServer.map { .agent($0) } ?? server
                let turn: Lane = relayedClient != nil ? client : server
                arrows.append(Arrow(from: requester, to: turn, label: "\(transaction.method.name) \(kind)", dashed: false))
                arrows.append(Arrow(from: turn, to: responder, label: "\(transaction.method.name) \(kind) (relayed)", dashed: false))
                if let answer {
                    arrows.append(Arrow(from: responder, to: turn, label: answer, dashed: true))
                    arrows.append(Arrow(from: turn, to: requester, label: "\(answer) (relayed)", dashed: true))
                }
            } else {
                arrows.append(Arrow(from: client, to: server, label: "\(transaction.method.name) \(kind)", dashed: false))
                if let answer { arrows.append(Arrow(from: server, to: client, label: answer, dashed: true)) }
            }
            let timedOut = outcome == .timeout ? (arrows.first?.from ?? client, arrows.first?.to ?? server) : nil
            let key = arrows.map { "\($0.from)>\($0.to):\($0.label)" }.joined(separator: "|") + (timedOut == nil ? "" : "|timeout")
            if let index = groupIndex[key] {
                groups[index].count += 1
                continue
            }
            guard groups.count < Self.diagramGroups else {
                omitted += 1
                continue
            }
            groupIndex[key] = groups.count
            groups.append(Group(arrows: arrows, count: 1, first: reference(transaction.requestTime, transaction.vantage), timeout: timedOut))
            for arrow in arrows {
                used.insert(arrow.from)
                used.insert(arrow.to)
            }
        }
        // Lanes in call order: A, A's NAT, servers, B's NAT, B, then anything else.
        var participants: [(Lane, String)] = []
        func hosts(_ ips: [IPAddress]) -> String { ips.prefix(3).map(\.description).joined(separator: ", ") }
        let last = call.generations.last ?? []
        let agents = [
            call.controlling?.agent ?? last.first { lanes.sideOf[$0] == 0 },
            call.controlled?.agent ?? last.first { lanes.sideOf[$0] == 1 },
        ]
        for side in 0..<1 {
            participants.append((.agent(side), "A: agent \(agents[side] ?? "?") (\(hosts(lanes.hostIPs[side])))"))
            if !lanes.natIPs[side].isEmpty { participants.append((.nat(side), "NAT A (\(hosts(lanes.natIPs[side])))")) }
        }
        for (ip, role) in lanes.servers.sorted(by: { $0.key.description < $1.key.description }) where used.contains(.server(ip)) {
            participants.append((.server(ip), "\(role) \(ip)"))
        }
        if !lanes.natIPs[1].isEmpty { participants.append((.nat(1), "NAT B (\(hosts(lanes.natIPs[1])))")) }
        participants.append((.agent(1), "B: agent \(agents[1] ?? "?") (\(hosts(lanes.hostIPs[1])))"))
        var others: [IPAddress] = []
        for lane in used {
            if case .other(let ip) = lane, !others.contains(ip) { others.append(ip) }
        }
        for ip in others.sorted(by: { $0.description < $1.description }) { participants.append((.other(ip), ip.description)) }
        var ids: [Lane: String] = [:]
        for (index, participant) in participants.enumerated() {
            switch participant.0 {
            case .agent(let side): ids[participant.0] = side == 0 ? "A" : "B"
            case .nat(let side): ids[participant.0] = side == 0 ? "NA" : "NB"
            default: ids[participant.0] = "P\(index + 1)"
            }
        }
        let vantageList = call.vantages.map { "`\($0)`" }.joined(separator: ", ")
        var out = [
            "## Sequence", "",
            "Call `\(call.id)` drawn from \(call.vantages.count > 1 ? "every vantage point (\(vantageList))" : vantageList), each exchange once "
                + "(the copy seen nearest its sender); repeated exchanges are collapsed (×N); checks relayed through TURN "
                + "go through the TURN server.",
            "", "```mermaid", "sequenceDiagram",
        ]
        for (lane, label) in participants { out.append("    participant \(ids[lane] ?? "X") as \(mermaid(label))") }
        // Notes: what the NATs translated (first mapping per NAT and every change), and the call's milestones.
        struct Note {
            var time: CaptureTime
            var over: [Lane]
            var text: String
        }
        var notes: [Note] = []
        var mappingNotes = [0, 0]
        for mapping in result.natMappings.sorted(by: { $0.firstTime < $1.firstTime }) where mapping.translated {
            guard case .agent(let side) = lanes.laneOf[mapping.internalAddress.ip] ?? .other(mapping.internalAddress.ip),
                mappingNotes[side] < 2
            else { continue }
            mappingNotes[side] += 1
            let vantage = mapping.vantage.split(separator: "→").first.map(String.init) ?? mapping.vantage
            notes.append(
                Note(
                    time: reference(mapping.firstTime, vantage), over: [.agent(side), .nat(side)],
                    text: "NAT \(side == 0 ? "A" : "B") maps \(mapping.internalAddress) → \(mapping.externalAddress) (towards \(mapping.destination))"))
        }
        for change in result.mappingChanges {
            guard case .agent(let side) = lanes.laneOf[change.internalAddress.ip] ?? .other(change.internalAddress.ip) else { continue }
            notes.append(
                Note(
                    time: reference(change.time, change.vantage), over: [.agent(side), .nat(side)],
                    text: "NAT \(side == 0 ? "A" : "B") now maps \(change.internalAddress) → \(change.current) (was \(change.previous))"))
            break
        }
        var milestones: Set<TimelineKind> = []
        for event in result.timeline.events
        where [.iceConnected, .iceFailed, .dtlsConnected, .mediaStarted, .consentLost].contains(event.kind) && !milestones.contains(event.kind) {
            guard event.refs.contains(where: { call.sessions.contains($0) }) || event.kind == .dtlsConnected || event.kind == .mediaStarted
            else { continue }
            milestones.insert(event.kind)
            notes.append(Note(time: event.time, over: [.agent(0), .agent(1)], text: "\(event.kind.rawValue): \(event.summary)"))
        }
        if let a = call.controlling, let b = call.controlled, call.outcome == .connected {
            let text = "selected as the agents name it: \(a.type?.rawValue ?? "?") \(a.address) ↔ \(b.type?.rawValue ?? "?") \(b.address)"
            notes.append(Note(time: CaptureTime(nanoseconds: Int64.max), over: [.agent(0), .agent(1)], text: text))
        }
        notes.sort { $0.time < $1.time }
        var seenNotes: Set<String> = []
        notes.removeAll { !seenNotes.insert($0.text).inserted }  // one mapping seen by several pairs of vantage points
        func noteLine(_ note: Note) -> String? {
            let over = note.over.compactMap { ids[$0] }
            guard !over.isEmpty else { return nil }
            return "    Note over \(over.joined(separator: ",")): \(mermaid(note.text))"
        }
        var noteIndex = 0
        for group in groups {
            while noteIndex < notes.count, notes[noteIndex].time < group.first {
                if let line = noteLine(notes[noteIndex]) { out.append(line) }
                noteIndex += 1
            }
            for (index, arrow) in group.arrows.enumerated() {
                guard let from = ids[arrow.from], let to = ids[arrow.to] else { continue }
                let times = index == 0 && group.count > 1 ? " ×\(group.count)" : ""
                out.append("    \(from)\(arrow.dashed ? "-->>" : "->>")\(to): \(mermaid(arrow.label + times))")
            }
            if let (from, to) = group.timeout, let a = ids[from], let b = ids[to] {
                out.append("    Note over \(a == b ? a : "\(a),\(b)"): no answer")
            }
        }
        while noteIndex < notes.count {
            if let line = noteLine(notes[noteIndex]) { out.append(line) }
            noteIndex += 1
        }
        if omitted > 0 { out.append("    Note over A: \(omitted) more exchanges in the timeline") }
        out.append("```")
        out.append("")
        return out
    }

    private func isAgent(_ lane: Lane) -> Bool {
        if case .agent = lane { return true }
        return false
    }
}
