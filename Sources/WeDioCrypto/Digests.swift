import CLibCrypto

/// The four primitives STUN needs (RFC 8489 §9, §14.4-14.6), from the system's libcrypto (OpenSSL) as
/// libpcap comes from the system: MD5 and SHA-256 for long-term keys and USERHASH, HMAC-SHA1 and
/// HMAC-SHA256 for MESSAGE-INTEGRITY(-SHA256). A safe interface over byte arrays; the pointers stay here.
/// (swift-crypto compiled BoringSSL from source in every build configuration: most of a fresh set-up's time.)
public enum Digests {
    public static func md5(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_md5(), length: 16) }

    public static func sha256(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha256(), length: 32) }

    public static func hmacSHA1(key: [UInt8], data: [UInt8]) -> [UInt8] { hmac(key, data, EVP_sha1(), length: 20) }

    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] { hmac(key, data, EVP_sha256(), length: 32) }

    private static func digest(_ data: [UInt8], _ algorithm: OpaquePointer?, length: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var written: UInt32 = 0
        let status = data.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &written, algorithm, nil)
            }
        }
        // libcrypto only fails on allocation failure; an empty digest then matches no carried value.
        guard status == 1, Int(written) == length else { return [] }
        return Array(output.prefix(length))
    }

    private static func hmac(_ key: [UInt8], _ data: [UInt8], _ algorithm: OpaquePointer?, length: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var written: UInt32 = 0
        // HMAC's key may be empty; libcrypto wants a non-null pointer even then.
        let keyBytes = key.isEmpty ? [0] : key
        let result = keyBytes.withUnsafeBufferPointer { keyPointer in
            data.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    HMAC(algorithm, keyPointer.baseAddress, Int32(key.count), input.baseAddress, input.count, out.baseAddress, &written)
                }
            }
        }
        guard result != nil, Int(written) == length else { return [] }
        return Array(output.prefix(length))
    }
}
