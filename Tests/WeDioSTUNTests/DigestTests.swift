import Testing
import WeDioTestSupport
@testable import WeDioSTUN
import WeDioCrypto

/// The system libcrypto shim against the standards' own test vectors.
@Suite("Digests from the system libcrypto")
struct DigestTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format2: $0) }.joined() }

    @Test("MD5 (RFC 1321 §A.5), SHA-256 (FIPS 180-4 'abc'), HMAC-SHA1 (RFC 2202 case 1), HMAC-SHA256 (RFC 4231 case 1), and empty keys")
    func vectors() {
        #expect(Self.hex(Digests.md5(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Self.hex(Digests.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let key = [UInt8](repeating: 0x0B, count: 20)
        #expect(Self.hex(Digests.hmacSHA1(key: key, data: Array("Hi There".utf8))) == "b617318655057264e28bc0b6fb378c8ef146be00")
        #expect(
            Self.hex(Digests.hmacSHA256(key: key, data: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        // HMAC-SHA1 with an empty key and empty data (a well-known value).
        #expect(Self.hex(Digests.hmacSHA1(key: [], data: [])) == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d")
    }

    @Test("A prepared HMAC-SHA1 key gives RFC 2202's values (keys shorter than, equal to and longer than a block) and libcrypto's HMAC() on every length")
    func preparedKey() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8), "b617318655057264e28bc0b6fb378c8ef146be00"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            ([UInt8](repeating: 0xAA, count: 80), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
            ([], [], "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"),
        ]
        for vector in cases {
            #expect(Self.hex(HMACSHA1Key(key: vector.key).mac(vector.data)) == vector.mac)
        }
        let key = HMACSHA1Key(key: Array("server-password-000".utf8))
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 200, 1_000] {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(key.mac(data) == Digests.hmacSHA1(key: Array("server-password-000".utf8), data: data), "length \(length)")
        }
    }
}

extension String {
    init(format2 byte: UInt8) {
        self = (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }
}
