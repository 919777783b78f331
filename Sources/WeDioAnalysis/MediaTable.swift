import WeDioBasics
import WeDioDecode

/// Two counters, one per direction, stored inline (no heap, no bounds-checked array on the hot path).
public struct Directional: Sendable, Hashable {
    public var first = 0
    public var second = 0

    public subscript(_ direction: Int) -> Int {
        get { direction == 0 ? first : second }
        set { if direction == 0 { first = newValue } else { second = newValue } }
    }

    public var total: Int { first + second }
    public var both: [Int] { [first, second] }
    public func allSatisfy(_ predicate: (Int) -> Bool) -> Bool { predicate(first) && predicate(second) }
}

/// A first on a media flow, reported live as it happens.
public enum MediaMoment: Sendable {
    case rtpStarted, dtlsHandshakeStarted, dtlsConnected
}

/// Media seen on one flow (both directions): DTLS, RTP and RTCP counters, SSRCs, payload types and a
/// loss estimate from RTP sequence gaps. Direction 0 is the first direction seen.
public struct MediaFlow: Sendable, Hashable {
    public var flow: FiveTuple
    public var packets = Directional()
    public var bytes = Directional()
    public var rtpPackets = Directional()
    public var rtcpPackets = Directional()
    public var dtlsRecords = Directional()
    /// RTP packets missing by sequence number (gaps of up to 1000, per direction, first SSRC only).
    public var rtpLost = Directional()
    public var ssrcs: [UInt32] = []
    /// Bit n set: RTP payload type n seen.
    public var payloadTypes: UInt128 = 0
    public var firstTime: CaptureTime
    public var lastTime: CaptureTime
    public var firstRTPTime: CaptureTime?
    /// DTLS: who sent the ClientHello (0 or 1) and when; the first application-data record; alerts.
    public var clientHelloDirection: Int?
    public var handshakeStart: CaptureTime?
    public var firstApplicationData: CaptureTime?
    public var dtlsAlerts = 0
    /// Some of it was unwrapped from TURN messages (see `MediaTable.record`).
    public var unwrappedFromTURN = false
    var lastSequence = Directional(first: -1, second: -1)
    var sequenceSSRC0: UInt32?
    var sequenceSSRC1: UInt32?

    /// One RTP packet in `direction`.
    mutating func rtp(direction: Int, payloadType: UInt8, sequence: UInt16, ssrc: UInt32, time: CaptureTime) {
        rtpPackets[direction] += 1
        if firstRTPTime == nil { firstRTPTime = time }
        payloadTypes |= UInt128(1) << UInt128(payloadType & 0x7F)
        if ssrcs.last != ssrc && ssrcs.count < 16 && !ssrcs.contains(ssrc) { ssrcs.append(ssrc) }
        let tracked = direction == 0 ? sequenceSSRC0 : sequenceSSRC1
        guard tracked == nil || tracked == ssrc else { return }
        if tracked == nil {
            if direction == 0 { sequenceSSRC0 = ssrc } else { sequenceSSRC1 = ssrc }
        }
        let previous = lastSequence[direction]
        if previous >= 0 {
            let gap = (Int(sequence) - previous + 65_536) % 65_536
            if gap > 1 && gap < 1_000 { rtpLost[direction] += gap - 1 }
            if gap >= 1 && gap < 32_768 { lastSequence[direction] = Int(sequence) }
        } else {
            lastSequence[direction] = Int(sequence)
        }
    }

    public var payloadTypeList: [Int] { (0..<128).filter { payloadTypes & (UInt128(1) << UInt128($0)) != 0 } }
}

/// Per-flow media counters with fixed memory: an open-addressing table (multiply-mix hash of the flow,
/// then a full comparison), no per-packet allocation. Beyond `Limits.mediaFlows` new flows are counted only.
public struct MediaTable: Sendable {
    private var keys: [UInt64] = []
    private var indexes: [Int32] = []
    private var flowKeys: [UInt64] = []
    public private(set) var flows: [MediaFlow] = []
    public private(set) var overflow = 0
    /// Starts small (a call has a few flows: the table stays in L1) and doubles at half load.
    private var mask = 1_023

    public init() {}

    /// Forgets flows idle since before `cutoff` (a long live capture); returns how many.
    public mutating func evict(idleBefore cutoff: CaptureTime) -> Int {
        let kept = flows.indices.filter { flows[$0].lastTime >= cutoff }
        let removed = flows.count - kept.count
        guard removed > 0 else { return 0 }
        flows = kept.map { flows[$0] }
        flowKeys = kept.map { flowKeys[$0] }
        lastKey = 0
        lastIndex = 0
        mask = max(1_023, mask)
        keys = Array(repeating: 0, count: mask + 1)
        indexes = Array(repeating: -1, count: mask + 1)
        for (index, key) in flowKeys.enumerated() {
            var position = Int(truncatingIfNeeded: key) & mask
            while keys[position] != 0 { position = (position + 1) & mask }
            keys[position] = key
            indexes[position] = Int32(index)
        }
        return removed
    }

    private mutating func grow() {
        let size = (mask + 1) * 2
        mask = size - 1
        keys = Array(repeating: 0, count: size)
        indexes = Array(repeating: -1, count: size)
        for (index, key) in flowKeys.enumerated() {
            var position = Int(truncatingIfNeeded: key) & mask
            while keys[position] != 0 { position = (position + 1) & mask }
            keys[position] = key
            indexes[position] = Int32(index)
        }
    }

    /// The last flow found, for bursts of packets on one flow (video frames).
    private var lastKey: UInt64 = 0
    private var lastIndex = 0

    private mutating func slot(for flow: FiveTuple, create: Bool, time: CaptureTime) -> Int? {
        let key = FlowCache.key(flow)
        if key == lastKey, lastIndex < flows.count, sameFlow(flows[lastIndex].flow, flow) { return lastIndex }
        guard let index = probe(flow, key: key, create: create, time: time) else { return nil }
        lastKey = key
        lastIndex = index
        return index
    }

    @inline(__always)
    private func sameFlow(_ known: FiveTuple, _ flow: FiveTuple) -> Bool {
        (known.source == flow.source && known.destination == flow.destination)
            || (known.source == flow.destination && known.destination == flow.source)
    }

    private enum Location {
        case found(Int)
        case free(position: Int)
        case exhausted
    }

    /// Where `flow` is in the table, or the free slot it would take (linear probing, at most 64 steps).
    @inline(__always)
    private func locate(_ flow: FiveTuple, key: UInt64) -> Location {
        var position = Int(truncatingIfNeeded: key) & mask
        for _ in 0..<64 {
            if keys[position] == 0 { return .free(position: position) }
            if keys[position] == key {
                let index = Int(indexes[position])
                if flows.indices.contains(index), sameFlow(flows[index].flow, flow) { return .found(index) }
            }
            position = (position + 1) & mask
        }
        return .exhausted
    }

    private mutating func probe(_ flow: FiveTuple, key: UInt64, create: Bool, time: CaptureTime) -> Int? {
        if keys.isEmpty {
            guard create else { return nil }
            keys = Array(repeating: 0, count: mask + 1)
            indexes = Array(repeating: -1, count: mask + 1)
        }
        if create && flows.count * 2 > mask && mask < 262_143 { grow() }
        switch locate(flow, key: key) {
        case .found(let index):
            return index
        case .free(let position):
            guard create, flows.count < Limits.mediaFlows else {
                if create { overflow += 1 }
                return nil
            }
            keys[position] = key
            indexes[position] = Int32(flows.count)
            flowKeys.append(key)
            flows.append(MediaFlow(flow: flow, firstTime: time, lastTime: time))
            return flows.count - 1
        case .exhausted:
            if create { overflow += 1 }
            return nil
        }
    }

    /// Counts one media payload (kind already classified) on `flow`. `length`: the payload's size when
    /// `bytes` holds only its start (an RTP header handed between threads); `bytes.count` otherwise.
    /// `throughTURN`: the packet was unwrapped from TURN (ChannelData or a Data/Send indication), so the flow
    /// is the relayed address ↔ peer path as the client side sees it, not traffic on that path itself.
    /// Returns what started on the flow with this packet (its first RTP, its DTLS handshake or first
    /// application data), for the live event stream.
    @discardableResult
    public mutating func record(
        _ kind: PayloadKind, flow: FiveTuple, bytes: borrowing Span<UInt8>, length: Int? = nil, time: CaptureTime,
        throughTURN: Bool = false
    ) -> MediaMoment? {
        guard let index = slot(for: flow, create: true, time: time) else { return nil }
        if throughTURN { flows[index].unwrappedFromTURN = true }
        let direction = flows[index].flow.source == flow.source ? 0 : 1
        flows[index].packets[direction] += 1
        flows[index].bytes[direction] += length ?? bytes.count
        flows[index].lastTime = time
        switch kind {
        case .rtp:
            guard let second = ByteCursor.getUInt8(bytes, at: 1), let sequence = ByteCursor.getUInt16(bytes, at: 2),
                let ssrc = ByteCursor.getUInt32(bytes, at: 8)
            else { return nil }
            let started = flows[index].firstRTPTime == nil
            flows[index].rtp(direction: direction, payloadType: second, sequence: sequence, ssrc: ssrc, time: time)
            return started ? .rtpStarted : nil
        case .rtcp:
            flows[index].rtcpPackets[direction] += 1
            return nil
        case .dtls:
            let handshake = flows[index].handshakeStart
            let applicationData = flows[index].firstApplicationData
            var offset = 0
            while let type = ByteCursor.getUInt8(bytes, at: offset), let length = ByteCursor.getUInt16(bytes, at: offset + 11) {
                flows[index].dtlsRecords[direction] += 1
                switch type {
                case 22:  // handshake: ClientHello has handshake type 1 (RFC 6347 §4.2.2, 13-byte record header)
                    if ByteCursor.getUInt8(bytes, at: offset + 13) == 1 && flows[index].clientHelloDirection == nil {
                        flows[index].clientHelloDirection = direction
                        flows[index].handshakeStart = time
                    }
                case 21: flows[index].dtlsAlerts += 1
                case 23: if flows[index].firstApplicationData == nil { flows[index].firstApplicationData = time }
                default: break
                }
                offset += 13 + Int(length)
            }
            if handshake == nil && flows[index].handshakeStart != nil { return .dtlsHandshakeStarted }
            if applicationData == nil && flows[index].firstApplicationData != nil { return .dtlsConnected }
            return nil
        default:
            return nil
        }
    }

    /// The media flow between two transport addresses, if any: one probe of the table (a report asks
    /// this for every candidate pair of thousands of sessions).
    public func flow(between a: TransportAddress, _ b: TransportAddress, transport: Transport) -> MediaFlow? {
        guard !keys.isEmpty else { return nil }
        let flow = FiveTuple(source: a, destination: b, transport: transport)
        guard case .found(let index) = locate(flow, key: FlowCache.key(flow)) else { return nil }
        return flows[index]
    }
}
