import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// Folds classified payloads into counts and decoded messages. Later issues add the transaction, ICE,
/// TURN and NAT trackers here; this layer never touches libpcap.
public struct Analyzer: Sendable {
    public struct Options: Sendable {
        /// Keep every decoded STUN message (for `--messages`); otherwise only counts are kept.
        public var keepMessages: Bool
        public var credentials: CredentialStore
        /// Candidates from the offer/answer (`--sdp`), set beside the wire's.
        public var signalledCandidates: [SignalledCandidate] = []
        /// What browsers said about their ICE (`--webrtc-internals`), set beside the wire's calls.
        public var browserViews: [BrowserView] = []
        /// Payload types the offer/answer mapped (`--sdp`, webrtc-internals dumps): codecs and clock rates of
        /// RTP streams.
        public var signalledCodecs: [SignalledCodec] = []
        /// Whether other vantage points will be correlated with this one (the NAT tracker then keeps each
        /// transaction's mapped address); `Pipeline` turns it off for a single vantage point.
        public var correlatesVantagePoints = true
        /// How many messages `keepMessages` keeps (the first ones); the rest are counted.
        public var messagesKept = Limits.messagesKept

        public init(keepMessages: Bool = false, credentials: CredentialStore = CredentialStore()) {
            self.keepMessages = keepMessages
            self.credentials = credentials
        }
    }

    public let options: Options
    public private(set) var statistics = Statistics()
    public private(set) var messages: [MessageRecord] = []
    /// Messages not kept for `--messages` beyond `Limits.messagesKept`.
    public private(set) var messagesDropped = 0
    public private(set) var transactions = TransactionTracker()
    public private(set) var ice = ICETracker()
    public private(set) var turn = TURNTracker()
    public private(set) var media = MediaTable()
    public private(set) var nat = NATTracker()
    public private(set) var encryptedTURN = EncryptedTURNTable()
    public private(set) var icmpErrors = ICMPErrorTable()
    /// Events derived as messages arrive, for a live stream; nil unless `followLive` turned it on.
    public private(set) var liveFeed: LiveEventFeed?
    /// The latest capture time seen, to close open transactions at the end.
    public private(set) var lastTime: CaptureTime?
    /// Messages per wire message type (method and class), direct and relayed. Integer keys: this is
    /// updated for every message, and building a "Binding request" string each time cost more than decoding.
    /// Indexed by the 14-bit type; allocated at the first STUN message.
    private var typeCounts: [Int] = []

    /// Messages per "Method class" (e.g. "Binding request").
    public var methodCounts: [String: Int] {
        var named: [String: Int] = [:]
        for (type, count) in typeCounts.enumerated() where count > 0 {
            let (method, messageClass) = MessageType.split(UInt16(truncatingIfNeeded: type))
            named["\(method) \(messageClass)", default: 0] += count
        }
        return named
    }
    /// Keys used by requests, so their responses can be verified (responses carry no USERNAME).
    private var requestKeys: [TransactionID: STUNKey] = [:]
    /// The message this thread decoded last, whose storage the next one is decoded into.
    private var scratch = DecodedSTUN.placeholder
    private var requestKeyOrder: [TransactionID] = []

    public init(options: Options = Options()) {
        self.options = options
        nat.keepsMappedTransactions = options.correlatesVantagePoints
        for codec in options.signalledCodecs where media.codecs[codec.payloadType] == nil {
            media.codecs[codec.payloadType] = codec
        }
    }

    /// Derives timeline events as messages arrive (a live capture's NDJSON stream); `drainLiveEvents` takes them.
    public mutating func followLive(vantage: String) {
        liveFeed = LiveEventFeed(vantage: vantage)
    }

    /// The live events produced since the last call, requests that ran out of time by `now` (wall clock,
    /// so that a quiet capture still reports them) included.
    public mutating func drainLiveEvents(now: CaptureTime? = nil) -> [TimelineEvent] {
        if let now { liveFeed?.expire(now: now) }
        liveFeed?.natChanges(nat)
        return liveFeed?.drain() ?? []
    }

    /// What `evict` forgot so far, per kind.
    public private(set) var evicted = Evicted()

    public struct Evicted: Sendable, Hashable {
        public var transactions = 0
        public var iceSessions = 0
        public var turnAllocations = 0
        public var natMappings = 0
        public var mediaFlows = 0
    }

    /// Forgets what was over before `cutoff` (a live capture left running for hours): finished
    /// transactions, ICE sessions without checks since, allocations deleted or expired, mappings and media
    /// flows idle since. Counters and tallies keep counting; only the objects go.
    /// `idleCutoff` applies to what has no end of its own (sessions, mappings, flows): idle since then is over.
    public mutating func evict(before cutoff: CaptureTime, idleBefore idleCutoff: CaptureTime) {
        evicted.transactions += transactions.evict(before: cutoff)
        evicted.iceSessions += ice.evict(idleBefore: idleCutoff)
        evicted.turnAllocations += turn.evict(endedBefore: cutoff)
        evicted.natMappings += nat.evict(idleBefore: idleCutoff)
        evicted.mediaFlows += media.evict(idleBefore: idleCutoff)
    }

    /// At the end of a live capture: the requests still open are reported as unanswered.
    public mutating func finishLiveEvents() -> [TimelineEvent] {
        liveFeed?.finish(at: lastTime ?? CaptureTime(nanoseconds: 0))
        return drainLiveEvents()
    }

    /// How many of a payload's bytes `handle` reads, by kind: the rest only counts by length. A reader
    /// thread handing payloads to an analysing thread copies only these (see `handle(_:bytes:length:log:)`).
    @inlinable  // asked by the reading thread for every payload
    public static func bytesNeeded(_ kind: PayloadKind, count: Int, first: UInt8? = nil) -> Int {
        switch kind {
        case .rtp: min(count, 12)  // payload type, sequence number, SSRC
        case .tls: first == 22 ? min(count, 4_096) : 0  // a handshake record: the ClientHello's ALPN and SNI
        case .rtcp: min(count, 8)  // the first packet's sender SSRC (in clear under SRTCP)
        case .zrtp, .turnTCPData, .unknown: 0
        case .icmpError: min(count, 20)  // the quoted STUN header
        case .stun, .classicSTUN, .channelData, .dtls: count
        }
    }

    /// Handles one classified payload; `log` receives per-packet problems.
    public mutating func handle(_ payload: ClassifiedPayload, bytes: borrowing Span<UInt8>, log: inout DiagnosticLog) {
        handle(payload, bytes: bytes, length: bytes.count, log: &log)
    }

    /// Handles a STUN payload a reading thread decoded already (decoding needs no state). The message is
    /// borrowed: copying it retained and released its arrays, a tenth of the analysing thread's time on a
    /// server's capture.
    /// `contactKeys`: the flow's NAT contact keys as `prefetchSTUN` returned them.
    public mutating func handle(
        _ payload: ClassifiedPayload, bytes: borrowing Span<UInt8>, decoded: borrowing DecodedSTUN,
        contactKeys: NATTracker.ContactKeys? = nil, log: inout DiagnosticLog
    ) {
        advanceClock(to: payload.time)
        countSTUN(payload.kind)
        analyse(decoded, payload, bytes: bytes, carrier: .direct, effectiveFlow: nil, contactKeys: contactKeys, log: &log)
    }

    /// Starts bringing into cache the state `handle` will look up for a STUN message a few places ahead in a
    /// batch, from the flow and the message's header: the look-ups then find their lines there instead of
    /// waiting on memory one after another (on a server's capture the analysing thread's time went mostly to
    /// such waits, its tables being far larger than the processor's own cache).
    /// Returns the flow's NAT contact keys, for `handle` to use rather than work them out again. (Mutating,
    /// though it changes nothing, so that a caller holding the analyzer `inout` passes it by address.)
    public mutating func prefetchSTUN(flow: FiveTuple, header: borrowing Span<UInt8>) -> NATTracker.ContactKeys {
        if let id = TransactionID(header: header) {
            transactions.prefetch(id)
            ice.prefetch(id)
        }
        let keys = NATTracker.ContactKeys(flow)
        nat.prefetch(keys)
        return keys
    }

    /// Handles a payload of which only the first `bytesNeeded(kind, count: length)` bytes are given.
    /// `contactKeys`: for STUN, the flow's NAT contact keys as `prefetchSTUN` returned them.
    public mutating func handle(
        _ payload: ClassifiedPayload, bytes: borrowing Span<UInt8>, length: Int,
        contactKeys: NATTracker.ContactKeys? = nil, log: inout DiagnosticLog
    ) {
        advanceClock(to: payload.time)
        switch payload.kind {
        case .stun, .classicSTUN:
            countSTUN(payload.kind)
            decodeSTUN(payload, bytes: bytes, carrier: .direct, effectiveFlow: nil, contactKeys: contactKeys, log: &log)
        case .channelData:
            statistics.channelData += 1
            do throws(STUNDecodingError) {
                let channelData = try ChannelData.decode(bytes, overStream: false)
                let resolved = turn.channelData(
                    channel: channelData.channel, length: channelData.length, flow: payload.flow, time: payload.time,
                    ref: payload.ref)
                let effective = resolved.flatMap { resolved in
                    resolved.relayed.map { relayed in
                        resolved.toPeer
                            ? FiveTuple(source: relayed, destination: resolved.peer, transport: .udp)
                            : FiveTuple(source: resolved.peer, destination: relayed, transport: .udp)
                    }
                }
                inner(payload, bytes: bytes.extracting(channelData.data), carrier: .channelData, effectiveFlow: effective, log: &log)
            } catch {
                statistics.malformed += 1
                log.record(Diagnostic(ref: payload.ref, reason: .malformedChannelData, detail: error.description))
            }
        case .dtls:
            statistics.dtlsRecords += Shapes.isDTLS(bytes) ?? 0
            let moment = media.record(.dtls, flow: payload.flow, bytes: bytes, time: payload.time)
            if let moment, liveFeed != nil { liveFeed?.media(moment, flow: payload.flow, time: payload.time) }
            encryptedTURN.record(flow: payload.flow, bytes: length, time: payload.time, dtls: true, head: bytes)
        case .rtp:
            statistics.rtpPackets += 1
            let moment = media.record(.rtp, flow: payload.flow, bytes: bytes, length: length, time: payload.time)
            if let moment, liveFeed != nil { liveFeed?.media(moment, flow: payload.flow, time: payload.time) }
        case .rtcp:
            statistics.rtcpPackets += 1
            media.record(.rtcp, flow: payload.flow, bytes: bytes, length: length, time: payload.time)
        case .zrtp:
            statistics.zrtpPackets += 1
        case .turnTCPData:
            statistics.turnTCPDataBytes += length
            turn.tcpData(flow: payload.flow, bytes: length)
        case .tls:
            statistics.tlsBytes += length
            encryptedTURN.record(flow: payload.flow, bytes: length, time: payload.time, dtls: false, head: bytes)
        case .icmpError(let kind):
            statistics.icmpErrors += 1
            icmpErrors.record(kind, quoted: payload.flow, bytes: bytes, time: payload.time, ref: payload.ref)
        case .unknown:
            break
        }
    }

    private mutating func advanceClock(to time: CaptureTime) {
        if lastTime.map({ time > $0 }) ?? true { lastTime = time }
    }

    private mutating func countSTUN(_ kind: PayloadKind) {
        if kind == .stun { statistics.stunMessages += 1 } else { statistics.classicStunMessages += 1 }
    }

    /// Classifies a relayed payload (DATA attribute or ChannelData data) and counts what it is.
    private mutating func inner(
        _ payload: ClassifiedPayload, bytes: borrowing Span<UInt8>, carrier: MessageCarrier, effectiveFlow: FiveTuple?,
        log: inout DiagnosticLog
    ) {
        if Shapes.isSTUN(bytes) {
            statistics.relayedStunMessages += 1
            decodeSTUN(payload, bytes: bytes, carrier: carrier, effectiveFlow: effectiveFlow, log: &log)
        } else if let records = Shapes.isDTLS(bytes) {
            statistics.dtlsRecords += records
            if let effectiveFlow { media.record(.dtls, flow: effectiveFlow, bytes: bytes, time: payload.time, throughTURN: true) }
        } else if let kind = Shapes.rtpOrRTCP(bytes) {
            if kind == .rtcp { statistics.rtcpPackets += 1 } else { statistics.rtpPackets += 1 }
            if let effectiveFlow,
                let moment = media.record(kind, flow: effectiveFlow, bytes: bytes, time: payload.time, throughTURN: true),
                liveFeed != nil
            {
                liveFeed?.media(moment, flow: effectiveFlow, time: payload.time)
            }
        }
    }

    /// Decodes one STUN message. For a message relayed through TURN, `effectiveFlow` is where it really
    /// travelled (relayed address ↔ peer), when the channel or peer address resolved it.
    private mutating func decodeSTUN(
        _ payload: ClassifiedPayload, bytes: borrowing Span<UInt8>, carrier: MessageCarrier, effectiveFlow: FiveTuple?,
        contactKeys: NATTracker.ContactKeys? = nil, log: inout DiagnosticLog
    ) {
        // Decoded into the last message's storage (`DecodedSTUN.decode`), taken out of `self` for the call.
        var decoded = DecodedSTUN.placeholder
        swap(&decoded, &scratch)
        decoded.decode(bytes)
        analyse(
            decoded, payload, bytes: bytes, carrier: carrier, effectiveFlow: effectiveFlow, contactKeys: contactKeys,
            log: &log)
        swap(&decoded, &scratch)
    }

    private mutating func analyse(
        _ decoded: borrowing DecodedSTUN, _ payload: ClassifiedPayload, bytes: borrowing Span<UInt8>, carrier: MessageCarrier,
        effectiveFlow: FiveTuple?, contactKeys: NATTracker.ContactKeys? = nil, log: inout DiagnosticLog
    ) {
        if let error = decoded.error {
            statistics.malformed += 1
            log.record(Diagnostic(ref: payload.ref, reason: .malformedSTUN, detail: error.description))
        } else {
            analyse(
                decoded.message, fingerprint: decoded.fingerprint, payload, bytes: bytes, carrier: carrier,
                effectiveFlow: effectiveFlow, contactKeys: contactKeys, log: &log)
        }
    }

    /// `contactKeys`: those of `payload.flow`, when known.
    private mutating func analyse(
        _ message: STUNMessage, fingerprint: IntegrityResult, _ payload: ClassifiedPayload, bytes: borrowing Span<UInt8>,
        carrier: MessageCarrier, effectiveFlow: FiveTuple?, contactKeys: NATTracker.ContactKeys?, log: inout DiagnosticLog
    ) {
        if typeCounts.isEmpty { typeCounts = Array(repeating: 0, count: 1 << 14) }
        typeCounts[Int(message.messageType & 0x3FFF)] += 1
        for problem in message.problems {
            statistics.malformed += 1
            log.record(Diagnostic(ref: payload.ref, reason: .malformedSTUN, detail: problem.description))
        }
        if fingerprint == .failed {
            statistics.fingerprintFailures += 1
            log.record(
                Diagnostic(
                    ref: payload.ref, reason: .fingerprintFailed,
                    detail: "FINGERPRINT of \(message.method) \(message.messageClass) \(message.transactionID) does not match"))
        }
        let integrity = Integrity.verify(message, bytes: bytes, key: key(for: message))
        if integrity == .failed { statistics.integrityFailures += 1 }
        // Send/Data indications carry a relayed datagram in DATA (RFC 8656 §11).
        if carrier == .direct { turn.handle(message, flow: payload.flow, time: payload.time, ref: payload.ref) }
        if carrier == .direct, message.method == .send || message.method == .data,
            let data = message.attribute(.data), data.length > 0
        {
            var effective: FiveTuple?
            if case .xorAddress(let peer) = message.value(.xorPeerAddress),
                let (relayed, toPeer) = turn.relayedAddress(flow: payload.flow), let relayed
            {
                effective =
                    toPeer
                    ? FiveTuple(source: relayed, destination: peer, transport: .udp)
                    : FiveTuple(source: peer, destination: relayed, transport: .udp)
            }
            let start = data.offset + 4
            inner(
                payload, bytes: bytes.extracting(start..<(start + data.length)), carrier: .turnData, effectiveFlow: effective,
                log: &log)
        }
        let flow = effectiveFlow ?? payload.flow
        // What a request is for is read once, for the transaction and for NAT discovery.
        let purpose = message.messageClass == .request ? RequestPurpose(message) : .other
        let answered = transactions.handle(
            message, flow: flow, time: payload.time, ref: payload.ref, carrier: carrier, integrity: integrity, purpose: purpose)
        ice.handle(message, flow: flow, time: payload.time, carrier: effectiveFlow == nil ? carrier : .direct)
        // Mappings are learned on the wire only: a check relayed through TURN maps the relayed address.
        if carrier == .direct {
            nat.handle(
                message, flow: flow, time: payload.time, ref: payload.ref, purpose: purpose, request: answered,
                keys: effectiveFlow == nil ? contactKeys : nil)
            if liveFeed != nil { liveFeed?.natChanges(nat) }
        }
        if liveFeed != nil {
            liveFeed?.observe(message, flow: flow, time: payload.time, ref: payload.ref, purpose: purpose, answered: answered)
        }
        if options.keepMessages {
            guard messages.count < options.messagesKept else {
                messagesDropped += 1
                return
            }
            messages.append(
                MessageRecord(
                    ref: payload.ref, time: payload.time, flow: payload.flow, carrier: carrier, message: message,
                    fingerprint: fingerprint, integrity: integrity))
        }
    }

    private mutating func key(for message: STUNMessage) -> STUNKey? {
        guard !options.credentials.isEmpty else { return nil }
        switch message.messageClass {
        case .request, .indication:
            let key = options.credentials.key(forRequest: message)
            if let key, message.messageClass == .request {
                if requestKeys.updateValue(key, forKey: message.transactionID) == nil {
                    requestKeyOrder.append(message.transactionID)
                }
                if requestKeyOrder.count > Limits.requestKeys {
                    let forget = requestKeyOrder.prefix(requestKeyOrder.count / 2)
                    for id in forget { requestKeys[id] = nil }
                    requestKeyOrder.removeFirst(forget.count)
                }
            }
            return key
        case .successResponse, .errorResponse:
            return requestKeys[message.transactionID]
        }
    }

    /// A window's snapshot of a live capture: requests still in flight are left for a later window (not
    /// called timeouts), the rest closed as at the end. Returns how many were in flight.
    public mutating func finishWindow(at now: CaptureTime) -> Int {
        let inFlight = transactions.removeInFlight(at: now)
        finish()
        return inFlight
    }

    /// Lets the ICE checks go once the sessions are built from them (`CallAssembly`); counters stay.
    mutating func releaseICEChecks() { ice.releaseChecks() }

    /// Closes what is still open when all inputs are read.
    public mutating func finish() {
        transactions.finish(at: lastTime ?? CaptureTime(nanoseconds: 0))
        turn.finish(at: lastTime ?? CaptureTime(nanoseconds: 0))
    }

    /// Adds the decode layer's counters at the end of an input.
    public mutating func absorb(_ decoder: PacketDecoder) {
        let counters = decoder.counters
        statistics.ipFragments += counters.ipFragments
        statistics.reassembledDatagrams += counters.reassembledDatagrams
        statistics.fragmentsEvicted += decoder.fragments.evicted
        statistics.fragmentsTimedOut += decoder.fragments.timedOut
        statistics.fragmentOverlaps += decoder.fragments.overlaps
        statistics.tcpRetransmissions += decoder.streams.counters.retransmissions
        statistics.tcpGaps += decoder.streams.counters.gaps
        statistics.tcpStreamsEvicted += decoder.streams.counters.evictedStreams
        statistics.stunFlowsReplaced += decoder.demux.evictions
        statistics.packets += counters.packets
        statistics.udpPackets += counters.udp
        statistics.tcpSegments += counters.tcp
        statistics.truncated += counters.truncated
        statistics.malformed += counters.malformed
    }
}

/// A STUN message decoded and its FINGERPRINT checked: work that needs no state, so a reading thread can do
/// it ahead of the analyser. The message and the error are kept side by side, not as a `Result`: decoding in
/// place then needs no stand-in value swapped in and out (copying and destroying a stand-in error, its two
/// strings retained and released, cost a hundred instructions a message on each thread).
public struct DecodedSTUN: Sendable {
    /// The decoded message; meaningful only when `error` is nil (otherwise what was decoded before).
    public private(set) var message: STUNMessage
    /// Why the message could not be decoded (its header was unusable).
    public private(set) var error: STUNDecodingError?
    public private(set) var fingerprint: IntegrityResult

    public init(_ bytes: borrowing Span<UInt8>) {
        self = Self.placeholder
        decode(bytes)
    }

    /// Decodes `bytes` in place of the message held, reusing its attribute list's storage
    /// (`STUNMessage.decode(_:into:)`).
    public mutating func decode(_ bytes: borrowing Span<UInt8>) {
        do throws(STUNDecodingError) {
            try STUNMessage.decode(bytes, into: &message)
            if error != nil { error = nil }
            fingerprint = Fingerprint.verify(message, bytes: bytes)
        } catch {
            self.error = error
            fingerprint = .absent
        }
    }

    /// Holds a batch's place while one of its messages is lent out (nothing allocated).
    public static let placeholder = DecodedSTUN(
        message: STUNMessage(method: .binding, messageClass: .request, transactionID: TransactionID(value: 0, isClassic: false)))

    private init(message: STUNMessage) {
        self.message = message
        error = nil
        fingerprint = .absent
    }
}
