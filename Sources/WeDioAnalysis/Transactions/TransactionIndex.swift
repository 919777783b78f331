import CPrefetch
import WeDioSTUN

/// Transaction id → slot of the tracker's list, for a list whose slots are reused (the ring of the latest).
/// An open-addressing table that never deletes: an entry is stale once its slot holds another id (the
/// index remembers each slot's id hash), and a later insert overwrites it; the table is rebuilt from the
/// slots when entries fill half of it. Under a flood this costs one probe per request where a Swift
/// Dictionary hashed twice (the insert, and the delete when the ring dropped the oldest).
/// The hash is keyed per process, so ids crafted in a capture cannot be aimed at one bucket; probes are
/// bounded, and an id that cannot be placed is left out (found as absent) rather than looping.
struct TransactionIndex: Sendable {
    private struct Entry: Sendable {
        /// 0: empty; otherwise the slot + 1.
        var slot: Int32 = 0
        /// The high half of the id's hash.
        var tag: UInt32 = 0
    }

    private var entries: [Entry] = []
    /// Starts small and doubles as the list fills, up to four entries per slot of the list: a short capture
    /// does not pay for zeroing half a megabyte.
    private var mask: Int
    private let maximumMask: Int
    private var occupied = 0
    /// The hash of the id each slot holds now.
    private var slotHashes: [UInt64] = []
    private let key0: UInt64
    private let key1: UInt64
    static let maximumProbes = 64

    /// `capacity`: the most slots the list has.
    init(capacity: Int) {
        var size = 16
        while size < capacity * 4 { size <<= 1 }
        maximumMask = size - 1
        mask = min(size, 1_024) - 1
        var generator = SystemRandomNumberGenerator()
        key0 = generator.next()
        key1 = generator.next()
    }

    private func hash(_ id: TransactionID) -> UInt64 {
        let low = UInt64(truncatingIfNeeded: id.value)
        let high = UInt64(truncatingIfNeeded: id.value >> 64) ^ (id.isClassic ? 0x9E37_79B9_7F4A_7C15 : 0)
        var mixed = (low ^ key0) &* 0xBF58_476D_1CE4_E5B9
        mixed ^= (mixed >> 29) ^ ((high ^ key1) &* 0x94D0_49BB_1331_11EB)
        mixed ^= mixed >> 31
        mixed = mixed &* 0xD6E8_FEB8_6659_FD93
        return mixed ^ (mixed >> 32)
    }

    @inline(__always)
    private func isCurrent(_ entry: Entry) -> Bool {
        let slot = Int(entry.slot) - 1
        return slotHashes.indices.contains(slot) && UInt32(truncatingIfNeeded: slotHashes[slot] >> 32) == entry.tag
    }

    /// Starts bringing the entry `id` hashes to into cache, ahead of its look-up.
    func prefetch(_ id: TransactionID) {
        let position = Int(truncatingIfNeeded: hash(id)) & mask
        unsafe entries.withUnsafeBufferPointer { buffer in
            guard buffer.indices.contains(position), let base = buffer.baseAddress else { return }
            unsafe wedio_prefetch(base + position)
        }
    }

    /// The slot holding `id`, if any; `holds(slot)` confirms the slot's transaction has this very id.
    func find(_ id: TransactionID, holds: (Int) -> Bool) -> Int? {
        guard !entries.isEmpty else { return nil }
        let hashed = hash(id)
        let tag = UInt32(truncatingIfNeeded: hashed >> 32)
        var position = Int(truncatingIfNeeded: hashed) & mask
        for _ in 0..<Self.maximumProbes {
            let entry = entries[position]
            if entry.slot == 0 { return nil }
            if entry.tag == tag, isCurrent(entry), holds(Int(entry.slot) - 1) { return Int(entry.slot) - 1 }
            position = (position + 1) & mask
        }
        return nil
    }

    /// Records that `slot` now holds `id` (the caller found it absent); whatever the slot held before is stale.
    mutating func insert(_ id: TransactionID, slot: Int) {
        if entries.isEmpty { entries = Array(repeating: Entry(), count: mask + 1) }
        let hashed = hash(id)
        if slot == slotHashes.count { slotHashes.append(hashed) } else if slotHashes.indices.contains(slot) { slotHashes[slot] = hashed }
        if occupied * 2 > mask { rebuild() }
        if !place(slot: slot, hashed: hashed) {
            rebuild()
            _ = place(slot: slot, hashed: hashed)
        }
    }

    private mutating func place(slot: Int, hashed: UInt64) -> Bool {
        let tag = UInt32(truncatingIfNeeded: hashed >> 32)
        var position = Int(truncatingIfNeeded: hashed) & mask
        for _ in 0..<Self.maximumProbes {
            let entry = entries[position]
            if entry.slot == 0 {
                occupied += 1
                entries[position] = Entry(slot: Int32(slot + 1), tag: tag)
                return true
            }
            if !isCurrent(entry) || Int(entry.slot) - 1 == slot {
                entries[position] = Entry(slot: Int32(slot + 1), tag: tag)
                return true
            }
            position = (position + 1) & mask
        }
        return false
    }

    /// Starts again from the slots' current ids only, in a table twice the size when they fill a quarter.
    private mutating func rebuild() {
        if slotHashes.count * 4 > mask && mask < maximumMask { mask = mask * 2 + 1 }
        entries = Array(repeating: Entry(), count: mask + 1)
        occupied = 0
        for (slot, hashed) in slotHashes.enumerated() { _ = place(slot: slot, hashed: hashed) }
    }
}
