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
}

extension String {
    init(format2 byte: UInt8) {
        self = (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }
}
