import WeDioBasics

/// One RTP stream: one SSRC in one direction of one flow (as tshark's `rtp,streams` counts them). The RTP
/// header stays in clear under SRTP (RFC 3711 §3.1), so all of this is read without keys. Memory is fixed
/// per stream: counters, a 64-packet window for duplicates and reordering, at most `Limits.gapsPerStream`
/// silences.
public struct RTPStream: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable {
        case media
        /// RFC 4588 retransmission (`rtx` in the SDP).
        case retransmission
        /// RED, ULPFEC, FlexFEC.
        case forwardErrorCorrection = "fec"
        /// telephone-event, comfort noise.
        case signalling
    }

    /// Where the clock rate came from: the SDP's `a=rtpmap`, RFC 3551's static payload types, or the stream's
    /// own RTP timestamps against arrival times (snapped to a usual rate).
    public enum ClockSource: String, Sendable, Hashable {
        case signalled
        case staticPayloadType = "static"
        case inferred
    }

    /// A time the stream carried nothing for longer than `MediaTable.silenceThreshold`.
    public struct Gap: Sendable, Hashable {
        public var start: CaptureTime
        public var end: CaptureTime
        public var milliseconds: Double { end.milliseconds(since: start) }
    }

    /// The flow as the packets travelled (source: the sender).
    public var flow: FiveTuple
    /// Index of the flow in `MediaTable.flows`, and the direction there (0: the flow's first direction).
    public var flowIndex: Int
    public var direction: Int
    public var ssrc: UInt32
    public var throughTURN = false
    /// Bit n set: payload type n seen.
    public var payloadTypes: UInt128 = 0
    /// The first payload type's codec as signalled (or a static type's name); nil when unknown.
    public var codec: String?
    public var role = Role.media
    public var packets = 0
    /// UDP payload bytes (RTP header included).
    public var bytes = 0
    public var markers = 0
    public var duplicates = 0
    /// Packets that arrived after a later sequence number (not duplicates).
    public var reordered = 0
    public var firstTime: CaptureTime
    public var lastTime: CaptureTime
    public var clockRate: Int?
    public var clockSource: ClockSource?
    /// RFC 3550 §6.4.1 interarrival jitter, in RTP timestamp units (0 until the clock rate is known).
    public private(set) var jitter = 0.0
    public private(set) var maxJitter = 0.0
    public var gaps: [Gap] = []
    public var gapsDropped = 0

    // Sequence numbers extended to 64 bits (RFC 3550 A.1): the first, the highest, and which of the 64 below
    // the highest have arrived (bit i: highest - i).
    private var baseSequence: Int64 = 0
    private var highestSequence: Int64 = 0
    private var recent: UInt64 = 1
    // RTP timestamps extended the same way, and the previous packet's transit time (timestamp units).
    private var firstArrival: CaptureTime
    private var lastTimestamp: UInt32
    private var extendedTimestamp: Int64 = 0
    private var lastTransit: Double?
    /// The clock rate per nanosecond of arrival time, worked out once.
    private var ticksPerNanosecond = 0.0

    public var payloadTypeList: [Int] { Self.payloadTypes(in: payloadTypes) }
    /// Packets expected from the sequence numbers (highest - first + 1).
    public var expected: Int { Int(highestSequence - baseSequence + 1) }
    /// Expected minus received, as RFC 3550 A.3 and tshark count it (duplicates make it smaller).
    public var lost: Int { expected - packets }
    public var jitterMilliseconds: Double? { clockRate.map { jitter * 1_000 / Double($0) } }
    public var maxJitterMilliseconds: Double? { clockRate.map { maxJitter * 1_000 / Double($0) } }
    public var durationMilliseconds: Double { lastTime.milliseconds(since: firstTime) }
    /// Mean bitrate over the stream's life, kbit/s (nil under half a second: two packets close together
    /// would read as a huge rate).
    public var kilobitsPerSecond: Double? {
        let seconds = durationMilliseconds / 1_000
        return seconds >= 0.5 ? Double(bytes) * 8 / seconds / 1_000 : nil
    }

    init(flow: FiveTuple, flowIndex: Int, direction: Int, ssrc: UInt32, sequence: UInt16, timestamp: UInt32, time: CaptureTime) {
        self.flow = flow
        self.flowIndex = flowIndex
        self.direction = direction
        self.ssrc = ssrc
        firstTime = time
        lastTime = time
        firstArrival = time
        lastTimestamp = timestamp
        baseSequence = Int64(sequence)
        highestSequence = Int64(sequence) - 1
        recent = 0
    }

    /// The payload types of a set kept as bits (bit n: type n), in order.
    static func payloadTypes(in bits: UInt128) -> [Int] { (0..<128).filter { bits & (UInt128(1) << UInt128($0)) != 0 } }

    /// Rates a stream's timestamps are snapped to when inferred.
    static let usualClockRates = [8_000, 16_000, 24_000, 32_000, 44_100, 48_000, 90_000]

    /// One packet: sequence number, RTP timestamp, marker bit, payload type, its size and arrival time.
    mutating func record(sequence: UInt16, timestamp: UInt32, marker: Bool, payloadType: UInt8, length: Int, time: CaptureTime) {
        if packets > 0, time.nanoseconds - lastTime.nanoseconds >= MediaTable.silenceNanoseconds {
            if gaps.count < Limits.gapsPerStream { gaps.append(Gap(start: lastTime, end: time)) } else { gapsDropped += 1 }
        }
        packets += 1
        bytes += length
        if marker { markers += 1 }
        payloadTypes |= UInt128(1) << UInt128(payloadType & 0x7F)
        if time > lastTime { lastTime = time }

        // The sequence number extended next to the highest so far.
        var extended = (highestSequence & ~0xFFFF) | Int64(sequence)
        if extended - highestSequence > 32_768 { extended -= 65_536 } else if highestSequence - extended > 32_768 { extended += 65_536 }
        if extended > highestSequence {
            let shift = extended - highestSequence
            recent = shift >= 64 ? 1 : (recent << UInt64(shift)) | 1
            highestSequence = extended
        } else {
            let behind = highestSequence - extended
            if behind < 64 && recent & (UInt64(1) << UInt64(behind)) != 0 {
                duplicates += 1
                return
            }
            if behind < 64 { recent |= UInt64(1) << UInt64(behind) }
            if extended < baseSequence { baseSequence = extended }
            reordered += 1
        }

        // RTP timestamps extended by their signed difference from the previous packet's.
        extendedTimestamp += Int64(Int32(bitPattern: timestamp &- lastTimestamp))
        lastTimestamp = timestamp
        if clockRate == nil {
            inferClockRate(time: time)
            guard clockRate != nil else { return }
        }
        // Arrival and timestamp both relative to the first packet, in timestamp units (RFC 3550 §6.4.1: each
        // packet against the previous one in order of arrival, late ones included; duplicates are not new data).
        let arrival = Double(time.nanoseconds - firstArrival.nanoseconds) * ticksPerNanosecond
        let transit = arrival - Double(extendedTimestamp)
        if let previous = lastTransit {
            jitter += (abs(transit - previous) - jitter) / 16
            if jitter > maxJitter { maxJitter = jitter }
        }
        lastTransit = transit
    }

    /// After a second of packets: the timestamp rate against arrival, snapped to the nearest usual rate when
    /// within 15 % of it (a video stream's frames, an audio stream's 20 ms packets both give it).
    private mutating func inferClockRate(time: CaptureTime) {
        let elapsed = time.milliseconds(since: firstArrival)
        guard elapsed >= 1_000, packets >= 10, extendedTimestamp > 0 else { return }
        let measured = Double(extendedTimestamp) * 1_000 / elapsed
        guard let nearest = Self.usualClockRates.min(by: { abs(Double($0) - measured) < abs(Double($1) - measured) }),
            abs(Double(nearest) - measured) <= 0.15 * Double(nearest)
        else { return }
        clockRate = nearest
        clockSource = .inferred
        ticksPerNanosecond = Double(nearest) / 1_000_000_000
        // Jitter from here on: earlier transits were measured at no rate.
        firstArrival = time
        extendedTimestamp = 0
        lastTransit = nil
    }

    /// Sets the clock rate from the SDP or a static payload type, before any jitter is computed.
    mutating func assignClock(rate: Int, source: ClockSource) {
        clockRate = rate
        clockSource = source
        ticksPerNanosecond = Double(rate) / 1_000_000_000
    }
}

/// Bytes per time bin for one direction of a flow, in fixed memory: at most `Limits.bitrateBins` bins; when
/// full, neighbouring bins are merged and the bin doubles in length (a 1 s bin for a 8-minute call, 2 s up
/// to 17 minutes, …).
public struct BitrateSeries: Sendable, Hashable {
    public private(set) var start: CaptureTime?
    public private(set) var binMilliseconds: Int64 = 1_000
    public private(set) var bins: [Int] = []

    public init() {}

    /// The bin the last packet went into, and where it ends: most packets land in it without a division.
    private var currentBinEnd: Int64 = 0

    public mutating func add(_ bytes: Int, at time: CaptureTime) {
        if time.nanoseconds < currentBinEnd, let last = bins.indices.last,
            time.nanoseconds >= currentBinEnd - binMilliseconds * 1_000_000
        {
            bins[last] += bytes
            return
        }
        defer {
            if let start, !bins.isEmpty {
                currentBinEnd = start.nanoseconds + Int64(bins.count) * binMilliseconds * 1_000_000
            }
        }
        guard let start else {
            self.start = time
            bins = [bytes]
            return
        }
        guard time >= start else {
            bins[0] += bytes
            return
        }
        var index = Int((time.nanoseconds - start.nanoseconds) / (binMilliseconds * 1_000_000))
        while index >= Limits.bitrateBins {
            var merged: [Int] = []
            merged.reserveCapacity(Limits.bitrateBins)
            var position = 0
            while position < bins.count {
                merged.append(bins[position] + (position + 1 < bins.count ? bins[position + 1] : 0))
                position += 2
            }
            bins = merged
            binMilliseconds *= 2
            index = Int((time.nanoseconds - start.nanoseconds) / (binMilliseconds * 1_000_000))
        }
        if index >= bins.count { bins.append(contentsOf: repeatElement(0, count: index - bins.count + 1)) }
        bins[index] += bytes
    }

    /// kbit/s of each bin.
    public var kilobitsPerSecond: [Double] {
        bins.map { Double($0) * 8 / Double(binMilliseconds) }
    }
}

/// A stream as reported: where it was seen, the ICE session whose pair carried it, and its RTCP.
public struct MediaStreamSummary: Sendable, Hashable {
    public var stream: RTPStream
    public var vantage: String
    /// The ICE session with a candidate pair on this stream's flow; nil when no check was seen on it.
    public var session: String?
    /// RTCP packets from the same SSRC in the same direction.
    public var rtcpPackets: Int
}

/// Two directions' bitrate series on one time axis (the earlier start, the coarser bin), in kbit/s: what a
/// chart of a pair's media draws.
public struct BitrateAxis: Sendable {
    public var start: CaptureTime?
    public var binMilliseconds: Int64
    public var first: [Double]
    public var second: [Double]

    public init(_ a: BitrateSeries, _ b: BitrateSeries) {
        let starts = [a.start, b.start].compactMap { $0 }
        start = starts.min()
        binMilliseconds = max(a.binMilliseconds, b.binMilliseconds)
        let origin = start
        let bin = binMilliseconds
        func rebin(_ series: BitrateSeries) -> [Double] {
            guard let origin, let seriesStart = series.start else { return [] }
            var bytes: [Int] = []
            for (index, value) in series.bins.enumerated() where value > 0 {
                let offset = seriesStart.nanoseconds - origin.nanoseconds + Int64(index) * series.binMilliseconds * 1_000_000
                let target = Int(offset / (bin * 1_000_000))
                if target >= bytes.count { bytes.append(contentsOf: repeatElement(0, count: target - bytes.count + 1)) }
                bytes[target] += value
            }
            return bytes.map { Double($0) * 8 / Double(bin) }
        }
        first = rebin(a)
        second = rebin(b)
        let length = max(first.count, second.count)
        first += repeatElement(0, count: length - first.count)
        second += repeatElement(0, count: length - second.count)
    }
}
