import WeDioBasics

/// Reassembles fragmented IPv4 and IPv6 datagrams (RFC 791, RFC 8200 §4.5) with bounded buffers.
/// Overlapping fragments keep the bytes that arrived first (and are counted: overlaps are an evasion
/// technique). Incomplete datagrams expire after `Limits.fragmentTimeoutNanoseconds` of capture time.
public struct FragmentReassembler: Sendable {
    struct Key: Hashable, Sendable {
        var source: IPAddress
        var destination: IPAddress
        var upperProtocol: UInt8
        var identification: UInt32
    }

    struct Piece: Sendable {
        var offset: Int
        var bytes: [UInt8]
        var end: Int { offset + bytes.count }
    }

    struct Datagram: Sendable {
        var firstSeen: CaptureTime
        var pieces: [Piece] = []
        /// Known once the last fragment (MF = 0) arrived.
        var totalLength: Int?
        var bufferedBytes = 0
    }

    /// What happened to one fragment.
    public enum Outcome: Sendable {
        /// Stored; the datagram is not complete yet.
        case pending
        /// The datagram is complete: the reassembled upper-layer bytes.
        case complete([UInt8])
        /// Dropped, with the reason (overlap is reported but the fragment may still have been stored).
        case dropped(DiagnosticReason, String)
    }

    private var datagrams: [Key: Datagram] = [:]
    private var bufferedBytes = 0
    private var lastSweep = CaptureTime(nanoseconds: 0)

    public private(set) var overlaps = 0
    public private(set) var timedOut = 0
    public private(set) var evicted = 0
    public private(set) var reassembled = 0

    public init() {}

    public var datagramsInFlight: Int { datagrams.count }
    /// Bytes held for incomplete datagrams (always the sum over them).
    public var bytesInFlight: Int { bufferedBytes }

    public mutating func add(
        _ packet: IPPacket, fragment: FragmentInfo, payload: borrowing Span<UInt8>, at time: CaptureTime
    ) -> Outcome {
        expire(now: time)
        let key = Key(
            source: packet.source, destination: packet.destination, upperProtocol: packet.upperProtocol,
            identification: fragment.identification)
        let length = packet.payload.count
        guard fragment.offset + length <= Limits.fragmentDatagramBytes else {
            // The whole datagram goes, and with it the bytes it held.
            if let dropped = datagrams.removeValue(forKey: key) { bufferedBytes -= dropped.bufferedBytes }
            return .dropped(.malformedIP, "fragment ends at \(fragment.offset + length), past 65535")
        }
        if fragment.moreFragments && length % 8 != 0 {
            return .dropped(.malformedIP, "non-final fragment length \(length) is not a multiple of 8")
        }
        var datagram = datagrams.removeValue(forKey: key) ?? Datagram(firstSeen: time)
        guard datagram.pieces.count < Limits.fragmentsPerDatagram else {
            evicted += 1
            bufferedBytes -= datagram.bufferedBytes
            return .dropped(.fragmentEvicted, "more than \(Limits.fragmentsPerDatagram) fragments in one datagram")
        }
        if !fragment.moreFragments {
            if let known = datagram.totalLength, known != fragment.offset + length {
                bufferedBytes -= datagram.bufferedBytes
                return .dropped(.malformedIP, "two last fragments disagree on the datagram length")
            }
            datagram.totalLength = fragment.offset + length
        }
        // Trim the new piece against what is already held (first arrival wins).
        var start = fragment.offset
        var end = fragment.offset + length
        var overlapped = false
        for piece in datagram.pieces where piece.offset < end && start < piece.end {
            overlapped = true
            if piece.offset <= start { start = max(start, piece.end) }
            if piece.end >= end { end = min(end, piece.offset) }
        }
        if overlapped { overlaps += 1 }
        if start < end {
            // A middle overlap (the new piece surrounds an old one) keeps only the front part; the hole is
            // refilled by retransmission or the datagram times out. Rare and always reported.
            var bytes: [UInt8] = []
            bytes.reserveCapacity(end - start)
            let base = packet.payload.lowerBound - fragment.offset
            for index in start..<end {
                let at = base + index
                guard at >= 0, at < payload.count else { break }
                bytes.append(payload[at])
            }
            let piece = Piece(offset: start, bytes: bytes)
            datagram.bufferedBytes += bytes.count
            bufferedBytes += bytes.count
            let insertAt = datagram.pieces.firstIndex { $0.offset > start } ?? datagram.pieces.count
            datagram.pieces.insert(piece, at: insertAt)
        }
        if let total = datagram.totalLength, Self.isComplete(datagram.pieces, total: total) {
            bufferedBytes -= datagram.bufferedBytes
            reassembled += 1
            var out: [UInt8] = []
            out.reserveCapacity(total)
            for piece in datagram.pieces { out.append(contentsOf: piece.bytes) }
            return .complete(out)
        }
        datagrams[key] = datagram
        enforceCaps()
        return overlapped ? .dropped(.fragmentOverlap, "overlapping IP fragment (first arrival kept)") : .pending
    }

    private static func isComplete(_ pieces: [Piece], total: Int) -> Bool {
        var covered = 0
        for piece in pieces {
            guard piece.offset <= covered else { return false }
            covered = max(covered, piece.end)
        }
        return covered >= total
    }

    /// Drops datagrams older than the timeout. Sweeps at most once per capture second.
    public mutating func expire(now: CaptureTime) {
        guard now.nanoseconds - lastSweep.nanoseconds >= 1_000_000_000 else { return }
        lastSweep = now
        let deadline = now.nanoseconds - Limits.fragmentTimeoutNanoseconds
        let stale = datagrams.filter { $0.value.firstSeen.nanoseconds < deadline }
        for (key, datagram) in stale {
            datagrams[key] = nil
            bufferedBytes -= datagram.bufferedBytes
            timedOut += 1
        }
    }

    private mutating func enforceCaps() {
        while datagrams.count > Limits.fragmentDatagramsInFlight || bufferedBytes > Limits.fragmentBytesTotal {
            guard let oldest = datagrams.min(by: { $0.value.firstSeen < $1.value.firstSeen }) else { return }
            datagrams[oldest.key] = nil
            bufferedBytes -= oldest.value.bufferedBytes
            evicted += 1
        }
    }
}
