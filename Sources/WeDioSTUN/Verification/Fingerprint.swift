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

    /// Plain CRC-32 of a byte range, with the two length bytes (offsets 2–3) replaced by `length`.
    static func crc32(_ bytes: borrowing Span<UInt8>, upTo end: Int, patchedLength length: UInt16) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        let stop = min(end, bytes.count)
        var index = 0
        while index < stop {
            let byte: UInt8 =
                switch index {
                case 2: UInt8(truncatingIfNeeded: length >> 8)
                case 3: UInt8(truncatingIfNeeded: length)
                default: bytes[index]
                }
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            index += 1
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The value FINGERPRINT must carry if placed at `offset`.
    public static func expected(_ bytes: borrowing Span<UInt8>, attributeOffset offset: Int) -> UInt32 {
        let length = UInt16(truncatingIfNeeded: offset + 8 - STUNMessage.headerLength)
        return crc32(bytes, upTo: offset, patchedLength: length) ^ xorValue
    }

    /// Checks the message's FINGERPRINT; `.absent` when it has none.
    public static func verify(_ message: STUNMessage, bytes: borrowing Span<UInt8>) -> IntegrityResult {
        guard let attribute = message.attributes.first(where: { $0.type == .fingerprint }),
            case .uint32(let carried) = attribute.value
        else { return .absent }
        return expected(bytes, attributeOffset: attribute.offset) == carried ? .verified : .failed
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
