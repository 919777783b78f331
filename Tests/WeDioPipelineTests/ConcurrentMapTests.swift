import Synchronization
import Testing
import WeDioBasics

/// `concurrentMap` fills its result's slots from several threads: checked against the plain map, with results
/// that own memory (strings, arrays, a class) so that a slot written twice, skipped or left half-initialised
/// shows as a wrong value, a leak or a crash.
@Suite("Concurrent map")
struct ConcurrentMapTests {
    final class Counted: Sendable {
        static let alive = Atomic<Int>(0)
        let value: Int
        init(_ value: Int) {
            self.value = value
            Self.alive.add(1, ordering: .relaxed)
        }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }

    @Test("Same results in the same order as the plain map, at chunk edges and for counts under a chunk")
    func sameAsMap() {
        for (count, chunk) in [(0, 4), (1, 4), (4, 4), (5, 4), (31, 8), (32, 8), (33, 8), (1_000, 7), (7_000, 32), (10, 1)] {
            let expected = (0..<count).map { index in "item \(index)" + String(repeating: "x", count: index % 40) }
            let mapped = concurrentMap(count: count, chunk: chunk) { index in
                "item \(index)" + String(repeating: "x", count: index % 40)
            }
            #expect(mapped == expected, "count \(count), chunk \(chunk)")
        }
    }

    @Test("Every result made once and released with the array")
    func eachSlotOnce() {
        let before = Counted.alive.load(ordering: .relaxed)
        do {
            let mapped = concurrentMap(count: 5_000, chunk: 16) { index in [Counted(index), Counted(-index)] }
            #expect(mapped.count == 5_000)
            #expect(mapped.enumerated().allSatisfy { $0.element.map(\.value) == [$0.offset, -$0.offset] })
            withExtendedLifetime(mapped) {
                #expect(Counted.alive.load(ordering: .relaxed) - before == 10_000)
            }
        }
        #expect(Counted.alive.load(ordering: .relaxed) == before)
    }
}
