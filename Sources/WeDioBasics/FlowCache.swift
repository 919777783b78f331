import CPrefetch

/// A set-associative set of flows (direction-independent) for per-packet membership tests: one
/// multiply-mix hash and a look at one set of four slots (32 bytes of keys), no SipHash and no
/// allocation per packet. A set keeps its keys in order of last insertion, the latest first: a new flow
/// landing in a full set replaces the one inserted (or re-inserted) longest ago, counted in
/// `replacements`. Memory is fixed whatever the traffic, and a flow that keeps carrying STUN (consent
/// checks, TURN refreshes) is not the one forgotten. A forgotten flow is remembered again at its next STUN
/// message. (The order was once kept by a separate array of time stamps: a second cache line to miss per
/// packet, which on a server's capture cost more than all the rest of the look-up.)
public struct FlowCache: Sendable {
    /// The slots in chunks of `chunkSize`, each allocated when a flow first lands in it: a short capture
    /// touches a few of them instead of zeroing the whole table (a megabyte, most of a small file's cost).
    /// A set's four slots are always in one chunk.
    @usableFromInline var chunks: [[UInt64]] = []
    @usableFromInline let setMask: Int
    /// Words per set: four keys, then (with values) the four keys' values in the same order.
    @usableFromInline let setWords: Int
    public private(set) var replacements = 0
    public private(set) var count = 0
    @usableFromInline static let ways = 4
    @usableFromInline static let chunkShift = 12
    @usableFromInline static let chunkSize = 1 << chunkShift

    /// `capacity` (slots) is rounded up to a power of two, at least one set. With `values`, each flow has a
    /// 64-bit value beside its key, in the set's own cache line (what a caller would otherwise find through
    /// a second table); a flow newly inserted has the value 0.
    public init(capacity: Int, values: Bool = false) {
        var size = Self.ways
        while size < capacity { size <<= 1 }
        setMask = size / Self.ways - 1
        setWords = values ? 2 * Self.ways : Self.ways
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
        let first = (Int(truncatingIfNeeded: key) & setMask) * setWords
        let chunk = first >> Self.chunkShift
        guard !chunks[chunk].isEmpty else { return false }
        let slot = first & (Self.chunkSize - 1)
        return chunks[chunk][slot] == key || chunks[chunk][slot + 1] == key || chunks[chunk][slot + 2] == key
            || chunks[chunk][slot + 3] == key
    }

    /// Starts bringing the set of the flow whose `key` the caller worked out (`key(_:)`) into cache, a message
    /// or two before it is looked up: the set is read without waiting, so the look-up finds it there instead
    /// of stalling on memory.
    @inlinable
    public func prefetch(key: UInt64) {
        guard !chunks.isEmpty else { return }
        let first = (Int(truncatingIfNeeded: key) & setMask) * setWords
        let chunk = first >> Self.chunkShift
        let slot = first & (Self.chunkSize - 1)
        let width = setWords
        // The chunk's storage address is read as a plain word from the outer array: going through the chunk
        // array itself retained and released it for every prefetch. Elements start 32 bytes into a native
        // array's storage (its object header, count and capacity before them); were that ever different, the
        // hint would name the wrong line and nothing else would change.
        unsafe chunks.withUnsafeBufferPointer { outer in
            guard outer.indices.contains(chunk), let base = outer.baseAddress else { return }
            let storage = unsafe UnsafeRawPointer(base).load(fromByteOffset: chunk * MemoryLayout<UInt>.stride, as: UInt.self)
            guard let set = unsafe UnsafeRawPointer(bitPattern: storage &+ 32 &+ UInt(slot) &* 8) else { return }
            // A set with values is 64 bytes, not aligned to a line: both lines it may span.
            unsafe wedio_prefetch_for_writing(set)
            unsafe wedio_prefetch_for_writing(set + (width - 1) * 8)
        }
    }

    /// Inserts `flow` (or refreshes it): it moves to the front of its set. Returns whether it was there.
    @discardableResult
    public mutating func insert(_ flow: FiveTuple) -> Bool {
        insertPlacing(key: Self.key(flow)).known
    }

    /// `insert` for a flow whose `key` the caller worked out (`key(_:)`; never 0).
    @discardableResult
    public mutating func insert(key: UInt64) -> Bool {
        insertPlacing(key: key).known
    }

    /// Inserts `flow` (or refreshes it) and says where its value is: valid for `value(at:)` and
    /// `setValue(_:at:)` (of a cache made with `values`) until the next insertion.
    public mutating func insertPlacing(_ flow: FiveTuple) -> (known: Bool, place: Int) {
        insertPlacing(key: Self.key(flow))
    }

    /// `insertPlacing` for a flow whose `key` the caller worked out (`key(_:)`; never 0).
    public mutating func insertPlacing(key: UInt64) -> (known: Bool, place: Int) {
        let words = (setMask + 1) * setWords
        if chunks.isEmpty { chunks = Array(repeating: [], count: max(1, words >> Self.chunkShift)) }
        let first = (Int(truncatingIfNeeded: key) & setMask) * setWords
        let chunk = first >> Self.chunkShift
        if chunks[chunk].isEmpty { chunks[chunk] = Array(repeating: 0, count: min(Self.chunkSize, words)) }
        let slot = first & (Self.chunkSize - 1)
        let width = setWords
        // The set read once and written back only as far as it changes, through one buffer: element by element
        // each write checked both arrays' uniqueness and bounds, up to sixteen times an insertion with values.
        let outcome = unsafe chunks[chunk].withUnsafeMutableBufferPointer { buffer -> Insertion in
            guard slot >= 0, slot + width <= buffer.count, let base = buffer.baseAddress else { return .unplaced }
            let set = unsafe base + slot
            let (k0, k1, k2, k3) = unsafe (set[0], set[1], set[2], set[3])
            if k0 == key { return .known }
            let hasValues = width > Self.ways
            let result: Insertion
            if k1 == key {
                result = .known
                if hasValues { unsafe (set[4], set[5]) = unsafe (set[5], set[4]) }
            } else if k2 == key {
                result = .known
                unsafe set[2] = k1
                if hasValues { unsafe (set[4], set[5], set[6]) = unsafe (set[6], set[4], set[5]) }
            } else {
                result = k3 == key ? .known : k3 == 0 ? .added : .replaced
                unsafe set[3] = k2
                unsafe set[2] = k1
                if hasValues { unsafe (set[4], set[5], set[6], set[7]) = unsafe (result == .known ? set[7] : 0, set[4], set[5], set[6]) }
            }
            unsafe set[1] = k0
            unsafe set[0] = key
            return result
        }
        switch outcome {
        case .added: count += 1
        case .replaced: replacements += 1
        case .known, .unplaced: break
        }
        return (outcome == .known, first)
    }

    private enum Insertion { case known, added, replaced, unplaced }

    /// The value of the flow `insertPlacing` placed at `place`.
    public func value(at place: Int) -> UInt64 {
        guard let (chunk, word) = valueWord(place) else { return 0 }
        return chunks[chunk][word]
    }

    public mutating func setValue(_ value: UInt64, at place: Int) {
        guard let (chunk, word) = valueWord(place) else { return }
        chunks[chunk][word] = value
    }

    /// Where the value of the flow at the front of the set at `place` is; nil without values or out of range.
    private func valueWord(_ place: Int) -> (chunk: Int, word: Int)? {
        let (chunk, word) = (place >> Self.chunkShift, (place & (Self.chunkSize - 1)) + Self.ways)
        guard setWords > Self.ways, chunks.indices.contains(chunk), chunks[chunk].indices.contains(word) else { return nil }
        return (chunk, word)
    }
}
