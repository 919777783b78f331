import CLibCrypto

/// An HMAC-SHA1 key prepared once (RFC 2104): the SHA-1 states after the key's inner and outer padded
/// blocks are kept, so a MAC costs the message's blocks plus one, not libcrypto's one-shot HMAC() (about
/// 2 µs and 15 allocations a call in OpenSSL 3, which looks the algorithm up and allocates a context each
/// time; Benchmarks' Codec measures both). Every
/// MESSAGE-INTEGRITY of a capture is checked against a key of a few passwords.
public final class HMACSHA1Key: @unchecked Sendable {
    // Immutable after init; copied before every use, so sharing across threads is safe.
    private let inner: SHA_CTX
    private let outer: SHA_CTX

    public init(key: [UInt8]) {
        var block = key.count > 64 ? Self.sha1(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA_CTX()
        var outer = SHA_CTX()
        SHA1_Init(&inner)
        SHA1_Init(&outer)
        let innerPad = block.map { $0 ^ 0x36 }
        let outerPad = block.map { $0 ^ 0x5C }
        innerPad.withUnsafeBufferPointer { _ = SHA1_Update(&inner, $0.baseAddress, 64) }
        outerPad.withUnsafeBufferPointer { _ = SHA1_Update(&outer, $0.baseAddress, 64) }
        self.inner = inner
        self.outer = outer
    }

    /// HMAC-SHA1(key, data): 20 bytes.
    public func mac(_ data: [UInt8]) -> [UInt8] {
        var context = inner
        var digest = [UInt8](repeating: 0, count: 20)
        data.withUnsafeBufferPointer { _ = SHA1_Update(&context, $0.baseAddress, $0.count) }
        digest.withUnsafeMutableBufferPointer { _ = SHA1_Final($0.baseAddress, &context) }
        var final = outer
        digest.withUnsafeBufferPointer { _ = SHA1_Update(&final, $0.baseAddress, 20) }
        digest.withUnsafeMutableBufferPointer { _ = SHA1_Final($0.baseAddress, &final) }
        return digest
    }

    private static func sha1(_ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        data.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { _ = SHA1(input.baseAddress, input.count, $0.baseAddress) }
        }
        return digest
    }
}
