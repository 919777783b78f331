/// Random inputs that can be replayed: SplitMix64 from a seed, `WEDIO_TEST_SEED` or a fixed default. Tests
/// print the seed with every failure, and the same seed gives the same bytes.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64? = nil) {
        let chosen = seed ?? Self.environmentSeed ?? 0x5745_4449_4F21  // "WEDIO!"
        self.seed = chosen
        state = chosen
    }

    /// `WEDIO_TEST_SEED` (decimal), to replay a failure.
    public static var environmentSeed: UInt64? {
        ProcessInfoLite.environment("WEDIO_TEST_SEED").flatMap { UInt64($0) }
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation

enum ProcessInfoLite {
    static func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
}
