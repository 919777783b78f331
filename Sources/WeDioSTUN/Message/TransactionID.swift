import WeDioBasics

/// A transaction id: 96 bits after the magic cookie (RFC 8489 §6) or 128 bits in classic RFC 3489
/// messages (where the cookie position is part of the id).
public struct TransactionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The id bits: the low 96 for RFC 5389+, all 128 for classic.
    public var value: UInt128
    public var isClassic: Bool

    public init(value: UInt128, isClassic: Bool) {
        self.value = isClassic ? value : value & ((UInt128(1) << 96) - 1)
        self.isClassic = isClassic
    }

    /// The id in a message's 20-byte header (classic when the magic cookie is absent: RFC 3489's 128 bits take
    /// the cookie's place as their first 32); nil when the header is short. What `STUNMessage.decode` and the
    /// analyser's prefetch read. Three loads: a byte at a time into a 128-bit integer cost a hundred
    /// instructions a message.
    public init?(header bytes: borrowing Span<UInt8>) {
        guard let cookie = ByteCursor.getUInt32(bytes, at: 4), let high = ByteCursor.getUInt32(bytes, at: 8),
            let middle = ByteCursor.getUInt32(bytes, at: 12), let low = ByteCursor.getUInt32(bytes, at: 16)
        else { return nil }
        let isClassic = cookie != STUNMessage.magicCookie
        let id = (isClassic ? UInt128(cookie) << 96 : 0) | UInt128(high) << 64 | UInt128(middle) << 32 | UInt128(low)
        self.init(value: id, isClassic: isClassic)
    }

    /// From 12 (RFC 5389+) or 16 (classic) bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 12 || bytes.count == 16 else { return nil }
        self.init(value: bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }, isClassic: bytes.count == 16)
    }

    /// Lower-case hex, 24 digits (or 32 for classic): the spelling tshark's `stun.id` uses.
    public var hex: String {
        // Nibble by nibble from the two 64-bit halves: `String(_:radix:)` divides the 128-bit value once
        // per digit, 13 000 instructions an id (a twentieth of writing a server's report).
        let digits = isClassic ? 32 : 24
        let high = UInt64(truncatingIfNeeded: value >> 64)
        let low = UInt64(truncatingIfNeeded: value)
        var text: [UInt8] = []
        text.reserveCapacity(digits)
        for position in 0..<digits {
            let shift = (digits - 1 - position) * 4
            let nibble = UInt8(truncatingIfNeeded: (shift >= 64 ? high >> UInt64(shift - 64) : low >> UInt64(shift)) & 0xF)
            text.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var bytes: [UInt8] {
        let count = isClassic ? 16 : 12
        return (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - $0))) }
    }

    public var description: String { hex }

    /// Two words into the (seeded) hasher: cheaper than the synthesized UInt128-and-Bool, and a classic
    /// id and a modern one with the same low bits differ in equality anyway.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(truncatingIfNeeded: value))
        hasher.combine(UInt64(truncatingIfNeeded: value >> 64))
    }

    public static func < (lhs: TransactionID, rhs: TransactionID) -> Bool {
        (lhs.isClassic ? 1 : 0, lhs.value) < (rhs.isClassic ? 1 : 0, rhs.value)
    }
}

extension TransactionID {
    /// The bucket hash of hashed collections without SipHash (see `WordHash`).
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        WordHash.bucket(
            WordHash.fold(UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64) ^ (isClassic ? 1 << 63 : 0)),
            seed: seed)
    }
}
