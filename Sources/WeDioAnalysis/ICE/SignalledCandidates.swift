import WeDioBasics

/// A candidate as the offer or answer signalled it (RFC 8839 `a=candidate:` lines): what the agent said,
/// to set beside what the wire showed.
public struct SignalledCandidate: Sendable, Hashable {
    public var ufrag: String?
    public var foundation: String
    public var component: Int
    public var transport: Transport
    public var priority: UInt32
    public var address: TransportAddress
    public var type: CandidateType
    public var related: TransportAddress?
}

public enum SDPCandidates {
    /// Every `a=candidate` line with an IP address (mDNS `.local` names cannot be matched to the wire and
    /// are skipped), each with the ufrag of its media section (or the session's).
    public static func parse(_ text: String) -> [SignalledCandidate] {
        var result: [SignalledCandidate] = []
        var sessionUfrag: String?
        var sectionUfrag: String?
        var pending: [SignalledCandidate] = []
        func flush() {
            for var candidate in pending {
                candidate.ufrag = sectionUfrag ?? sessionUfrag
                result.append(candidate)
            }
            pending = []
        }
        var inMedia = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = Substring(rawLine.drop { $0 == " " || $0 == "\t" })
            while let last = line.last, last == " " || last == "\t" || last == "\r" { line.removeLast() }
            if line.hasPrefix("m=") {
                flush()
                inMedia = true
                sectionUfrag = nil
            } else if line.hasPrefix("a=ice-ufrag:") {
                let ufrag = String(line.dropFirst("a=ice-ufrag:".count))
                if inMedia { sectionUfrag = ufrag } else { sessionUfrag = ufrag }
            } else if line.hasPrefix("a=candidate:") || line.hasPrefix("candidate:") {
                if let candidate = candidate(String(line.drop { $0 != ":" }.dropFirst())) { pending.append(candidate) }
            }
        }
        flush()
        return result
    }

    /// "foundation component transport priority address port typ type [raddr a rport p] …".
    static func candidate(_ text: String) -> SignalledCandidate? {
        let fields = text.split(separator: " ").map(String.init)
        guard fields.count >= 8, fields[6] == "typ", let component = Int(fields[1]), let priority = UInt32(fields[3]),
            let ip = IPAddress(fields[4]), let port = UInt16(fields[5])
        else { return nil }
        let transport: Transport
        switch fields[2].lowercased() {
        case "udp": transport = .udp
        case "tcp": transport = .tcp
        default: return nil
        }
        let type: CandidateType
        switch fields[7] {
        case "host": type = .host
        case "srflx": type = .srflx
        case "prflx": type = .prflx
        case "relay": type = .relay
        default: return nil
        }
        var related: TransportAddress?
        if let raddr = fields.firstIndex(of: "raddr"), let rport = fields.firstIndex(of: "rport"),
            fields.indices.contains(raddr + 1), fields.indices.contains(rport + 1),
            let relatedIP = IPAddress(fields[raddr + 1]), let relatedPort = UInt16(fields[rport + 1])
        {
            related = TransportAddress(ip: relatedIP, port: relatedPort)
        }
        return SignalledCandidate(
            foundation: fields[0], component: component, transport: transport, priority: priority,
            address: TransportAddress(ip: ip, port: port), type: type, related: related)
    }

    /// Sets each wire candidate's signalled type and priority where an SDP candidate has its address.
    public static func annotate(_ sessions: inout [ICESession], with signalled: [SignalledCandidate]) {
        guard !signalled.isEmpty else { return }
        struct Key: Hashable {
            var address: TransportAddress
            var transport: Transport
        }
        var byAddress: [Key: SignalledCandidate] = [:]
        for candidate in signalled where byAddress[Key(address: candidate.address, transport: candidate.transport)] == nil {
            byAddress[Key(address: candidate.address, transport: candidate.transport)] = candidate
        }
        for session in sessions.indices {
            for index in sessions[session].candidates.indices {
                let wire = sessions[session].candidates[index]
                guard let match = byAddress[Key(address: wire.address, transport: wire.transport)] else { continue }
                sessions[session].candidates[index].signalledType = match.type
                sessions[session].candidates[index].signalledPriority = match.priority
                // The agent said what the address is: that is the type it reports (getStats(), the peer's view).
                // A peer-reflexive guess never outranks it, nor a host guess for a signalled server-reflexive
                // address; what the wire proves (a relayed address from an Allocate) is kept.
                if match.type != wire.type, wire.type != .relay {
                    sessions[session].candidates[index].type = match.type
                    sessions[session].candidates[index].evidence.insert(
                        "signalled as \(match.type.rawValue) in the SDP (the wire alone suggested \(wire.type.rawValue))", at: 0)
                }
            }
            retypePairs(&sessions[session])
        }
    }

    /// Sets each pair's end types from its candidates (after their types changed).
    static func retypePairs(_ session: inout ICESession) {
        var typeAt: [TransportAddress: CandidateType] = [:]
        for candidate in session.candidates where typeAt[candidate.address] == nil { typeAt[candidate.address] = candidate.type }
        for index in session.pairs.indices {
            if let type = typeAt[session.pairs[index].localNamed] { session.pairs[index].localType = type }
            if let type = typeAt[session.pairs[index].remoteNamed] { session.pairs[index].remoteType = type }
        }
        if let selected = session.selectedPair {
            if let type = typeAt[selected.localNamed] { session.selectedPair?.localType = type }
            if let type = typeAt[selected.remoteNamed] { session.selectedPair?.remoteType = type }
        }
    }
}
