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

/// Media seen on one flow (both directions): DTLS, RTP and RTCP counters, the flow's RTP streams, stalls and
/// bitrate; SSRCs, payload types and loss are summed from the streams by `MediaTable.flow(between:)`.
/// Direction 0 is the first direction seen.
public struct MediaFlow: Sendable, Hashable {
    public var flow: FiveTuple
    public var packets = Directional()
    public var bytes = Directional()
    public var rtpPackets = Directional()
    public var rtcpPackets = Directional()
    public var dtlsRecords = Directional()
    /// RTP packets missing by sequence number, per direction: the sum over the flow's streams (RFC 3550 A.3,
    /// duplicates not subtracted). Filled by `MediaTable.flow(between:)`.
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
    /// DTLS application data (the SCTP of data channels, RFC 8261), bytes per direction.
    public var sctpBytes = Directional()
    /// RTCP senders (the SSRC after the first RTCP header, in clear under SRTCP too) by direction.
    public var rtcpSenders: [RTCPSender] = []
    /// RTP bytes over time, per direction.
    public var bitrate: [BitrateSeries] = [BitrateSeries(), BitrateSeries()]
    /// Times a direction carried no RTP for `MediaTable.silenceThreshold` or longer, between two packets.
    public var stalls: [MediaStall] = []
    public var stallsDropped = 0
    /// The last RTP packet of each direction.
    public var lastRTPTime: [CaptureTime?] = [nil, nil]
    /// This flow's RTP streams (indexes into `MediaTable.streams`), and the one each direction used last.
    public var streamIndexes: [Int] = []
    var lastStream = Directional(first: -1, second: -1)

    /// One RTP packet in `direction`: counted here; sequence numbers, SSRCs and payload types are the
    /// streams' (`MediaTable.flow(between:)` sums them up for the flow).
    @inline(__always)
    mutating func rtp(direction: Int, time: CaptureTime) {
        rtpPackets[direction] += 1
        if firstRTPTime == nil { firstRTPTime = time }
    }

    public var payloadTypeList: [Int] { RTPStream.payloadTypes(in: payloadTypes) }
}

/// RTCP packets from one SSRC in one direction of a flow.
public struct RTCPSender: Sendable, Hashable {
    public var ssrc: UInt32
    public var direction: Int
    public var packets: Int
}

/// A direction of a flow without RTP for `MediaTable.silenceThreshold` or longer.
public struct MediaStall: Sendable, Hashable {
    public var direction: Int
    public var start: CaptureTime
    public var end: CaptureTime
    public var milliseconds: Double { end.milliseconds(since: start) }
}

/// Per-flow media counters with fixed memory: an open-addressing table (multiply-mix hash of the flow,
/// then a full comparison), no per-packet allocation. Beyond `Limits.mediaFlows` new flows are counted only.
public struct MediaTable: Sendable {
    private var keys: [UInt64] = []
    private var indexes: [Int32] = []
    private var flowKeys: [UInt64] = []
    public private(set) var flows: [MediaFlow] = []
    public private(set) var overflow = 0
    /// RTP streams (SSRC and direction of a flow), in order of their first packet; beyond `Limits.rtpStreams`
    /// counted on their flow only (`streamsDropped`).
    public private(set) var streams: [RTPStream] = []
    public private(set) var streamsDropped = 0
    /// Payload types the SDP mapped (`--sdp`, webrtc-internals dumps), by number.
    public var codecs: [Int: SignalledCodec] = [:]
    /// A direction silent this long (milliseconds) has a gap or stall recorded: longer than any DTX
    /// interval (Opus sends every 400 ms in silence) or a slow video frame rate, short enough that a
    /// person notices the freeze.
    public static let silenceThreshold = 2_000.0
    static let silenceNanoseconds = Int64(silenceThreshold) * 1_000_000
    /// Starts small (a call has a few flows: the table stays in L1) and doubles at half load.
    private var mask = 1_023

    public init() {}

    /// Forgets flows idle since before `cutoff` (a long live capture); returns how many.
    public mutating func evict(idleBefore cutoff: CaptureTime) -> Int {
        let kept = flows.indices.filter { flows[$0].lastTime >= cutoff }
        let removed = flows.count - kept.count
        guard removed > 0 else { return 0 }
        var renumbered = [Int](repeating: -1, count: flows.count)
        for (new, old) in kept.enumerated() { renumbered[old] = new }
        flows = kept.map { flows[$0] }
        // Streams of forgotten flows go with them; the rest point at their flow's new place.
        streams = streams.compactMap { stream in
            guard renumbered.indices.contains(stream.flowIndex), renumbered[stream.flowIndex] >= 0 else { return nil }
            var stream = stream
            stream.flowIndex = renumbered[stream.flowIndex]
            return stream
        }
        for index in flows.indices {
            flows[index].streamIndexes = []
            flows[index].lastStream = Directional(first: -1, second: -1)
        }
        for (index, stream) in streams.enumerated() { flows[stream.flowIndex].streamIndexes.append(index) }
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
                let timestamp = ByteCursor.getUInt32(bytes, at: 4), let ssrc = ByteCursor.getUInt32(bytes, at: 8)
            else { return nil }
            let size = length ?? bytes.count
            let started = flows[index].firstRTPTime == nil
            flows[index].rtp(direction: direction, time: time)
            flows[index].bitrate[direction].add(size, at: time)
            if let last = flows[index].lastRTPTime[direction], time.nanoseconds - last.nanoseconds >= Self.silenceNanoseconds {
                if flows[index].stalls.count < Limits.stallsPerFlow {
                    flows[index].stalls.append(MediaStall(direction: direction, start: last, end: time))
                } else {
                    flows[index].stallsDropped += 1
                }
            }
            flows[index].lastRTPTime[direction] = time
            if let stream = stream(ssrc: ssrc, flowIndex: index, direction: direction, flow: flow, sequence: sequence, timestamp: timestamp,
                payloadType: second & 0x7F, time: time, throughTURN: throughTURN)
            {
                streams[stream].record(
                    sequence: sequence, timestamp: timestamp, marker: second & 0x80 != 0, payloadType: second, length: size, time: time)
            }
            return started ? .rtpStarted : nil
        case .rtcp:
            flows[index].rtcpPackets[direction] += 1
            if let ssrc = ByteCursor.getUInt32(bytes, at: 4) {
                if let known = flows[index].rtcpSenders.firstIndex(where: { $0.ssrc == ssrc && $0.direction == direction }) {
                    flows[index].rtcpSenders[known].packets += 1
                } else if flows[index].rtcpSenders.count < Limits.rtcpSendersPerFlow {
                    flows[index].rtcpSenders.append(RTCPSender(ssrc: ssrc, direction: direction, packets: 1))
                }
            }
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
                case 23:
                    if flows[index].firstApplicationData == nil { flows[index].firstApplicationData = time }
                    flows[index].sctpBytes[direction] += Int(length)
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

    /// The stream of `ssrc` in `direction` of flow `flowIndex` (unwrapped from TURN or not), made on its first
    /// packet (nil past the cap).
    /// The direction's last stream first: packets of one stream come in runs.
    private mutating func stream(
        ssrc: UInt32, flowIndex: Int, direction: Int, flow: FiveTuple, sequence: UInt16, timestamp: UInt32, payloadType: UInt8,
        time: CaptureTime, throughTURN: Bool
    ) -> Int? {
        // A TURN server's capture holds each relayed packet twice on this flow: unwrapped from the client's
        // ChannelData or Send indication, and on the wire between relay and peer. Two streams, not duplicates.
        let last = flows[flowIndex].lastStream[direction]
        if last >= 0, last < streams.count, streams[last].ssrc == ssrc, streams[last].throughTURN == throughTURN { return last }
        for candidate in flows[flowIndex].streamIndexes
        where streams[candidate].ssrc == ssrc && streams[candidate].direction == direction && streams[candidate].throughTURN == throughTURN {
            flows[flowIndex].lastStream[direction] = candidate
            return candidate
        }
        guard streams.count < Limits.rtpStreams else {
            streamsDropped += 1
            return nil
        }
        var stream = RTPStream(
            flow: flow, flowIndex: flowIndex, direction: direction, ssrc: ssrc, sequence: sequence, timestamp: timestamp, time: time)
        stream.throughTURN = throughTURN
        if let codec = codecs[Int(payloadType)] {
            stream.codec = "\(codec.name)/\(codec.clockRate)"
            stream.role = codec.role
            stream.assignClock(rate: codec.clockRate, source: .signalled)
        } else if let known = SDPCodecs.staticPayloadTypes[Int(payloadType)] {
            stream.codec = "\(known.name)/\(known.clockRate)"
            stream.assignClock(rate: known.clockRate, source: .staticPayloadType)
        }
        streams.append(stream)
        flows[flowIndex].streamIndexes.append(streams.count - 1)
        flows[flowIndex].lastStream[direction] = streams.count - 1
        return streams.count - 1
    }

    /// The media flow between two transport addresses, if any: one probe of the table (a report asks
    /// this for every candidate pair of thousands of sessions).
    public func flow(between a: TransportAddress, _ b: TransportAddress, transport: Transport) -> MediaFlow? {
        guard !keys.isEmpty else { return nil }
        let flow = FiveTuple(source: a, destination: b, transport: transport)
        guard case .found(let index) = locate(flow, key: FlowCache.key(flow)) else { return nil }
        var found = flows[index]
        // What the streams counted, summed up for the flow: SSRCs in order of first packet, payload types, loss.
        found.ssrcs = []
        found.payloadTypes = 0
        found.rtpLost = Directional()
        for streamIndex in found.streamIndexes where streams.indices.contains(streamIndex) {
            let stream = streams[streamIndex]
            if !found.ssrcs.contains(stream.ssrc) && found.ssrcs.count < 16 { found.ssrcs.append(stream.ssrc) }
            found.payloadTypes |= stream.payloadTypes
            found.rtpLost[stream.direction] += max(stream.lost + stream.duplicates, 0)
        }
        return found
    }
}
