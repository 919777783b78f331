/// A set-associative set of flows (direction-independent) for per-packet membership tests: one
/// multiply-mix hash and a look at one set of four slots (32 bytes of keys), no SipHash and no
/// allocation per packet. A new flow landing in a full set replaces the one of the four inserted (or
/// re-inserted) longest ago, counted in `replacements`: memory is fixed whatever the traffic, and a flow
/// that keeps carrying STUN (consent checks, TURN refreshes) is not the one forgotten. A forgotten flow is
/// remembered again at its next STUN message.
public struct FlowCache: Sendable {
    /// The slots in chunks of `chunkSize`, each allocated when a flow first lands in it: a short capture
    /// touches a few of them instead of zeroing the whole table (a megabyte, most of a small file's cost).
    /// A set's four slots are always in one chunk.
    @usableFromInline var chunks: [[UInt64]] = []
    /// When each slot was last inserted, by `clock`.
    private var stamps: [[UInt32]] = []
    @usableFromInline let setMask: Int
    private var clock: UInt32 = 0
    public private(set) var replacements = 0
    public private(set) var count = 0
    @usableFromInline static let ways = 4
    @usableFromInline static let chunkShift = 12
    @usableFromInline static let chunkSize = 1 << chunkShift

    /// `capacity` (slots) is rounded up to a power of two, at least one set.
    public init(capacity: Int) {
        var size = Self.ways
        while size < capacity { size <<= 1 }
        setMask = size / Self.ways - 1
    }

    /// A 64-bit key for the flow, the same in both directions; never 0 (0 marks an empty slot). The two
    /// endpoints' hashes are ordered, then mixed again: every bit of the key depends on both. (A sum of
    /// their XOR and product, symmetric too, left the low bits nearly constant: its lowest bit was always
    /// 1, and 200 000 flows to one server landed on 3 360 of 32 768 sets.)
    @inlinable
    public static func key(_ flow: FiveTuple) -> UInt64 {
        let a = endpointHash(flow.source)
        let b = endpointHash(flow.destination)
        let (low, high) = a < b ? (a, b) : (b, a)
        let combined = WordHash.mix(low ^ (high &* 0x9E37_79B9_7F4A_7C15) ^ (flow.transport == .udp ? 0 : 0x7F4A_7C15))
        return combined == 0 ? 1 : combined
    }

    @inlinable
    static func endpointHash(_ address: TransportAddress) -> UInt64 {
        var value: UInt64
        switch address.ip {
        case .v4(let v4): value = UInt64(v4)
        case .v6(let v6): value = UInt64(truncatingIfNeeded: v6) ^ UInt64(truncatingIfNeeded: v6 >> 64) &* 0x9E37_79B9_7F4A_7C15
        }
        value ^= UInt64(address.port) << 40
        return WordHash.mix(value)
    }

    @inlinable @inline(__always)
    public func contains(_ flow: FiveTuple) -> Bool {
        guard !chunks.isEmpty else { return false }
        let key = Self.key(flow)
        let first = (Int(truncatingIfNeeded: key) & setMask) * Self.ways
        let chunk = first >> Self.chunkShift
        guard !chunks[chunk].isEmpty else { return false }
        let slot = first & (Self.chunkSize - 1)
        return chunks[chunk][slot] == key || chunks[chunk][slot + 1] == key || chunks[chunk][slot + 2] == key
            || chunks[chunk][slot + 3] == key
    }

    /// Inserts `flow` (or refreshes it); returns whether it was there already.
    @discardableResult
    public mutating func insert(_ flow: FiveTuple) -> Bool {
        let slots = (setMask + 1) * Self.ways
        if chunks.isEmpty {
            let chunkCount = max(1, slots >> Self.chunkShift)
            chunks = Array(repeating: [], count: chunkCount)
            stamps = Array(repeating: [], count: chunkCount)
        }
        let key = Self.key(flow)
        let first = (Int(truncatingIfNeeded: key) & setMask) * Self.ways
        let chunk = first >> Self.chunkShift
        if chunks[chunk].isEmpty {
            chunks[chunk] = Array(repeating: 0, count: min(Self.chunkSize, slots))
            stamps[chunk] = Array(repeating: 0, count: min(Self.chunkSize, slots))
        }
        let slot = first & (Self.chunkSize - 1)
        clock &+= 1
        var victim = slot
        for way in slot..<(slot + Self.ways) {
            let current = chunks[chunk][way]
            if current == key {
                stamps[chunk][way] = clock
                return true
            }
            if current == 0 {
                chunks[chunk][way] = key
                stamps[chunk][way] = clock
                count += 1
                return false
            }
            // The oldest by age, which survives the clock wrapping.
            if clock &- stamps[chunk][way] > clock &- stamps[chunk][victim] { victim = way }
        }
        replacements += 1
        chunks[chunk][victim] = key
        stamps[chunk][victim] = clock
        return false
    }
}
