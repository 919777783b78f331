import WeDioCrypto

/// USERHASH (RFC 8489 §14.4): SHA-256 of `username:realm`.
public enum UserHash {
    public static func compute(username: String, realm: String) -> [UInt8] {
        Digests.sha256(Array("\(username):\(realm)".utf8))
    }
}
