import WeDioBasics

/// RFC 7983 demultiplexing on the first byte, with shape checks and two pieces of bounded memory:
/// flows seen carrying STUN (ChannelData is only believed there, as Wireshark does, since QUIC short
/// headers share the 64–127 range) and classic (RFC 3489) requests awaiting an answer.
public struct Demultiplexer: Sendable {
    private var stunFlows = FlowCache(capacity: Limits.stunFlows)
    private var classicRequests = BoundedSet<UInt128>(capacity: Limits.classicRequests)
    /// Flows pinned but not yet inserted, oldest first (their keys): each one's set is prefetched when the
    /// flow is pinned and written `pinDelay` pins later, when its line has arrived. On a server's capture
    /// the set was a cache miss for every STUN packet, a fifth of the reading thread's time. Inserted in the
    /// same order, and all of them before the set is asked anything, so the cache answers exactly as if each
    /// had been inserted at once.
    private var pendingPins: [UInt64] = Array(repeating: 0, count: Self.pinDelay)
    private var pendingStart = 0
    private var pendingCount = 0
    static let pinDelay = 8

    public init() {}

    /// Well-known STUN/TURN ports where classic STUN is expected (RFC 3489 §8.1: 3478).
    static func isSTUNPort(_ flow: FiveTuple) -> Bool {
        flow.source.port == 3478 || flow.destination.port == 3478
    }

    public func isSTUNFlow(_ flow: FiveTuple) -> Bool {
        var settled = self
        settled.insertPendingPins()
        return settled.stunFlows.contains(flow)
    }

    public var evictions: Int {
        var settled = self
        settled.insertPendingPins()
        return settled.stunFlows.replacements + classicRequests.evictions
    }

    /// Marks a flow as STUN/TURN (also called for TCP streams whose framing is STUN).
    public mutating func pin(_ flow: FiveTuple) {
        let key = FlowCache.key(flow)
        stunFlows.prefetch(key: key)
        if pendingCount == Self.pinDelay {
            stunFlows.insert(key: pendingPins[pendingStart])
            pendingPins[pendingStart] = key
            pendingStart = (pendingStart + 1) % Self.pinDelay
        } else {
            pendingPins[(pendingStart + pendingCount) % Self.pinDelay] = key
            pendingCount += 1
        }
    }

    private mutating func insertPendingPins() {
        for offset in 0..<pendingCount { stunFlows.insert(key: pendingPins[(pendingStart + offset) % Self.pinDelay]) }
        pendingStart = 0
        pendingCount = 0
    }

    /// Whether `flow` carried STUN before (every pin inserted first).
    private mutating func carriedSTUN(_ flow: FiveTuple) -> Bool {
        if pendingCount > 0 { insertPendingPins() }
        return stunFlows.contains(flow)
    }

    /// Classifies one datagram (a UDP payload, or an RFC 4571 frame from a TCP stream).
    public mutating func classify(_ bytes: borrowing Span<UInt8>, flow: FiveTuple) -> PayloadKind {
        guard let first = ByteCursor.getUInt8(bytes, at: 0) else { return .unknown }
        switch first {
        case 0...3:
            if Shapes.isSTUN(bytes) {
                pin(flow)
                return .stun
            }
            if Shapes.isClassicSTUN(bytes), let id = Shapes.classicTransactionID(bytes),
                let type = ByteCursor.getUInt16(bytes, at: 0)
            {
                let isRequest = type & 0x0110 == 0
                // On 3478, or answering a request already taken as classic, the shape suffices; elsewhere a
                // request must pass the strict attribute test (as Wireshark's classicstun heuristic does).
                if Self.isSTUNPort(flow) || (!isRequest && classicRequests.contains(id))
                    || (isRequest && Shapes.isClassicSTUN(bytes, strict: true))
                {
                    if isRequest { classicRequests.insert(id) }
                    pin(flow)
                    return .classicSTUN
                }
            }
            return .unknown
        case 16...19:
            // ZRTP (RFC 6189 §5): magic cookie "ZRTP" at bytes 4–7.
            return ByteCursor.getUInt32(bytes, at: 4) == 0x5A52_5450 ? .zrtp : .unknown
        case 20...63:
            return Shapes.isDTLS(bytes) != nil ? .dtls : .unknown
        case 64...127:
            guard carriedSTUN(flow), let (channel, length) = Shapes.channelDataHeader(bytes) else { return .unknown }
            // Over UDP the data may be followed by padding up to a multiple of 4 (RFC 8656 §12.5).
            let exact = 4 + length
            guard bytes.count >= exact, bytes.count <= 4 + ((length + 3) & ~3) else { return .unknown }
            return .channelData(channel: channel)
        case 128...191:
            return Shapes.rtpOrRTCP(bytes) ?? .unknown
        default:
            return .unknown
        }
    }

    /// Classifies a frame cut from a STUN-framed TCP stream: STUN or ChannelData by its first byte.
    public mutating func classifyStreamFrame(_ bytes: borrowing Span<UInt8>, flow: FiveTuple) -> PayloadKind {
        pin(flow)
        guard let first = ByteCursor.getUInt8(bytes, at: 0) else { return .unknown }
        if first < 0x40 { return Shapes.isSTUN(bytes) ? .stun : .unknown }
        if let (channel, _) = Shapes.channelDataHeader(bytes) { return .channelData(channel: channel) }
        return .unknown
    }
}
