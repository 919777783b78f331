import WeDioBasics
import WeDioSTUN

/// RFC 4787 §4.1 mapping behaviour.
public enum MappingBehaviour: String, Sendable, Hashable {
    case endpointIndependent = "endpoint-independent"
    case addressDependent = "address-dependent"
    case addressAndPortDependent = "address-and-port-dependent"
    /// The same internal address was mapped differently for different destination IPs, and no pair of
    /// destinations on one IP tells address-dependent from address-and-port-dependent.
    case endpointDependent = "endpoint-dependent"
}

/// RFC 4787 §5 filtering behaviour.
public enum FilteringBehaviour: String, Sendable, Hashable {
    case endpointIndependent = "endpoint-independent"
    case addressDependent = "address-dependent"
    case addressAndPortDependent = "address-and-port-dependent"
    /// Unsolicited traffic was dropped; the data do not tell address-dependent from address-and-port-dependent.
    case endpointDependent = "endpoint-dependent"
}

/// What the data show about one NAT (one external IP seen from one vantage point), each conclusion with
/// the evidence it rests on.
public struct NATBehaviour: Sendable, Hashable {
    public var vantage: String
    public var externalIP: IPAddress
    public var transport: Transport
    public var internalAddresses: [TransportAddress]
    public var mappings: Int
    public var mapping: MappingBehaviour?
    public var mappingEvidence: [String] = []
    public var filtering: FilteringBehaviour?
    public var filteringEvidence: [String] = []
    /// True when every mapping kept the internal port, false when none did; nil when mixed or unknown.
    public var portPreservation: Bool?
    /// "preserved", "sequential" or "random", from the external ports handed out (three or more needed).
    public var portAllocation: String?
    /// Seen a request from inside to the NAT's own external address: answered (true) or not (false).
    public var hairpinning: Bool?
    /// True when RFC 5780 discovery exchanges (CHANGE-REQUEST, OTHER-ADDRESS) contributed.
    public var fromRFC5780 = false

    /// The RFC 3489 name a reader may know (with RFC 4787's caveat that these classes are imprecise).
    public var classicName: String? {
        switch (mapping, filtering) {
        case (.endpointIndependent?, .endpointIndependent?): "full cone"
        case (.endpointIndependent?, .addressDependent?): "restricted cone"
        case (.endpointIndependent?, .addressAndPortDependent?): "port-restricted cone"
        case (.addressAndPortDependent?, _), (.addressDependent?, _), (.endpointDependent?, _): "symmetric"
        default: nil
        }
    }
}

/// Derives NAT behaviour from one vantage point's observations (RFC 4787 terms; RFC 5780 §4.3–4.4 tests
/// read as they prescribe). Only translated mappings count: a vantage point outside every NAT sees none.
public enum NATBehaviourAnalysis {
    public static func classify(
        mappings: [NATMapping], exchanges: [DiscoveryExchange], unsolicited: [UnsolicitedRequest], vantage: String
    ) -> [NATBehaviour] {
        struct NATKey: Hashable {
            var ip: IPAddress
            var transport: Transport
        }
        var groups: [NATKey: [NATMapping]] = [:]
        var order: [NATKey] = []
        for mapping in mappings where mapping.translated {
            let key = NATKey(ip: mapping.externalAddress.ip, transport: mapping.transport)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(mapping)
        }
        // Each internal address → the NATs it was seen behind, so exchanges, unsolicited requests and
        // hairpin candidates are each looked at once (thousands of NATs in a big capture).
        var natsOf: [TransportAddress: [Int]] = [:]
        for (index, key) in order.enumerated() {
            for internalAddress in Set((groups[key] ?? []).map(\.internalAddress)) { natsOf[internalAddress, default: []].append(index) }
        }
        var exchangesOf = [[DiscoveryExchange]](repeating: [], count: order.count)
        for exchange in exchanges {
            for index in natsOf[exchange.client] ?? [] { exchangesOf[index].append(exchange) }
        }
        var unsolicitedOf = [[UnsolicitedRequest]](repeating: [], count: order.count)
        for request in unsolicited {
            for index in natsOf[request.local] ?? [] { unsolicitedOf[index].append(request) }
        }
        var mappedHairpin = [Bool](repeating: false, count: order.count)
        for mapping in mappings {
            for index in natsOf[mapping.internalAddress] ?? [] where mapping.destination.ip == order[index].ip {
                mappedHairpin[index] = true
            }
        }
        return order.enumerated().map { index, key in
            let group = groups[key] ?? []
            var behaviour = NATBehaviour(
                vantage: vantage, externalIP: key.ip, transport: key.transport,
                internalAddresses: Array(Set(group.map(\.internalAddress))).sorted(), mappings: group.count)
            classifyMapping(group, into: &behaviour)
            classifyPorts(group, into: &behaviour)
            classifyFiltering(exchanges: exchangesOf[index], unsolicited: unsolicitedOf[index], into: &behaviour)
            // Hairpinning: an inside host sending to the NAT's own external address (RFC 4787 §6).
            let hairpin = exchangesOf[index].filter { $0.server.ip == key.ip }
            if !hairpin.isEmpty { behaviour.hairpinning = hairpin.contains { $0.answered } }
            if mappedHairpin[index] { behaviour.hairpinning = true }
            return behaviour
        }
    }

    /// RFC 4787 §4.1: compare the external addresses one internal address got for different destinations.
    static func classifyMapping(_ group: [NATMapping], into behaviour: inout NATBehaviour) {
        var sameForOtherIP: (NATMapping, NATMapping)?
        var differentForOtherIP: (NATMapping, NATMapping)?
        var sameForOtherPort: (NATMapping, NATMapping)?
        var differentForOtherPort: (NATMapping, NATMapping)?
        let byInternal = Dictionary(grouping: group, by: \.internalAddress)
        for internalAddress in byInternal.keys.sorted() {
            let list = byInternal[internalAddress] ?? []
            // A rebinding (the same destination, a new external address later) starts a new epoch: mappings from
            // before it are not compared with mappings after it, or a NAT that merely forgot a mapping would
            // read as endpoint-dependent.
            var rebindings: [CaptureTime] = []
            let byDestination = Dictionary(grouping: list, by: \.destination)
            for (_, mappings) in byDestination where Set(mappings.map(\.externalAddress)).count > 1 {
                let ordered = mappings.sorted { $0.firstTime < $1.firstTime }
                for (earlier, later) in zip(ordered, ordered.dropFirst()) where earlier.externalAddress != later.externalAddress {
                    rebindings.append(later.firstTime)
                }
            }
            func epoch(_ mapping: NATMapping) -> Int { rebindings.filter { $0 <= mapping.firstTime }.count }
            for (index, first) in list.enumerated() {
                for second in list.dropFirst(index + 1) where first.destination != second.destination && epoch(first) == epoch(second) {
                    let same = first.externalAddress == second.externalAddress
                    if first.destination.ip != second.destination.ip {
                        if same { sameForOtherIP = sameForOtherIP ?? (first, second) } else {
                            differentForOtherIP = differentForOtherIP ?? (first, second)
                        }
                    } else {
                        if same { sameForOtherPort = sameForOtherPort ?? (first, second) } else {
                            differentForOtherPort = differentForOtherPort ?? (first, second)
                        }
                    }
                }
            }
        }
        func describe(_ pair: (NATMapping, NATMapping)) -> String {
            "\(pair.0.internalAddress) → \(pair.0.destination) mapped to \(pair.0.externalAddress) (\(pair.0.source.rawValue)), "
                + "→ \(pair.1.destination) mapped to \(pair.1.externalAddress) (\(pair.1.source.rawValue))"
        }
        if let pair = differentForOtherPort {
            behaviour.mapping = .addressAndPortDependent
            behaviour.mappingEvidence.append(describe(pair))
        } else if let pair = differentForOtherIP {
            if let samePort = sameForOtherPort {
                behaviour.mapping = .addressDependent
                behaviour.mappingEvidence.append(describe(pair))
                behaviour.mappingEvidence.append(describe(samePort))
            } else {
                behaviour.mapping = .endpointDependent
                behaviour.mappingEvidence.append(describe(pair))
            }
        } else if let pair = sameForOtherIP {
            behaviour.mapping = .endpointIndependent
            behaviour.mappingEvidence.append(describe(pair))
        } else if let pair = sameForOtherPort {
            // Same IP, other port, same mapping: not port-dependent; whether it depends on the IP is unseen.
            behaviour.mappingEvidence.append(describe(pair) + " (only one destination IP seen)")
        }
    }

    static func classifyPorts(_ group: [NATMapping], into behaviour: inout NATBehaviour) {
        let preserved = group.filter { $0.internalAddress.port == $0.externalAddress.port }.count
        if preserved == group.count {
            behaviour.portPreservation = true
        } else if preserved == 0 {
            behaviour.portPreservation = false
        }
        var ports: [UInt16] = []
        for mapping in group.sorted(by: { $0.firstTime < $1.firstTime }) where !ports.contains(mapping.externalAddress.port) {
            ports.append(mapping.externalAddress.port)
        }
        if behaviour.portPreservation == true {
            behaviour.portAllocation = "preserved"
        } else if ports.count >= 3 {
            let steps = zip(ports, ports.dropFirst()).map { abs(Int($1) - Int($0)) }
            behaviour.portAllocation = steps.allSatisfy { $0 <= 16 } ? "sequential" : "random"
        }
    }

    /// RFC 5780 §4.4 first (a CHANGE-REQUEST answered from the other IP and port means endpoint-independent
    /// filtering; only the port change answered, address-dependent; neither, address-and-port-dependent),
    /// then requests that reached an inside address unsolicited (the NAT let them in).
    static func classifyFiltering(
        exchanges: [DiscoveryExchange], unsolicited: [UnsolicitedRequest], into behaviour: inout NATBehaviour
    ) {
        let changes = exchanges.filter(\.asksForChange)
        let primaryAnswered = exchanges.contains { !$0.asksForChange && $0.answered && $0.errorCode == nil }
        if !changes.isEmpty && primaryAnswered {
            behaviour.fromRFC5780 = true
            let both = changes.filter { $0.changeIP && $0.changePort }
            let portOnly = changes.filter { !$0.changeIP && $0.changePort }
            func answeredFromElsewhere(_ exchange: DiscoveryExchange) -> Bool {
                exchange.answered && exchange.errorCode == nil && exchange.responseOrigin != exchange.server
            }
            if let answered = both.first(where: answeredFromElsewhere) {
                behaviour.filtering = .endpointIndependent
                behaviour.filteringEvidence.append(
                    "RFC 5780 test II: \(answered.client) asked \(answered.server) to answer from its other IP and port; "
                        + "the answer from \(answered.responseOrigin.map(String.init(describing:)) ?? "?") got through")
            } else if !both.isEmpty, let answered = portOnly.first(where: answeredFromElsewhere) {
                behaviour.filtering = .addressDependent
                behaviour.filteringEvidence.append(
                    "RFC 5780 tests II and III: the answer from another IP never arrived; the answer from "
                        + "\(answered.responseOrigin.map(String.init(describing:)) ?? "?") (same IP, other port) got through")
            } else if !both.isEmpty, !portOnly.isEmpty {
                behaviour.filtering = .addressAndPortDependent
                let ids = (both + portOnly).map { $0.id.description }.joined(separator: ", ")
                behaviour.filteringEvidence.append(
                    "RFC 5780 tests II and III: neither the answer from another IP nor from another port arrived "
                        + "(transactions \(ids))")
            }
        }
        guard behaviour.filtering == nil, let first = unsolicited.first(where: { !$0.remoteIPContacted }) else {
            if behaviour.filtering == nil, let first = unsolicited.first {
                behaviour.filtering = nil
                behaviour.filteringEvidence.append(
                    "a request from \(first.remote) reached \(first.local) before it sent to that port (it had sent to "
                        + "the IP): not address-and-port-dependent filtering (\(first.ref))")
            }
            return
        }
        behaviour.filtering = .endpointIndependent
        behaviour.filteringEvidence.append(
            "a request from \(first.remote) reached \(first.local) before it had sent anything to \(first.remote.ip): "
                + "the NAT let unsolicited traffic in (\(first.ref))")
    }

    /// Requests seen outside the NAT and never inside (`VantageCorrelation`): unsolicited traffic dropped.
    /// One from an IP the inside host had sent to (on another port) means address-and-port-dependent.
    public static func classifyFiltering(dropped: [DroppedRequest], into behaviour: inout NATBehaviour) {
        let mine = dropped.filter { $0.flow.destination.ip == behaviour.externalIP && $0.flow.transport == behaviour.transport }
        guard let first = mine.first, behaviour.filtering == nil else { return }
        if let otherPort = mine.first(where: { $0.requesterIPContacted && !$0.requesterContacted }) {
            behaviour.filtering = .addressAndPortDependent
            behaviour.filteringEvidence.append(
                "a request from \(otherPort.flow.source) to \(otherPort.flow.destination) was dropped although the inside "
                    + "host had sent to \(otherPort.flow.source.ip) on another port (\(otherPort.ref))")
        } else if let contacted = mine.first(where: \.requesterContacted) {
            behaviour.filtering = .addressAndPortDependent
            behaviour.filteringEvidence.append(
                "a request from \(contacted.flow.source) was dropped although the inside host had sent to it through "
                    + "another mapping (\(contacted.ref))")
        } else {
            behaviour.filtering = .endpointDependent
            behaviour.filteringEvidence.append(
                "\(mine.count) requests reached \(first.flow.destination) from addresses the inside host had not sent to "
                    + "and were dropped (first \(first.ref))")
        }
    }
}
