import WeDioBasics
import WeDioSTUN

/// Learns NAT mappings from one vantage point's STUN traffic: the mapped address of every answered
/// Binding or Allocate against the address the request left from, RFC 5780 / RFC 3489 discovery
/// exchanges, and requests that arrived unsolicited. Every table is capped (`Limits.nat*`).
public struct NATTracker: Sendable {
    private struct MappingKey: Hashable, Sendable {
        var internalAddress: TransportAddress
        var destination: TransportAddress
        var transport: Transport

        func _rawHashValue(seed: Int) -> Int {
            FiveTuple(source: internalAddress, destination: destination, transport: transport)._rawHashValue(seed: seed)
        }
    }

    private struct Contact: Hashable, Sendable {
        var local: TransportAddress
        var remote: TransportAddress
    }

    /// "local sent to this IP" as a flow to port 0 of it (FlowCache keys are direction-independent; the
    /// reverse, remote IP's port 0 → local, is never inserted).
    static func ipContact(from local: TransportAddress, to remote: IPAddress, transport: Transport) -> FiveTuple {
        FiveTuple(source: local, destination: TransportAddress(ip: remote, port: 0), transport: transport)
    }

    /// Discovery exchanges by transaction id (at most `Limits.natEvents`).
    private var exchangeByID: [TransactionID: Int] = [:]
    private var mappingIndex: [MappingKey: Int] = [:]
    public private(set) var mappings: [NATMapping] = []
    public private(set) var changes: [MappingChange] = []
    /// Every mapping change seen, the ones past the list's cap included, and the latest: the live stream
    /// reports each one even when the list is full.
    public private(set) var changesSeen = 0
    public private(set) var latestChange: MappingChange?
    public private(set) var exchanges: [DiscoveryExchange] = []
    public private(set) var unsolicited: [UnsolicitedRequest] = []
    private var unsolicitedSeen: Set<Contact> = []
    /// The mapped address answered to each request, by transaction id: it tells which of two vantage
    /// points is outside a NAT.
    public private(set) var mappedByTransaction: [TransactionID: TransportAddress] = [:]
    /// Off when no other vantage point will be correlated with this one (`Analyzer.Options`).
    var keepsMappedTransactions = true
    /// Who talked to whom, in fixed memory (FlowCache: sets of four, the oldest replaced): a forgotten
    /// contact can only make a request look unsolicited, which the evidence text states as an inference.
    /// Each contact's value: its mappings' places in `mappings` (plus one; 0 unknown), one per direction (the
    /// low half for the request from the lower address): an answer finds its mapping in the cache line it
    /// touched already, instead of hashing the mapping's key into `mappingIndex` (a cache miss for every
    /// answer on a server's capture).
    private var contacts = FlowCache(capacity: Limits.natContacts, values: true)
    private var ipContacts = FlowCache(capacity: Limits.natContacts)
    /// Observations the caps dropped.
    public private(set) var dropped = 0

    public init() {}

    /// Forgets mappings not seen since `cutoff`, and the evidence (changes, exchanges, unsolicited requests)
    /// from before it (a long live capture); returns how many mappings.
    public mutating func evict(idleBefore cutoff: CaptureTime) -> Int {
        let before = mappings.count
        mappings.removeAll { $0.lastTime < cutoff }
        mappingIndex.removeAll(keepingCapacity: true)
        for (index, mapping) in mappings.enumerated() {
            mappingIndex[
                MappingKey(internalAddress: mapping.internalAddress, destination: mapping.destination, transport: mapping.transport)
            ] = index
        }
        changes.removeAll { $0.time < cutoff }
        exchanges.removeAll { $0.time < cutoff }
        unsolicited.removeAll { $0.time < cutoff }
        exchangeByID.removeAll(keepingCapacity: true)
        for (index, exchange) in exchanges.enumerated() { exchangeByID[exchange.id] = index }
        if mappedByTransaction.count > Limits.natMappedTransactions / 2 { mappedByTransaction.removeAll(keepingCapacity: true) }
        return before - mappings.count
    }

    /// A flow's keys in the two contact sets, worked out once for the prefetch and the look-up after it (each
    /// key took 75 instructions; four a message on a server's capture).
    public struct ContactKeys: Sendable, BitwiseCopyable {
        let contact: UInt64
        let ipContact: UInt64

        public init(_ flow: FiveTuple) {
            contact = FlowCache.key(flow)
            ipContact = FlowCache.key(NATTracker.ipContact(from: flow.source, to: flow.destination.ip, transport: flow.transport))
        }
    }

    /// Starts bringing the flow's contact sets into cache, a few messages ahead of `handle`.
    func prefetch(_ keys: ContactKeys) {
        contacts.prefetch(key: keys.contact)
        ipContacts.prefetch(key: keys.ipContact)
    }

    /// `request`: for a response, the transaction it answers as the transaction tracker matched it. `keys`:
    /// the flow's, when the caller has them already.
    public mutating func handle(
        _ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef, purpose: RequestPurpose? = nil,
        request: AnsweredRequest? = nil, keys: ContactKeys? = nil
    ) {
        let keys = keys ?? ContactKeys(flow)
        // One look-up answers "seen before?" and remembers the contact.
        let (known, place) = contacts.insertPlacing(key: keys.contact)
        if message.messageClass == .request, !known { noteInbound(flow: flow, time: time, ref: ref) }
        ipContacts.insert(key: keys.ipContact)
        switch message.messageClass {
        case .request:
            self.request(message, flow: flow, time: time, ref: ref, purpose: purpose ?? RequestPurpose(message))
        case .successResponse, .errorResponse:
            response(message, flow: flow, time: time, ref: ref, request: request, contactPlace: place)
        case .indication:
            break
        }
    }

    /// A request on a flow not seen before.
    private mutating func noteInbound(flow: FiveTuple, time: CaptureTime, ref: PacketRef) {
        guard unsolicited.count < Limits.natEvents else {
            dropped += 1
            return
        }
        // Only the first unsolicited request per remote → local is kept (retransmissions say nothing new).
        guard unsolicitedSeen.insert(Contact(local: flow.destination, remote: flow.source)).inserted else { return }
        unsolicited.append(
            UnsolicitedRequest(
                remote: flow.source, local: flow.destination,
                remoteIPContacted: ipContacts.contains(
                    Self.ipContact(from: flow.destination, to: flow.source.ip, transport: flow.transport)),
                time: time, ref: ref))
    }

    private mutating func request(
        _ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef, purpose: RequestPurpose
    ) {
        // RFC 5780 / 3489 discovery: each Binding to a STUN server is an exchange (the answer's mapped,
        // origin and other addresses are filled in when it comes).
        guard purpose == .stunServer else { return }
        guard exchanges.count < Limits.natEvents else {
            dropped += 1
            return
        }
        guard exchangeByID[message.transactionID] == nil else { return }  // a retransmission
        var record = DiscoveryExchange(
            id: message.transactionID, client: flow.source, server: flow.destination, transport: flow.transport,
            time: time, ref: ref)
        if case .changeRequest(let changeIP, let changePort) = message.value(.changeRequest) {
            record.changeIP = changeIP
            record.changePort = changePort
        }
        exchangeByID[message.transactionID] = exchanges.count
        exchanges.append(record)
    }

    /// `request` is the transaction the response answers (the transaction tracker matched it), nil for
    /// an orphan or a repeated answer.
    private mutating func response(
        _ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef, request: AnsweredRequest?,
        contactPlace: Int
    ) {
        guard let request, request.carrier == .direct else { return }
        let source: MappingSource
        switch request.purpose {
        case .iceCheck: source = .iceCheck
        case .stunServer: source = .stunServer
        case .turnAllocation: source = .turnAllocation
        case .other: return
        }
        let mapped = Self.mappedAddress(message)
        if source == .stunServer, let index = exchangeByID[message.transactionID], !exchanges[index].answered {
            exchanges[index].answered = true
            if case .errorCode(let code, _) = message.value(.errorCode) { exchanges[index].errorCode = code }
            exchanges[index].mapped = mapped
            exchanges[index].responseOrigin = Self.address(message.value(.responseOrigin) ?? message.value(.sourceAddress)) ?? flow.source
            exchanges[index].otherAddress = Self.address(message.value(.otherAddress) ?? message.value(.changedAddress))
        }
        guard message.messageClass == .successResponse, let mapped else { return }
        if keepsMappedTransactions, mappedByTransaction.count < Limits.natMappedTransactions {
            mappedByTransaction[message.transactionID] = mapped
        }
        // The contact's place holds this mapping's only when the answer came back on the request's flow.
        let sameFlow = flow.source == request.server && flow.destination == request.client && flow.transport == request.transport
        record(
            NATMapping(
                internalAddress: request.client, externalAddress: mapped, destination: request.server,
                transport: request.transport, source: source, firstTime: time, lastTime: time, firstRef: ref),
            contactPlace: sameFlow ? contactPlace : nil)
    }

    /// The mapping's place as the contact remembers it, if it still holds that mapping.
    /// (Mutating, though it changes nothing: called from `record`, a non-mutating call copied the whole
    /// tracker, 336 bytes, for every answer.)
    private mutating func remembered(_ key: MappingKey, contactPlace: Int?, shift: UInt64) -> Int? {
        guard let contactPlace else { return nil }
        let stored = Int(truncatingIfNeeded: (contacts.value(at: contactPlace) >> shift) & 0xFFFF_FFFF) - 1
        guard mappings.indices.contains(stored), mappings[stored].internalAddress == key.internalAddress,
            mappings[stored].destination == key.destination, mappings[stored].transport == key.transport
        else { return nil }
        return stored
    }

    private mutating func remember(_ index: Int, contactPlace: Int?, shift: UInt64) {
        guard let contactPlace, index < Int(UInt32.max) else { return }
        let other = contacts.value(at: contactPlace) & ~(0xFFFF_FFFF << shift)
        contacts.setValue(other | UInt64(index + 1) << shift, at: contactPlace)
    }

    private mutating func record(_ mapping: NATMapping, contactPlace: Int? = nil) {
        let key = MappingKey(
            internalAddress: mapping.internalAddress, destination: mapping.destination, transport: mapping.transport)
        let shift: UInt64 = mapping.internalAddress < mapping.destination ? 0 : 32
        var found = remembered(key, contactPlace: contactPlace, shift: shift)
        if found == nil, let index = mappingIndex[key] {
            found = index
            remember(index, contactPlace: contactPlace, shift: shift)
        }
        if let index = found {
            // Compared in place: the mapping is copied out only when it changed (a copy per answer was a
            // twentieth of the NAT tracker's time on a server's capture).
            if mappings[index].externalAddress != mapping.externalAddress {
                let previous = mappings[index]
                let change = MappingChange(
                    internalAddress: mapping.internalAddress, destination: mapping.destination,
                    previous: previous.externalAddress, current: mapping.externalAddress, time: mapping.firstTime,
                    ref: mapping.firstRef)
                changesSeen += 1
                latestChange = change
                if changes.count < Limits.natEvents {
                    changes.append(change)
                } else {
                    dropped += 1
                }
                var replaced = mapping
                replaced.observations = previous.observations + 1
                mappings[index] = replaced
                return
            }
            mappings[index].lastTime = max(mappings[index].lastTime, mapping.lastTime)
            mappings[index].observations += 1
            return
        }
        guard mappings.count < Limits.natMappings else {
            dropped += 1
            return
        }
        mappingIndex[key] = mappings.count
        remember(mappings.count, contactPlace: contactPlace, shift: shift)
        mappings.append(mapping)
    }

    static func mappedAddress(_ message: STUNMessage) -> TransportAddress? {
        address(message.value(.xorMappedAddress) ?? message.value(.msXORMappedAddress) ?? message.value(.mappedAddress))
    }

    static func address(_ value: AttributeValue?) -> TransportAddress? {
        switch value {
        case .address(let address), .xorAddress(let address): address
        default: nil
        }
    }
}
