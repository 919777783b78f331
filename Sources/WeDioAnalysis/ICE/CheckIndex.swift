import CPrefetch
import WeDioBasics
import WeDioSTUN

/// Transaction id → place of its check in the ICE tracker's list, which only grows (up to `Limits.iceChecks`)
/// or is rebuilt whole. Open addressing over 16-byte entries that hold the id itself (an RFC 5389+ id is 96
/// bits: 64 and 32, the place in the remaining 32), so a look-up compares ids exactly in the one line it reads,
/// and that line can be prefetched a few messages ahead (`prefetch`), which a Swift Dictionary's bucket cannot:
/// on a server's capture, answers to 100 000 checks in a table of megabytes, that look-up was a cache miss
/// per answer. Classic (RFC 3489) ids are 128 bits and rare: they go to a Dictionary beside it.
/// The slot is chosen by a hash keyed per process, so ids crafted in a capture cannot be aimed at one run of
/// slots; the table is kept at most half full, so every probe sequence ends at an empty slot.
struct CheckIndex: Sendable {
    private struct Entry: Sendable {
        var low: UInt64 = 0
        var high: UInt32 = 0
        /// The check's place + 1; 0 marks an empty slot.
        var place: Int32 = 0
    }

    private var entries: [Entry] = []
    private var used = 0
    private var classic: [TransactionID: Int] = [:]
    private let seed: UInt64

    init() {
        var generator = SystemRandomNumberGenerator()
        seed = generator.next()
    }

    private static func words(_ id: TransactionID) -> (low: UInt64, high: UInt32) {
        (UInt64(truncatingIfNeeded: id.value), UInt32(truncatingIfNeeded: id.value >> 64))
    }

    private func start(_ low: UInt64, _ high: UInt32) -> Int {
        Int(truncatingIfNeeded: WordHash.mix(low ^ seed ^ (UInt64(high) &* 0x9E37_79B9_7F4A_7C15))) & (entries.count - 1)
    }

    /// Starts bringing the line where `id`'s look-up begins into cache.
    func prefetch(_ id: TransactionID) {
        guard !id.isClassic, !entries.isEmpty else { return }
        let (low, high) = Self.words(id)
        let slot = start(low, high)
        unsafe entries.withUnsafeBufferPointer { buffer in
            guard buffer.indices.contains(slot), let base = buffer.baseAddress else { return }
            unsafe wedio_prefetch(base + slot)
        }
    }

    /// Where the probe for an id ends: the slot holding it, or else the first empty slot (nil: no table). The
    /// table is never more than half full, so an empty slot is always met.
    private func slot(_ low: UInt64, _ high: UInt32) -> Int? {
        guard !entries.isEmpty else { return nil }
        var slot = start(low, high)
        for _ in 0..<entries.count {
            let entry = entries[slot]
            if entry.place == 0 || (entry.low == low && entry.high == high) { return slot }
            slot = (slot + 1) & (entries.count - 1)
        }
        return nil
    }

    /// The place of the check made for `id`, if any.
    subscript(id: TransactionID) -> Int? {
        if id.isClassic { return classic[id] }
        let (low, high) = Self.words(id)
        guard let slot = slot(low, high), entries[slot].place != 0 else { return nil }
        return Int(entries[slot].place) - 1
    }

    /// Records `place` for `id` unless `id` has one already; returns the one it had (then nothing changes).
    mutating func insertIfAbsent(_ id: TransactionID, place: Int) -> Int? {
        if id.isClassic {
            if let earlier = classic[id] { return earlier }
            classic[id] = place
            return nil
        }
        guard place >= 0, place < Int(Int32.max) else { return nil }
        if (used + 1) * 2 > entries.count { grow(to: max(1_024, entries.count * 2)) }
        let (low, high) = Self.words(id)
        guard let slot = slot(low, high) else { return nil }
        if entries[slot].place != 0 { return Int(entries[slot].place) - 1 }
        entries[slot] = Entry(low: low, high: high, place: Int32(place + 1))
        used += 1
        return nil
    }

    /// Makes room for `count` ids without growing again.
    mutating func reserveCapacity(_ count: Int) {
        var size = max(1_024, entries.count)
        while size < count * 2 { size *= 2 }
        if size > entries.count { grow(to: size) }
    }

    private mutating func grow(to size: Int) {
        let old = entries
        entries = Array(repeating: Entry(), count: size)
        used = 0
        for entry in old where entry.place != 0 { place(entry) }
    }

    /// Puts an entry known to be absent into the first empty slot of its probe sequence.
    private mutating func place(_ entry: Entry) {
        guard let slot = slot(entry.low, entry.high), entries[slot].place == 0 else { return }
        entries[slot] = entry
        used += 1
    }

    /// The same ids at the places `newPlace` gives their checks (the list was compacted); those given no place
    /// (negative, or out of its range) are dropped.
    func remapped(_ newPlace: [Int]) -> CheckIndex {
        var result = CheckIndex(seed: seed)
        func mapped(_ place: Int) -> Int? { newPlace.indices.contains(place) && newPlace[place] >= 0 ? newPlace[place] : nil }
        result.classic = classic.compactMapValues(mapped)
        result.reserveCapacity(used)
        for entry in entries where entry.place != 0 {
            guard let place = mapped(Int(entry.place) - 1) else { continue }
            result.place(Entry(low: entry.low, high: entry.high, place: Int32(place + 1)))
        }
        return result
    }

    private init(seed: UInt64) {
        self.seed = seed
    }
}
