import Testing
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// decode(encode(m)) == m for every typed attribute (STYLE §21).
@Suite("Encoder round trips")
struct RoundTripTests {
    static let v4 = TransportAddress(ip: .v4(0xC000_0201), port: 32853)
    static let v6 = TransportAddress(ip: .v6(0x2001_0DB8_0000_0000_0000_0000_0000_0001), port: 3478)

    /// One value for every attribute layout, on the attribute types that use it.
    static let attributes: [(AttributeType, AttributeValue)] = [
        (.mappedAddress, .address(v4)), (.alternateServer, .address(v6)), (.otherAddress, .address(v4)),
        (.responseOrigin, .address(v6)), (.sourceAddress, .address(v4)), (.changedAddress, .address(v4)),
        (.responseAddress, .address(v4)), (.reflectedFrom, .address(v4)), (AttributeType(0x8090), .address(v4)),
        (.xorMappedAddress, .xorAddress(v4)), (.xorMappedAddress, .xorAddress(v6)), (.xorPeerAddress, .xorAddress(v6)),
        (.xorRelayedAddress, .xorAddress(v4)), (.msXORMappedAddress, .xorAddress(v4)),
        (.username, .text("evtj:h6vY")), (.realm, .text("example.org")), (.nonce, .text("f//499k954d6OL34oL9FSTvy64sA")),
        (.software, .text("WeDio ✓")), (.alternateDomain, .text("turn.example.org")),
        (.thirdPartyAuthorization, .text("https://auth.example.org")), (.origin, .text("https://example.org")),
        (.password, .bytes(Array("secret".utf8))), (.data, .bytes([1, 2, 3, 4, 5])), (.padding, .bytes([0, 0, 0])),
        (.mobilityTicket, .bytes([9, 9])), (.userhash, .digest(ShortBytes(Array(repeating: 7, count: 32)))),
        (.googMessageIntegrity32, .digest(ShortBytes([1, 2, 3, 4]))),
        (.lifetime, .uint32(600)), (.priority, .uint32(0x6E00_01FF)), (.connectionID, .uint32(77)),
        (.cacheTimeout, .uint32(60)), (.msVersion, .uint32(6)), (.ecnCheck, .uint32(1)),
        (.iceControlling, .uint64(0x1122_3344_5566_7788)), (.iceControlled, .uint64(1)),
        (.reservationToken, .uint64(42)), (.msMultiplexedTURNSessionID, .uint64(5)),
        (.useCandidate, .empty), (.dontFragment, .empty),
        (.errorCode, .errorCode(code: 487, reason: "Role Conflict")),
        (.unknownAttributes, .unknownAttributes([0x7FF0, 0x0031])),
        (.changeRequest, .changeRequest(changeIP: true, changePort: false)),
        (.channelNumber, .channelNumber(0x4001)), (.requestedTransport, .requestedTransport(17)),
        (.requestedAddressFamily, .addressFamily(2)), (.additionalAddressFamily, .addressFamily(2)),
        (.evenPort, .evenPort(reserveNext: true)), (.responsePort, .responsePort(5000)),
        (.passwordAlgorithm, .passwordAlgorithm(PasswordAlgorithm(algorithm: 2))),
        (.passwordAlgorithms, .passwordAlgorithms([PasswordAlgorithm(algorithm: 2), PasswordAlgorithm(algorithm: 1, parameters: [1, 2, 3])])),
        (.addressErrorCode, .addressErrorCode(family: 2, code: 440, reason: "Address Family not Supported")),
        (.icmp, .icmp(type: 3, code: 4, data: 1400)), (.transactionTransmitCounter, .transmitCounter(requests: 2, responses: 1)),
        (.messageIntegritySHA256, .messageIntegritySHA256(ShortBytes(Array(repeating: 3, count: 32)))),
        (.accessToken, .accessToken(nonce: [1, 2, 3, 4, 5, 6, 7, 8], encryptedBlock: [9, 10, 11])),
        (.googNetworkInfo, .googNetworkInfo(networkID: 1, cost: 10)), (.googMiscInfo, .googMiscInfo([1, 2, 3])),
        (.msSequenceNumber, .msSequenceNumber(connectionID: Array(repeating: 1, count: 20), sequence: 9)),
        (.msServiceQuality, .msServiceQuality(streamType: 1, quality: 2)),
        (AttributeType(0x7FF0), .bytes([1, 2, 3])),
    ]

    @Test("Every typed attribute survives encode → decode")
    func everyAttribute() throws {
        let attributes = Self.attributes.map { STUNAttribute(type: $0.0, value: $0.1) }
        let message = STUNMessage(
            method: .allocate, messageClass: .successResponse,
            transactionID: TransactionID(value: 0x0102_0304_0506_0708_090A_0B0C, isClassic: false), attributes: attributes)
        let bytes = STUNEncoder.encode(message)
        let decoded = try STUNMessage.decodeStrict(bytes.span)
        #expect(decoded.method == message.method)
        #expect(decoded.messageClass == message.messageClass)
        #expect(decoded.transactionID == message.transactionID)
        #expect(decoded.attributes.count == attributes.count)
        for (original, roundTripped) in zip(attributes, decoded.attributes) {
            #expect(roundTripped.type == original.type)
            #expect(roundTripped.value == original.value, "\(original.type.name)")
        }
        // Offsets are recomputed on decode; a second round trip is byte-identical.
        #expect(STUNEncoder.encode(decoded) == bytes)
    }

    @Test("Decoding into a message gives what decoding afresh gives, and leaves a copy taken before untouched")
    func decodeInPlace() throws {
        let id = TransactionID(value: 0x0102_0304_0506_0708_090A_0B0C, isClassic: false)
        let check = STUNEncoder.encode(
            STUNMessage(
                method: .binding, messageClass: .request, transactionID: id,
                attributes: [
                    STUNAttribute(type: .username, value: .text("abcd:efgh")), STUNAttribute(type: .priority, value: .uint32(1_853_824_767)),
                    STUNAttribute(type: .iceControlling, value: .uint64(7)), STUNAttribute(type: .useCandidate, value: .empty),
                ]), fillFingerprint: true)
        let answer = STUNEncoder.encode(
            STUNMessage(
                method: .binding, messageClass: .successResponse, transactionID: id,
                attributes: [STUNAttribute(type: .xorMappedAddress, value: .xorAddress(Self.v6))]))
        var message = try STUNMessage.decode(check.span)
        let kept = message
        try STUNMessage.decode(answer.span, into: &message)
        #expect(message == (try STUNMessage.decode(answer.span)))
        #expect(kept == (try STUNMessage.decode(check.span)))
        #expect(kept.attributes.map(\.type) == [.username, .priority, .iceControlling, .useCandidate])
        #expect(throws: STUNDecodingError.self) { try STUNMessage.decode([0x00, 0x01, 0x00].span, into: &message) }
        try STUNMessage.decode(check.span, into: &message)
        #expect(message == kept)
    }

    @Test("A decoded attribute takes 48 bytes; offsets and lengths past their wire widths are clamped, not wrapped")
    func compactAttribute() {
        // Every decoded message keeps a heap list of these, read cold by the analysing thread (STUNAttribute's layout).
        #expect(MemoryLayout<STUNAttribute>.stride == 48)
        #expect(ShortBytes(Array(repeating: 0xAB, count: 40)).count == ShortBytes.capacity)
        var attribute = STUNAttribute(type: .data, value: .bytes([]), offset: 70_000, length: 70_000)
        #expect(attribute.offset == 70_000 && attribute.length == 65_535)
        attribute.offset = -1
        #expect(attribute.offset == 0)
    }

    @Test("libwebrtc NOMINATION 0xC001 decodes by context: NOMINATION in ICE checks, raw elsewhere")
    func nominationByContext() throws {
        let id = TransactionID(value: 1, isClassic: false)
        let check = STUNMessage(
            method: .binding, messageClass: .request, transactionID: id,
            attributes: [STUNAttribute(type: .priority, value: .uint32(1)), STUNAttribute(type: .nomination, value: .nomination(3))])
        let decodedCheck = try STUNMessage.decodeStrict(STUNEncoder.encode(check).span)
        #expect(decodedCheck.value(.nomination) == .nomination(3))
        #expect(decodedCheck.attribute(.nomination)?.name == "NOMINATION")
        let other = STUNMessage(
            method: .allocate, messageClass: .request, transactionID: id,
            attributes: [STUNAttribute(type: .nomination, value: .bytes([0, 0, 0, 3]))])
        let decodedOther = try STUNMessage.decodeStrict(STUNEncoder.encode(other).span)
        #expect(decodedOther.value(.nomination) == .bytes([0, 0, 0, 3]))
        #expect(decodedOther.attribute(.nomination)?.name == "ENF-FLOW-DESCRIPTION")
    }

    @Test("Encoding with a key yields verifiable MESSAGE-INTEGRITY, -SHA256 and FINGERPRINT")
    func integrityOnEncode() throws {
        let key = STUNKey.longTerm(username: "alice", realm: "example.org", password: "secret", algorithm: PasswordAlgorithm.sha256)
        for integrityType in [AttributeType.messageIntegrity, .messageIntegritySHA256, .googMessageIntegrity32] {
            let size = integrityType == .messageIntegrity ? 20 : integrityType == .googMessageIntegrity32 ? 4 : 32
            let zeros = ShortBytes(Array(repeating: 0, count: size))
            let placeholder: AttributeValue =
                integrityType == .messageIntegritySHA256 ? .messageIntegritySHA256(zeros) : .digest(zeros)
            let message = STUNMessage(
                method: .refresh, messageClass: .request, transactionID: TransactionID(value: 99, isClassic: false),
                attributes: [
                    STUNAttribute(type: .username, value: .text("alice")), STUNAttribute(type: .lifetime, value: .uint32(0)),
                    STUNAttribute(type: integrityType, value: placeholder), STUNAttribute(type: .fingerprint, value: .uint32(0)),
                ])
            let bytes = STUNEncoder.encode(message, key: key, fillFingerprint: true)
            let decoded = try STUNMessage.decodeStrict(bytes.span)
            #expect(Integrity.verify(decoded, bytes: bytes.span, key: key) == .verified, "\(integrityType.name)")
            #expect(Integrity.verify(decoded, bytes: bytes.span, key: STUNKey(bytes: [0])) == .failed)
            #expect(Fingerprint.verify(decoded, bytes: bytes.span) == .verified)
        }
    }

    @Test("Classic RFC 3489 messages keep their 128-bit transaction id")
    func classic() throws {
        let id = TransactionID(value: 0x0011_2233_4455_6677_8899_AABB_CCDD_EEFF, isClassic: true)
        let message = STUNMessage(
            method: .binding, messageClass: .successResponse, transactionID: id,
            attributes: [
                STUNAttribute(type: .mappedAddress, value: .address(Self.v4)),
                STUNAttribute(type: .changedAddress, value: .address(Self.v4)),
            ])
        let bytes = STUNEncoder.encode(message)
        let decoded = try STUNMessage.decodeStrict(bytes.span)
        #expect(decoded.isClassic)
        #expect(decoded.transactionID.hex == "00112233445566778899aabbccddeeff")
        #expect(decoded.value(.changedAddress) == .address(Self.v4))
        // Read from the header alone (the analyser's prefetch), the id is the decoded one.
        let fromHeader = TransactionID(header: bytes.span)
        let fromShortHeader = TransactionID(header: bytes.span.extracting(0..<19))
        #expect(fromHeader == id)
        #expect(fromShortHeader == nil)
    }

    @Test("The id read from an RFC 8489 header alone is the decoded one (RFC 5769 §2.1)")
    func transactionIDFromHeader() throws {
        let bytes = Vectors.rfc5769("2.1")
        let fromHeader = TransactionID(header: bytes.span)
        let id = try #require(fromHeader)
        #expect(!id.isClassic)
        #expect(id.hex == "b7e7a701bc34d686fa87dfae")
        #expect(id == (try STUNMessage.decodeStrict(bytes.span)).transactionID)
    }

    @Test("ChannelData: valid, reserved and invalid channels (RFC 8656 §12)")
    func channelData() throws {
        let padded = STUNEncoder.channelData(channel: 0x4001, data: [1, 2, 3, 4, 5], padded: true)
        #expect(padded.count == 12)
        let decoded = try ChannelData.decode(padded.span, overStream: true)
        #expect(decoded.channel == 0x4001)
        #expect(decoded.data == 4..<9)
        #expect(decoded.padding == 3)
        #expect(!decoded.isReservedChannel)
        let unpadded = STUNEncoder.channelData(channel: 0x5000, data: [1], padded: false)
        let reserved = try ChannelData.decode(unpadded.span)
        #expect(reserved.isReservedChannel)
        #expect(throws: STUNDecodingError(.invalidChannel, field: "", offset: 0, detail: "")) {
            try ChannelData.decode(STUNEncoder.channelData(channel: 0x8000, data: [], padded: true).span)
        }
        #expect(throws: STUNDecodingError(.truncated, field: "", offset: 0, detail: "")) {
            try ChannelData.decode(Array(padded.prefix(7)).span)
        }
    }
}
