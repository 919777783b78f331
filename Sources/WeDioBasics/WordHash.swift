/// Bucket hashes for the keys every tracker looks up per message (transaction ids, addresses, agent pairs).
///
/// Swift's Dictionary and Set place a key by `_rawHashValue(seed:)`, which by default runs SipHash-1-3 over
/// whatever `hash(into:)` feeds it: a seeded hasher set up and finalised for every look-up, a fifth of a
/// server capture's analysis spread over the tables. A key that is one or two machine words can give its
/// bucket hash directly: the words mixed with the table's seed by splitmix64's finaliser, a bijection with
/// full avalanche. The seed is the table's own (random per process, as for SipHash), so a capture cannot be
/// crafted to pile its keys into one bucket without knowing it. `hash(into:)` is unchanged and still agrees
/// with equality; only the placement in hashed collections is cheaper.
public enum WordHash {
    @inlinable @inline(__always)
    public static func mix(_ input: UInt64) -> UInt64 {
        var value = (input ^ (input >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// One word's bucket hash in a table seeded with `seed`.
    @inlinable @inline(__always)
    public static func bucket(_ word: UInt64, seed: Int) -> Int {
        Int(truncatingIfNeeded: mix(word ^ UInt64(truncatingIfNeeded: seed)))
    }

    /// FNV-1a, for keys digested once from their bytes (a USERNAME, a pair of ufrags): start from
    /// `fnvOffsetBasis` and add each byte with `fnv`.
    @inlinable public static var fnvOffsetBasis: UInt64 { 0xCBF2_9CE4_8422_2325 }

    @inlinable @inline(__always)
    public static func fnv(_ digest: UInt64, _ byte: UInt8) -> UInt64 { (digest ^ UInt64(byte)) &* 0x100_0000_01B3 }

    /// Two words folded into one (each mixed, so that swapping them or a difference in either shows).
    @inlinable @inline(__always)
    public static func fold(_ first: UInt64, _ second: UInt64) -> UInt64 {
        mix(first &+ 0x9E37_79B9_7F4A_7C15) ^ second
    }
}

extension TransportAddress {
    /// The address and port in one word (IPv4: exact; IPv6: folded).
    @inlinable
    public var hashWord: UInt64 {
        switch ip {
        case .v4(let value): UInt64(value) << 16 | UInt64(port)
        case .v6(let value):
            WordHash.fold(UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64) ^ UInt64(port) << 48 ^ 1)
        }
    }

    @inlinable
    public func _rawHashValue(seed: Int) -> Int { WordHash.bucket(hashWord, seed: seed) }
}

extension Transport {
    /// Two bits telling the transports apart, for keys hashed by their words.
    @inlinable
    public var hashBits: UInt8 {
        switch self {
        case .udp: 0
        case .tcp: 1
        case .tls: 2
        case .dtls: 3
        }
    }
}

extension FiveTuple {
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        WordHash.bucket(WordHash.fold(source.hashWord, destination.hashWord ^ UInt64(transport.hashBits) << 62), seed: seed)
    }
}
