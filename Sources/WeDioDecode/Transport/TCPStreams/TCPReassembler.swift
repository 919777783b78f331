import WeDioBasics

/// Per-direction TCP stream reassembly (RFC 9293 sequence space) feeding message framers: in-order
/// delivery, retransmissions dropped, overlaps trimmed (first arrival wins), gaps skipped and counted,
/// memory bounded per flow and in total. Streams that are neither STUN/TURN, RFC 4571 nor TLS are
/// followed by sequence number only and never buffered.
public struct TCPReassembler: Sendable {
    enum FramingState: Sendable, Equatable {
        case undetermined
        case framed(StreamFraming)
        /// Not ours (or lost after a gap): only sequence numbers are followed.
        case ignored
    }

    struct Segment: Sendable {
        var sequence: UInt32
        var bytes: [UInt8]
    }

    struct Stream: Sendable {
        var nextSequence: UInt32?
        var outOfOrder: [Segment] = []
        var outOfOrderBytes = 0
        var pending: [UInt8] = []
        var framing: FramingState = .undetermined
        /// This direction just carried the success response of a ConnectionBind (RFC 6062 §5.4): both
        /// directions are raw peer data from here on.
        var becameDataConnection = false
        var lastSeen: CaptureTime
        var buffered: Int { outOfOrderBytes + pending.count }
    }

    /// Counters reported in stats.
    public struct Counters: Sendable, Equatable {
        public var segments = 0
        public var retransmissions = 0
        public var overlaps = 0
        public var gaps = 0
        public var outOfOrder = 0
        public var framingLost = 0
        public var evictedStreams = 0
        public var bufferLimitHits = 0
    }

    private var streams: [FiveTuple: Stream] = [:]
    /// Directions whose other side became a data connection before this side's next bytes arrived.
    private var dataConnections: Set<FiveTuple> = []
    private var totalBuffered = 0
    public private(set) var counters = Counters()

    public init() {}

    public var trackedStreams: Int { streams.count }
    public var bufferedBytes: Int { totalBuffered }

    /// Feeds one segment; `deliver` receives each complete frame (STUN message, ChannelData, RFC 4571
    /// payload) or TLS bytes, with the framing it was cut by.
    public mutating func process(
        flow: FiveTuple, header: TCPHeader, bytes: borrowing Span<UInt8>, time: CaptureTime,
        deliver: (StreamFraming, borrowing Span<UInt8>) -> Void
    ) {
        counters.segments += 1
        var stream = streams.removeValue(forKey: flow) ?? Stream(lastSeen: time)
        totalBuffered -= stream.buffered
        if !dataConnections.isEmpty, dataConnections.remove(flow) != nil { Self.becomeData(&stream) }
        stream.lastSeen = time
        let payloadLength = header.payload.count
        if header.syn {
            stream.nextSequence = header.sequence &+ 1
        } else if payloadLength > 0 {
            let sequence = header.sequence
            let next = stream.nextSequence ?? sequence
            stream.nextSequence = next
            let delta = Int(Int32(bitPattern: sequence &- next))
            if delta + payloadLength <= 0 {
                counters.retransmissions += 1
            } else if delta > 0 {
                counters.outOfOrder += 1
                store(&stream, sequence: sequence, bytes: bytes, range: header.payload)
                if stream.outOfOrderBytes > Limits.tcpOutOfOrderBytesPerFlow {
                    counters.bufferLimitHits += 1
                    skipGap(&stream, deliver: deliver)
                }
            } else {
                if delta < 0 { counters.overlaps += 1 }
                let range = (header.payload.lowerBound - delta)..<header.payload.upperBound
                consume(&stream, bytes: bytes, range: range, deliver: deliver)
                drainOutOfOrder(&stream, deliver: deliver)
            }
        }
        if stream.becameDataConnection {
            stream.becameDataConnection = false
            // The client's direction turns too: now if it is followed, else when it is next seen (bounded).
            if var other = streams[flow.reversed] {
                Self.becomeData(&other)
                streams[flow.reversed] = other
            } else if dataConnections.count < Limits.tcpFlows {
                dataConnections.insert(flow.reversed)
            }
        }
        if header.fin || header.rst {
            // The direction is over: free its buffers (a half-message left in them is lost with the stream).
            return
        }
        totalBuffered += stream.buffered
        streams[flow] = stream
        enforceCaps()
    }

    private mutating func store(_ stream: inout Stream, sequence: UInt32, bytes: borrowing Span<UInt8>, range: Range<Int>) {
        guard stream.framing != .ignored else { return }
        if stream.outOfOrder.contains(where: { $0.sequence == sequence && $0.bytes.count >= range.count }) {
            counters.retransmissions += 1
            return
        }
        let copy = ByteCursor.copy(bytes, range)
        stream.outOfOrderBytes += copy.count
        let at = stream.outOfOrder.firstIndex { Int32(bitPattern: $0.sequence &- sequence) > 0 } ?? stream.outOfOrder.count
        stream.outOfOrder.insert(Segment(sequence: sequence, bytes: copy), at: at)
    }

    /// Delivers held segments that the stream has now reached.
    private mutating func drainOutOfOrder(_ stream: inout Stream, deliver: (StreamFraming, borrowing Span<UInt8>) -> Void) {
        while let first = stream.outOfOrder.first, let next = stream.nextSequence {
            let delta = Int(Int32(bitPattern: first.sequence &- next))
            guard delta <= 0 else { return }
            stream.outOfOrder.removeFirst()
            stream.outOfOrderBytes -= first.bytes.count
            if delta + first.bytes.count <= 0 {
                counters.retransmissions += 1
                continue
            }
            if delta < 0 { counters.overlaps += 1 }
            consume(&stream, bytes: first.bytes.span, range: (-delta)..<first.bytes.count, deliver: deliver)
        }
    }

    /// A hole that will not fill: jump to the first held segment, lose framing, and carry on.
    private mutating func skipGap(_ stream: inout Stream, deliver: (StreamFraming, borrowing Span<UInt8>) -> Void) {
        guard let first = stream.outOfOrder.first else { return }
        counters.gaps += 1
        stream.nextSequence = first.sequence
        stream.pending.removeAll()
        if case .framed(let framing) = stream.framing, framing != .tls { stream.framing = .undetermined }
        drainOutOfOrder(&stream, deliver: deliver)
    }

    /// In-order bytes: advance the sequence and frame them.
    private mutating func consume(
        _ stream: inout Stream, bytes: borrowing Span<UInt8>, range: Range<Int>,
        deliver: (StreamFraming, borrowing Span<UInt8>) -> Void
    ) {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= bytes.count else { return }
        stream.nextSequence = (stream.nextSequence ?? 0) &+ UInt32(truncatingIfNeeded: range.count)
        if stream.framing == .undetermined && stream.pending.isEmpty {
            stream.framing = Self.detect(bytes.extracting(range))
        }
        switch stream.framing {
        case .ignored:
            return
        case .framed(.tls):
            deliver(.tls, bytes.extracting(range))
            return
        case .framed(.relayedData):
            deliver(.relayedData, bytes.extracting(range))
            return
        case .undetermined, .framed(.stun), .framed(.rfc4571):
            break
        }
        if stream.pending.isEmpty {
            let segment = bytes.extracting(range)
            let used = frame(&stream, segment, deliver: deliver)
            if stream.framing != .ignored && used < segment.count {
                stream.pending.append(contentsOf: ByteCursor.copy(segment, used..<segment.count))
            }
        } else {
            stream.pending.append(contentsOf: ByteCursor.copy(bytes, range))
            let used = framePending(&stream, deliver: deliver)
            if stream.framing == .ignored {
                stream.pending.removeAll()
            } else {
                stream.pending.removeFirst(used)
            }
        }
        if stream.framing == .undetermined && stream.pending.count >= 16 {
            stream.framing = Self.detect(stream.pending.span)
            if stream.framing != .undetermined {
                let used = framePending(&stream, deliver: deliver)
                stream.pending.removeFirst(min(used, stream.pending.count))
            }
        }
        if stream.framing == .ignored {
            stream.pending.removeAll()
        } else if stream.pending.count > Limits.tcpPendingBytesPerFlow {
            counters.bufferLimitHits += 1
            stream.pending.removeAll()
            stream.framing = .ignored
        }
    }

    /// Frames the stream's held bytes. The buffer is moved out while framing so that removing the used
    /// prefix afterwards does not copy it (a second reference would force copy-on-write).
    private mutating func framePending(
        _ stream: inout Stream, deliver: (StreamFraming, borrowing Span<UInt8>) -> Void
    ) -> Int {
        let pending = stream.pending
        stream.pending = []
        let used = frame(&stream, pending.span, deliver: deliver)
        stream.pending = pending
        return used
    }

    /// Cuts complete frames from the front of `bytes`; returns how many bytes were used.
    private mutating func frame(
        _ stream: inout Stream, _ bytes: borrowing Span<UInt8>, deliver: (StreamFraming, borrowing Span<UInt8>) -> Void
    ) -> Int {
        guard case .framed(let framing) = stream.framing else { return 0 }
        var offset = 0
        while offset < bytes.count {
            let size: Int
            let inner: Range<Int>
            switch framing {
            case .stun:
                guard let first = ByteCursor.getUInt8(bytes, at: offset), bytes.count - offset >= 4,
                    first >= 0x40 || bytes.count - offset >= 8
                else { return offset }
                if first < 0x40, let length = Shapes.stunMessageLength(bytes, at: offset) {
                    size = length
                    inner = offset..<(offset + size)
                } else if first >= 0x40, let (_, length) = Shapes.channelDataHeader(bytes, at: offset) {
                    size = 4 + ((length + 3) & ~3)  // padded to 4 on streams (RFC 8656 §12.5)
                    inner = offset..<(offset + 4 + length)
                } else {
                    lose(&stream)
                    return offset
                }
            case .rfc4571:
                guard let length = ByteCursor.getUInt16(bytes, at: offset) else { return offset }
                size = 2 + Int(length)
                inner = (offset + 2)..<(offset + size)
            case .tls, .relayedData:
                return bytes.count
            }
            guard offset + size <= bytes.count else { return offset }
            deliver(framing, bytes.extracting(inner))
            offset += size
            // A ConnectionBind success response (type 0x010B): what follows is the peer's data.
            if framing == .stun, ByteCursor.getUInt16(bytes, at: inner.lowerBound) == 0x010B {
                stream.becameDataConnection = true
                stream.framing = .framed(.relayedData)
                if offset < bytes.count { deliver(.relayedData, bytes.extracting(offset..<bytes.count)) }
                return bytes.count
            }
        }
        return offset
    }

    /// Bytes still held for framing go out as data when the stream turns (none, for a client that waited).
    private static func becomeData(_ stream: inout Stream) {
        stream.framing = .framed(.relayedData)
        stream.pending.removeAll()
    }

    private mutating func lose(_ stream: inout Stream) {
        counters.framingLost += 1
        stream.framing = .ignored
    }

    /// Decides a stream's framing from its first bytes.
    static func detect(_ bytes: borrowing Span<UInt8>) -> FramingState {
        guard bytes.count >= 8 else { return .undetermined }
        if Shapes.stunMessageLength(bytes) != nil { return .framed(.stun) }
        if let prefix = ByteCursor.getUInt16(bytes, at: 0), bytes.count >= 10 {
            if let length = Shapes.stunMessageLength(bytes, at: 2), length == Int(prefix) { return .framed(.rfc4571) }
        }
        if ByteCursor.getUInt8(bytes, at: 0) == 0x16, ByteCursor.getUInt8(bytes, at: 1) == 0x03 { return .framed(.tls) }
        return .ignored
    }

    /// Keeps flow count and buffered bytes under their caps by dropping the least recently seen streams.
    private mutating func enforceCaps() {
        guard streams.count > Limits.tcpFlows || totalBuffered > Limits.tcpBytesTotal else { return }
        // Evict an eighth at a time so the O(n) scan is amortised.
        let victims = streams.sorted { $0.value.lastSeen < $1.value.lastSeen }.prefix(max(1, streams.count / 8))
        for (key, stream) in victims {
            streams[key] = nil
            totalBuffered -= stream.buffered
            counters.evictedStreams += 1
        }
    }
}
