import WeDioBasics
import WeDioSTUN

/// Keys known for integrity checks: ICE short-term passwords by ufrag, TURN long-term credentials by
/// username. Passwords stay inside this value; nothing here is ever rendered.
public struct CredentialStore: Sendable {
    /// ufrag → prepared password.
    public private(set) var icePasswords: [String: String] = [:]
    /// ufrag → its key, prepared once (a dense capture checks a million messages against a few keys).
    private var iceKeys: [String: STUNKey] = [:]
    /// username → prepared password.
    public private(set) var turnPasswords: [String: String] = [:]

    public init() {}

    public var isEmpty: Bool { icePasswords.isEmpty && turnPasswords.isEmpty }

    public mutating func addICE(ufrag: String, password: String) {
        icePasswords[ufrag] = password
        iceKeys[ufrag] = .shortTerm(password: password)
    }
    public mutating func addTURN(username: String, password: String) { turnPasswords[username] = password }

    /// The key a request was protected with, from its USERNAME (or USERHASH) and REALM.
    func key(forRequest message: STUNMessage) -> STUNKey? {
        let realm: String? =
            if case .text(let realm) = message.value(.realm) { realm } else { nil }
        let algorithm: UInt16 =
            if case .passwordAlgorithm(let chosen) = message.value(.passwordAlgorithm) { chosen.algorithm } else {
                PasswordAlgorithm.md5
            }
        if case .text(let username) = message.value(.username) {
            if let realm {
                guard let password = turnPasswords[username] else { return nil }
                return .longTerm(username: username, realm: realm, password: password, algorithm: algorithm)
            }
            // ICE: USERNAME is "RFRAG:LFRAG"; the key is the receiver's (RFRAG's) password (RFC 8445 §7.2.2).
            let ufrag = username.utf8.firstIndex(of: UInt8(ascii: ":")).map { String(username[..<$0]) } ?? username
            return iceKeys[ufrag]
        }
        if case .digest(let digest) = message.value(.userhash), let realm {
            let hash = digest.bytes
            // USERHASH = SHA-256(OpaqueString(username) ":" realm) (RFC 8489 §14.4).
            for (username, password) in turnPasswords.sorted(by: { $0.key < $1.key })
            where UserHash.compute(username: username, realm: realm) == hash {
                return .longTerm(username: username, realm: realm, password: password, algorithm: algorithm)
            }
        }
        return nil
    }
}
