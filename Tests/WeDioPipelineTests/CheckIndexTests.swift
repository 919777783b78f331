import Testing
import WeDioSTUN
import WeDioTestSupport

@testable import WeDioAnalysis

@Suite("ICE check index (transaction id → check)")
struct CheckIndexTests {
    /// An id from a small pool (so that ids repeat, as retransmissions do), classic one time in eight.
    static func id(_ random: inout SeededGenerator) -> TransactionID {
        let pick = UInt128(UInt64.random(in: 0..<60_000, using: &random))
        // Ids that differ only in their high 32 bits must not be confused either.
        let value = pick & 1 == 0 ? pick : pick << 64 | 0xABCD
        return TransactionID(value: value | (pick % 8 == 0 ? UInt128(0xFEED) << 100 : 0), isClassic: pick % 8 == 0)
    }

    @Test("Answers exactly as a Dictionary through growth, repeats, classic ids and a compaction")
    func matchesDictionary() {
        var random = SeededGenerator(seed: 8_445)
        var index = CheckIndex()
        var oracle: [TransactionID: Int] = [:]
        var places = 0
        for _ in 0..<120_000 {
            let id = Self.id(&random)
            let earlier = index.insertIfAbsent(id, place: places)
            #expect(earlier == oracle[id], "insert \(id)")
            if oracle[id] == nil {
                oracle[id] = places
                places += 1
            }
        }
        #expect(places > 50_000)  // most inserts were new, some repeated
        var mismatches = 0
        for _ in 0..<100_000 {
            let id = Self.id(&random)
            if index[id] != oracle[id] { mismatches += 1 }
        }
        #expect(mismatches == 0)
        // Compaction: every third check dropped, the rest moved down.
        var newPlace: [Int] = []
        var kept = 0
        for place in 0..<places {
            if place % 3 == 1 {
                newPlace.append(-1)
            } else {
                newPlace.append(kept)
                kept += 1
            }
        }
        let compacted = index.remapped(newPlace)
        let expected = oracle.compactMapValues { newPlace[$0] >= 0 ? newPlace[$0] : nil }
        for id in oracle.keys where compacted[id] != expected[id] { mismatches += 1 }
        #expect(mismatches == 0)
        #expect(expected.count < oracle.count)
        // An id never inserted (outside the pool) is absent before and after.
        let stranger = TransactionID(value: UInt128(1) << 90 | 7, isClassic: false)
        #expect(index[stranger] == nil && compacted[stranger] == nil)
    }
}
