import WeDioBasics

/// FINGERPRINT (RFC 8489 §14.7): CRC-32 (ISO-HDLC, as in Ethernet/zlib) of the message up to the
/// attribute, XOR 0x5354554E, with the header length counting up to and including FINGERPRINT.
public enum Fingerprint {
    public static let xorValue: UInt32 = 0x5354_554E

    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }

    /// Plain CRC-32 of `bytes[0..<end]`, with the two length bytes (offsets 2–3) replaced by `length`.
    /// Slicing-by-8 over the body: FINGERPRINT is checked on every message.
    static func crc32(_ bytes: borrowing Span<UInt8>, upTo end: Int, patchedLength length: UInt16) -> UInt32 {
        let stop = min(end, bytes.count)
        guard stop >= 4 else { return 0 }
        var crc: UInt32 = 0xFFFF_FFFF
        let table = Self.table
        func update(_ byte: UInt8) { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        update(bytes[0])
        update(bytes[1])
        update(UInt8(truncatingIfNeeded: length >> 8))
        update(UInt8(truncatingIfNeeded: length))
        let slices = Self.slices
        var index = 4
        while index + 8 <= stop {
            let low = crc ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
                | UInt32(bytes[index + 3]) << 24)
            let high = UInt32(bytes[index + 4]) | UInt32(bytes[index + 5]) << 8 | UInt32(bytes[index + 6]) << 16
                | UInt32(bytes[index + 7]) << 24
            crc = slices[1_792 + Int(low & 0xFF)] ^ slices[1_536 + Int((low >> 8) & 0xFF)]
                ^ slices[1_280 + Int((low >> 16) & 0xFF)] ^ slices[1_024 + Int(low >> 24)]
                ^ slices[768 + Int(high & 0xFF)] ^ slices[512 + Int((high >> 8) & 0xFF)]
                ^ slices[256 + Int((high >> 16) & 0xFF)] ^ slices[Int(high >> 24)]
            index += 8
        }
        while index < stop {
            crc = table[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
            index += 1
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// Eight 256-entry tables for slicing-by-8: slices[k*256 + i] is the CRC of byte i followed by k zero bytes.
    static let slices: [UInt32] = {
        var out = table + Array(repeating: 0, count: 7 * 256)
        for k in 1..<8 {
            for i in 0..<256 {
                let previous = out[(k - 1) * 256 + i]
                out[k * 256 + i] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return out
    }()

    /// The value FINGERPRINT must carry if placed at `offset`.
    public static func expected(_ bytes: borrowing Span<UInt8>, attributeOffset offset: Int) -> UInt32 {
        let length = UInt16(truncatingIfNeeded: offset + 8 - STUNMessage.headerLength)
        return crc32(bytes, upTo: offset, patchedLength: length) ^ xorValue
    }

    /// Checks the message's FINGERPRINT; `.absent` when it has none.
    public static func verify(_ message: STUNMessage, bytes: borrowing Span<UInt8>) -> IntegrityResult {
        // Only the index is taken: copying the attribute out costs more than the lookup.
        guard let index = message.attributes.firstIndex(where: { $0.type == .fingerprint }),
            case .uint32(let carried) = message.attributes[index].value
        else { return .absent }
        return expected(bytes, attributeOffset: message.attributes[index].offset) == carried ? .verified : .failed
    }
}

/// Outcome of a MESSAGE-INTEGRITY / -SHA256 / FINGERPRINT check.
public enum IntegrityResult: String, Hashable, Sendable {
    case verified
    case failed
    /// The message carries integrity but no key was given for it.
    case noKey
    /// The message carries no such attribute.
    case absent
}
