import WeDioCrypto
import WeDioBasics

/// A MESSAGE-INTEGRITY key (RFC 8489 §9): the short-term password itself, or for long-term credentials
/// MD5 / SHA-256 of `username:realm:password`.
public struct STUNKey: Hashable, Sendable {
    public let bytes: [UInt8]
    /// The same key prepared for HMAC-SHA1 once: MESSAGE-INTEGRITY is checked on every message.
    let sha1: HMACSHA1Key

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        sha1 = HMACSHA1Key(key: bytes)
    }

    public static func == (a: STUNKey, b: STUNKey) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    /// Short-term credential (RFC 8489 §9.1.1): the (already prepared) password's UTF-8 bytes.
    public static func shortTerm(password: String) -> STUNKey {
        STUNKey(bytes: Array(password.utf8))
    }

    /// Long-term credential (RFC 8489 §9.2.2). `password` must already be prepared (SASLprep / OpaqueString).
    public static func longTerm(username: String, realm: String, password: String, algorithm: UInt16 = PasswordAlgorithm.md5)
        -> STUNKey
    {
        let input = Array("\(username):\(realm):\(password)".utf8)
        if algorithm == PasswordAlgorithm.sha256 {
            return STUNKey(bytes: Digests.sha256(input))
        }
        return STUNKey(bytes: Digests.md5(input))
    }
}

/// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6) and libwebrtc's
/// GOOG-MESSAGE-INTEGRITY-32 (HMAC-SHA1 truncated to 4 bytes).
public enum Integrity {
    /// The HMAC input: the message up to the attribute with the header length ending at the attribute's end.
    static func hmacInput(_ bytes: borrowing Span<UInt8>, attribute: STUNAttribute) -> [UInt8] {
        let end = min(attribute.offset, bytes.count)
        var input = ByteCursor.copy(bytes, 0..<end)
        let length = attribute.offset + 4 + ((attribute.length + 3) & ~3) - STUNMessage.headerLength
        if input.count >= 4 {
            input[2] = UInt8(truncatingIfNeeded: length >> 8)
            input[3] = UInt8(truncatingIfNeeded: length)
        }
        return input
    }

    /// Checks the strongest integrity attribute present (SHA-256 first, then SHA-1, then GOOG-32).
    public static func verify(_ message: STUNMessage, bytes: borrowing Span<UInt8>, key: STUNKey?) -> IntegrityResult {
        // One pass over the types, no copy of an attribute and no new array: this runs for every message,
        // most of which carry no key.
        var sha256: Int?
        var sha1: Int?
        let list = message.attributes.span
        for index in list.indices {
            let type = list[index].type
            if type == .messageIntegritySHA256 {
                sha256 = index
                break
            }
            if sha1 == nil, type == .messageIntegrity || type == .googMessageIntegrity32 { sha1 = index }
        }
        guard let index = sha256 ?? sha1 else { return .absent }
        guard let key else { return .noKey }
        let attribute = message.attributes[index]
        let carried: [UInt8]
        switch attribute.value {
        case .digest(let value), .messageIntegritySHA256(let value): carried = value.bytes
        case .bytes(let value): carried = value
        default: return .failed
        }
        let expected = mac(for: attribute.type, input: hmacInput(bytes, attribute: attribute), key: key)
        guard carried.count <= expected.count, !carried.isEmpty else { return .failed }
        return Array(expected.prefix(carried.count)) == carried ? .verified : .failed
    }

    /// The full MAC for an integrity attribute type.
    public static func mac(for type: AttributeType, input: [UInt8], key: STUNKey) -> [UInt8] {
        if type == .messageIntegritySHA256 { return Digests.hmacSHA256(key: key.bytes, data: input) }
        return key.sha1.mac(input)
    }
}
