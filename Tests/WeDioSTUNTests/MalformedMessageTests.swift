import Testing
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// Hostile and broken messages: each gives its exact error code, never a trap.
@Suite("Malformed STUN messages")
struct MalformedMessageTests {
    static let header = "0001 0000 2112a442 000102030405060708090a0b"

    /// A Binding request with the given attribute bytes and a correct length field.
    static func message(_ attributes: String, type: UInt16 = 0x0001) -> [UInt8] {
        var bytes = Hex.bytes(header) + Hex.bytes(attributes)
        bytes[0] = UInt8(type >> 8)
        bytes[1] = UInt8(truncatingIfNeeded: type)
        let length = bytes.count - 20
        bytes[2] = UInt8(length >> 8)
        bytes[3] = UInt8(truncatingIfNeeded: length)
        return bytes
    }

    static func code(_ bytes: [UInt8]) -> STUNDecodingError.Code? {
        do {
            _ = try STUNMessage.decodeStrict(bytes.span)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("Header length past the end of the datagram is truncated")
    func lengthPastEnd() {
        var bytes = Self.message("80220004 61626364")
        bytes[3] = 0x10
        #expect(Self.code(bytes) == .truncated)
    }

    @Test("Trailing bytes after the declared length are a bad message length")
    func trailingBytes() {
        var bytes = Self.message("80220004 61626364")
        bytes += [0, 0, 0, 0]
        #expect(Self.code(bytes) == .badMessageLength)
    }

    @Test("A length that is not a multiple of 4 is rejected (RFC 8489 §5)")
    func unalignedLength() {
        let bytes = Self.message("80220003 616263")
        #expect(Self.code(bytes) == .badMessageLength)
    }

    @Test("An attribute overflowing the message is attribute-overflow")
    func attributeOverflow() {
        #expect(Self.code(Self.message("80220010 61626364")) == .attributeOverflow)
        // zeek-spicy-stun's case: an attribute length of 0xFFFF.
        #expect(Self.code(Self.message("0001ffff 00010000")) == .attributeOverflow)
    }

    @Test("A lone attribute header fragment is attribute-overflow; the length is reported first")
    func attributeHeaderFragment() throws {
        #expect(Self.code(Self.message("8022")) == .badMessageLength)
        let message = try STUNMessage.decode(Self.message("80220000 8022").span)
        #expect(message.problems.map(\.code) == [.badMessageLength, .attributeOverflow])
        #expect(message.attributes.map(\.type) == [.software])
    }

    @Test("A message whose length is not a multiple of 4 still decodes, with the problem noted (WhatsApp TURN)")
    func unalignedButUsable() throws {
        let message = try STUNMessage.decode(Self.message("40000002 abcd").span)
        #expect(message.problems.map(\.code) == [.badMessageLength, .badPadding])
        #expect(message.value(AttributeType(0x4000)) == .bytes([0xAB, 0xCD]))
    }

    @Test("Broken attribute lists keep the attributes before the break (zeek-spicy-stun malformed vectors)")
    func partialAttributes() throws {
        let message = try STUNMessage.decode(Self.message("80220004 61626364 0001ffff 00010000").span)
        #expect(message.attributes.map(\.type) == [.software])
        #expect(message.problems.map(\.code) == [.attributeOverflow])
    }

    @Test("Classic messages without padding room are bad padding")
    func classicPadding() throws {
        // RFC 3489 message (no cookie) whose last attribute value is 5 bytes: classic has no padding, so it decodes.
        var bytes = Hex.bytes("0001 0009 00112233 000102030405060708090a0b 00060005 6162636465")
        #expect(Self.code(bytes) == nil)
        // ChannelData over a stream must be padded to 4 (RFC 8656 §12.5).
        bytes = Hex.bytes("4000 0005 6162636465")
        #expect(throws: STUNDecodingError(.badPadding, field: "", offset: 0, detail: "")) {
            try ChannelData.decode(bytes.span, overStream: true)
        }
    }

    @Test("An unknown address family is reported and the attribute kept raw")
    func unknownFamily() throws {
        let bytes = Self.message("00010008 0003a147 e112a643")
        #expect(Self.code(bytes) == .unknownAddressFamily)
        let message = try STUNMessage.decode(bytes.span)
        #expect(message.value(.mappedAddress) == .bytes(Hex.bytes("0003a147 e112a643")))
        #expect(message.problems.first?.field == "attribute MAPPED-ADDRESS/family")
    }

    @Test("ERROR-CODE with a class outside 3–6 is bad-error-class; number over 99 is bad-error-number")
    func badErrorClass() {
        #expect(Self.code(Self.message("00090004 00000201", type: 0x0111)) == .badErrorClass)
        #expect(Self.code(Self.message("00090004 00000764", type: 0x0111)) == .badErrorClass)
        #expect(Self.code(Self.message("00090004 00000464", type: 0x0111)) == .badErrorNumber)
        #expect(Self.code(Self.message("00090004 00000401", type: 0x0111)) == nil)
    }

    @Test("Fixed-size attributes with the wrong size are bad-attribute-length")
    func fixedSizes() {
        #expect(Self.code(Self.message("00240002 00010000")) == .badAttributeLength)  // PRIORITY
        #expect(Self.code(Self.message("80290004 00000001")) == .badAttributeLength)  // ICE-CONTROLLED
        #expect(Self.code(Self.message("00250004 00000000")) == .badAttributeLength)  // USE-CANDIDATE carries nothing
        #expect(Self.code(Self.message("00080004 00000000")) == .badAttributeLength)  // MESSAGE-INTEGRITY is 20 bytes
    }

    @Test("Text longer than the RFC allows is text-too-long (USERNAME < 513 bytes)")
    func textTooLong() {
        let username = String(repeating: "61", count: 516)
        #expect(Self.code(Self.message("00060204 " + username)) == .textTooLong)
    }

    @Test("A flood of empty attributes stops at the cap")
    func tooManyAttributes() {
        let attributes = String(repeating: "80300000 ", count: Limits.attributesPerMessage + 1)
        #expect(Self.code(Self.message(attributes)) == .tooManyAttributes)
    }

    @Test("First two bits set is not STUN")
    func notSTUN() {
        var bytes = Self.message("")
        bytes[0] = 0x40
        #expect(Self.code(bytes) == .notSTUN)
    }

    @Test("Attributes after MESSAGE-INTEGRITY are marked ignored, except MI-SHA256 and FINGERPRINT (RFC 8489 §14.5)")
    func ignoredAfterIntegrity() throws {
        let integrity = "00080014 " + String(repeating: "00", count: 20)
        let bytes = Self.message(integrity + " 80220004 61626364 80280004 00000000")
        let message = try STUNMessage.decode(bytes.span)
        #expect(message.attributes.map(\.ignored) == [false, true, false])
        #expect(message.value(.software) == nil)
    }

    @Test("Comprehension-required unknown attributes are flagged (RFC 8489 §6.3.1)")
    func unknownComprehensionRequired() throws {
        let message = try STUNMessage.decode(Self.message("7ff00004 01020304 bff00000").span)
        #expect(message.unknownComprehensionRequired == [AttributeType(0x7FF0)])
        #expect(message.attributes.last?.type.isComprehensionRequired == false)
        #expect(message.value(AttributeType(0x7FF0)) == .bytes([1, 2, 3, 4]))
    }

    @Test("Random bytes never trap the decoder")
    func randomBytes() {
        var generator = SeededGenerator()
        // Printed first: a trap ends the process before any expectation can name the seed.
        print("random STUN bytes from WEDIO_TEST_SEED=\(generator.seed)")
        for _ in 0..<20_000 {
            let count = Int.random(in: 0..<96, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count >= 8 {
                bytes[0] &= 0x3F
                bytes[4] = 0x21
                bytes[5] = 0x12
                bytes[6] = 0xA4
                bytes[7] = 0x42
                if Bool.random(using: &generator) {
                    let length = bytes.count - 20
                    if length >= 0 {
                        bytes[2] = UInt8(length >> 8)
                        bytes[3] = UInt8(truncatingIfNeeded: length)
                    }
                }
            }
            if let message = try? STUNMessage.decode(bytes.span) {
                #expect(message.attributes.count <= Limits.attributesPerMessage, "WEDIO_TEST_SEED=\(generator.seed)")
                _ = Fingerprint.verify(message, bytes: bytes.span)
                _ = Integrity.verify(message, bytes: bytes.span, key: STUNKey(bytes: [1]))
            }
            _ = try? ChannelData.decode(bytes.span)
        }
    }
}
