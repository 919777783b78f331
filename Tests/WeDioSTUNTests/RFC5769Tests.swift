import Testing
import WeDio
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

@Suite("RFC 5769 test vectors")
struct RFC5769Tests {
    static let shortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt"

    @Test("Sample request decodes attribute by attribute (RFC 5769 §2.1)")
    func sampleRequest() throws {
        let bytes = Vectors.rfc5769("2.1")
        #expect(bytes.count == 108)
        let message = try STUNMessage.decodeStrict(bytes.span)
        #expect(message.method == .binding)
        #expect(message.messageClass == .request)
        #expect(message.transactionID.hex == "b7e7a701bc34d686fa87dfae")
        #expect(!message.isClassic)
        #expect(message.attributes.map(\.type.name) == [
            "SOFTWARE", "PRIORITY", "ICE-CONTROLLED", "USERNAME", "MESSAGE-INTEGRITY", "FINGERPRINT",
        ])
        #expect(message.value(.software) == .text("STUN test client"))
        #expect(message.value(.priority) == .uint32(0x6E00_01FF))
        #expect(message.value(.iceControlled) == .uint64(0x932F_F9B1_5126_3B36))
        #expect(message.value(.username) == .text("evtj:h6vY"))
        #expect(message.value(.fingerprint) == .uint32(0xE57A_3BCF))
        #expect(Fingerprint.verify(message, bytes: bytes.span) == .verified)
        #expect(Integrity.verify(message, bytes: bytes.span, key: .shortTerm(password: Self.shortTermPassword)) == .verified)
        #expect(Integrity.verify(message, bytes: bytes.span, key: .shortTerm(password: "wrong")) == .failed)
        #expect(Integrity.verify(message, bytes: bytes.span, key: nil) == .noKey)
    }

    @Test("Sample IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853 (RFC 5769 §2.2)")
    func sampleIPv4Response() throws {
        let bytes = Vectors.rfc5769("2.2")
        let message = try STUNMessage.decodeStrict(bytes.span)
        #expect(message.messageClass == .successResponse)
        #expect(message.messageType == 0x0101)
        #expect(message.value(.software) == .text("test vector"))
        #expect(message.value(.xorMappedAddress) == .xorAddress(try #require(TransportAddress("192.0.2.1:32853"))))
        #expect(Fingerprint.verify(message, bytes: bytes.span) == .verified)
        #expect(Integrity.verify(message, bytes: bytes.span, key: .shortTerm(password: Self.shortTermPassword)) == .verified)
    }

    @Test("Sample IPv6 response: XOR-MAPPED-ADDRESS with the transaction id in the XOR key (RFC 5769 §2.3)")
    func sampleIPv6Response() throws {
        let bytes = Vectors.rfc5769("2.3")
        let message = try STUNMessage.decodeStrict(bytes.span)
        let expected = try #require(TransportAddress("[2001:db8:1234:5678:11:2233:4455:6677]:32853"))
        #expect(message.value(.xorMappedAddress) == .xorAddress(expected))
        #expect(expected.description == "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        #expect(Fingerprint.verify(message, bytes: bytes.span) == .verified)
        #expect(Integrity.verify(message, bytes: bytes.span, key: .shortTerm(password: Self.shortTermPassword)) == .verified)
    }

    @Test("Long-term authenticated request verifies with MD5(user:realm:SASLprep(password)) (RFC 5769 §2.4)")
    func longTermRequest() throws {
        let bytes = Vectors.rfc5769("2.4")
        let message = try STUNMessage.decodeStrict(bytes.span)
        let username = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}"
        #expect(message.transactionID.hex == "78ad3433c6ad72c029da412e")
        #expect(message.value(.username) == .text(username))
        #expect(message.value(.nonce) == .text("f//499k954d6OL34oL9FSTvy64sA"))
        #expect(message.value(.realm) == .text("example.org"))
        #expect(Fingerprint.verify(message, bytes: bytes.span) == .absent)
        let prepared = PasswordPreparation.saslPrep("The\u{00AD}M\u{00AA}tr\u{2168}")
        #expect(prepared == "TheMatrIX")
        let key = STUNKey.longTerm(username: username, realm: "example.org", password: prepared)
        #expect(Integrity.verify(message, bytes: bytes.span, key: key) == .verified)
        let unprepared = STUNKey.longTerm(username: username, realm: "example.org", password: "The\u{00AD}M\u{00AA}tr\u{2168}")
        #expect(Integrity.verify(message, bytes: bytes.span, key: unprepared) == .failed)
    }

    @Test("Every strict prefix of every vector throws truncated, never traps", arguments: ["2.1", "2.2", "2.3", "2.4"])
    func prefixesAreTruncated(section: String) {
        let bytes = Vectors.rfc5769(section)
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            #expect(throws: STUNDecodingError(.truncated, field: "", offset: 0, detail: "")) {
                try STUNMessage.decode(prefix.span)
            }
        }
    }

    @Test("A flipped bit anywhere before FINGERPRINT never verifies (RFC 8489 §14.7)")
    func flippedBitFailsFingerprint() throws {
        let original = Vectors.rfc5769("2.2")
        for index in 20..<(original.count - 8) {
            var bytes = original
            bytes[index] ^= 0x01
            guard let message = try? STUNMessage.decode(bytes.span) else { continue }
            #expect(Fingerprint.verify(message, bytes: bytes.span) != .verified)
        }
    }
}

@Suite("FINGERPRINT's CRC-32")
struct FingerprintCRCTests {
    /// CRC-32 (ISO-HDLC) bit by bit: the definition, to check the table-driven version against.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test("The sliced CRC equals the bitwise definition at every length from 20 to 300 bytes (every tail length)")
    func everyLength() {
        var generator = SeededGenerator()
        for offset in 20...300 {
            let bytes = (0..<offset).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var patched = bytes
            let length = UInt16(offset + 8 - 20)
            patched[2] = UInt8(length >> 8)
            patched[3] = UInt8(length & 0xFF)
            #expect(Fingerprint.expected(bytes.span, attributeOffset: offset) == Self.reference(patched) ^ 0x5354_554E, "length \(offset), WEDIO_TEST_SEED=\(generator.seed)")
        }
        #expect(Self.reference(Array("123456789".utf8)) == 0xCBF4_3926)  // the CRC-32 check value
    }
}
