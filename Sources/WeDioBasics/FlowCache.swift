/// A direct-mapped set of flows (direction-independent) for per-packet membership tests: one multiply-mix
/// hash and one array probe, no SipHash and no allocation. A new flow landing on an occupied slot replaces
/// the old one (counted in `replacements`), so memory is fixed whatever the traffic; a forgotten STUN flow
/// is remembered again at its next STUN message.
public struct FlowCache: Sendable {
    /// The slots in chunks of `chunkSize`, each allocated when a flow first lands in it: a short capture
    /// touches a few of them instead of zeroing the whole table (a megabyte, most of a small file's cost).
    /// The slot a flow takes is the same as in one flat array.
    @usableFromInline var chunks: [[UInt64]] = []
    @usableFromInline let mask: Int
    public private(set) var replacements = 0
    public private(set) var count = 0
    @usableFromInline static let chunkShift = 12
    @usableFromInline static let chunkSize = 1 << chunkShift

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        var size = 1
        while size < max(2, capacity) { size <<= 1 }
        mask = size - 1
    }

    /// A 64-bit key for the flow, the same in both directions; never 0 (0 marks an empty slot).
    @inlinable
    public static func key(_ flow: FiveTuple) -> UInt64 {
        let a = endpointHash(flow.source)
        let b = endpointHash(flow.destination)
        let combined = (a ^ b) &+ (a &* b) &+ (flow.transport == .udp ? 0x9E37_79B9 : 0x7F4A_7C15)
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
        // splitmix64 finaliser
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    @inlinable @inline(__always)
    public func contains(_ flow: FiveTuple) -> Bool {
        guard !chunks.isEmpty else { return false }
        let key = Self.key(flow)
        let index = Int(truncatingIfNeeded: key) & mask
        let chunk = index >> Self.chunkShift
        guard !chunks[chunk].isEmpty else { return false }
        return chunks[chunk][index & (Self.chunkSize - 1)] == key
    }

    public mutating func insert(_ flow: FiveTuple) {
        if chunks.isEmpty { chunks = Array(repeating: [], count: max(1, (mask + 1) >> Self.chunkShift)) }
        let key = Self.key(flow)
        let index = Int(truncatingIfNeeded: key) & mask
        let chunk = index >> Self.chunkShift
        if chunks[chunk].isEmpty { chunks[chunk] = Array(repeating: 0, count: min(Self.chunkSize, mask + 1)) }
        let slot = index & (Self.chunkSize - 1)
        let current = chunks[chunk][slot]
        if current == key { return }
        if current == 0 { count += 1 } else { replacements += 1 }
        chunks[chunk][slot] = key
    }
}
