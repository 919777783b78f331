import WeDioBasics

/// Walks the attribute list (RFC 8489 §14: type, length, value padded to 4) and decodes each value
/// by the registry's format.
enum AttributeDecoder {
    static func decodeAll(_ bytes: borrowing Span<UInt8>, into message: inout STUNMessage) {
        walk(bytes, into: &message)
        // libwebrtc (api/transport/stun.h) sends 0xC001 as a 4-byte NOMINATION in ICE connectivity checks
        // (Binding requests carrying PRIORITY); IANA assigned the number to ENF-FLOW-DESCRIPTION. Decide by
        // that context, once the whole message is known; `STUNAttribute.name` says which was chosen.
        guard message.method == .binding, message.messageClass == .request else { return }
        var isICECheck = false
        do {
            let list = message.attributes.span  // no attribute copied out to look at its type
            for index in list.indices where list[index].type == .priority {
                isICECheck = true
                break
            }
        }
        guard isICECheck else { return }
        for index in message.attributes.indices where message.attributes[index].type == .nomination {
            if case .bytes(let raw) = message.attributes[index].value, raw.count == 4 {
                message.attributes[index].value = .nomination(raw.reduce(0) { $0 << 8 | UInt32($1) })
            }
        }
    }

    private static func walk(_ bytes: borrowing Span<UInt8>, into message: inout STUNMessage) {
        var offset = STUNMessage.headerLength
        let end = bytes.count
        var afterIntegrity = false
        var afterFingerprint = false
        let isClassic = message.isClassic
        let formats = AttributeType.formatTable
        var count = 0
        message.attributes.reserveCapacity(8)
        while offset < end {
            guard let rawType = ByteCursor.getUInt16(bytes, at: offset),
                let rawLength = ByteCursor.getUInt16(bytes, at: offset + 2)
            else {
                message.problems.append(
                    STUNDecodingError(
                        .attributeOverflow, field: "attribute header", offset: offset,
                        detail: "\(end - offset) bytes left, an attribute header needs 4"))
                return
            }
            count += 1
            guard count <= Limits.attributesPerMessage else {
                message.problems.append(
                    STUNDecodingError(
                        .tooManyAttributes, field: "attributes", offset: offset,
                        detail: "more than \(Limits.attributesPerMessage) attributes"))
                return
            }
            let type = AttributeType(rawType)
            let length = Int(rawLength)
            let valueStart = offset + 4
            guard valueStart + length <= end else {
                message.problems.append(
                    STUNDecodingError(
                        .attributeOverflow, field: "attribute \(type.name)", offset: offset,
                        detail: "length \(length) runs \(valueStart + length - end) bytes past the end of the message"))
                return
            }
            // RFC 3489 attributes carry no padding rule; from RFC 5389 on every value is padded to 4.
            var padded = isClassic || message.isMSTURN ? length : (length + 3) & ~3
            if valueStart + padded > end {
                // Only possible for the last attribute of a message whose length is not a multiple of 4.
                message.problems.append(
                    STUNDecodingError(
                        .badPadding, field: "attribute \(type.name)", offset: offset,
                        detail: "value of \(length) bytes is missing \(valueStart + padded - end) padding bytes"))
                padded = length
            }
            let ignored = afterFingerprint || (afterIntegrity && type != .messageIntegritySHA256 && type != .fingerprint)
            let value: AttributeValue
            do throws(STUNDecodingError) {
                value = try decodeValue(type, formats.format(of: type), bytes, valueStart..<(valueStart + length))
            } catch {
                message.problems.append(error)
                value = .bytes(ByteCursor.copy(bytes, valueStart..<(valueStart + length)))
            }
            message.attributes.append(
                STUNAttribute(type: type, value: value, offset: offset, length: length, ignored: ignored))
            if type == .messageIntegrity || type == .messageIntegritySHA256 { afterIntegrity = true }
            if type == .fingerprint { afterFingerprint = true }
            offset = valueStart + padded
        }
    }

    @inline(never)
    static func lengthError(_ type: AttributeType, _ range: Range<Int>, expected: String) -> STUNDecodingError {
        STUNDecodingError(
            .badAttributeLength, field: "attribute \(type.name)", offset: range.lowerBound - 4,
            detail: "length \(range.count), expected \(expected)")
    }

    static func decodeValue(_ type: AttributeType, _ format: AttributeFormat?, _ bytes: borrowing Span<UInt8>, _ range: Range<Int>)
        throws(STUNDecodingError) -> AttributeValue
    {
        guard let format else { return .bytes(ByteCursor.copy(bytes, range)) }
        let start = range.lowerBound
        let length = range.count
        func u16(_ at: Int) -> UInt16 { ByteCursor.getUInt16(bytes, at: start + at) ?? 0 }
        func u32(_ at: Int) -> UInt32 { ByteCursor.getUInt32(bytes, at: start + at) ?? 0 }
        func u8(_ at: Int) -> UInt8 { ByteCursor.getUInt8(bytes, at: start + at) ?? 0 }
        func expect(_ count: Int) throws(STUNDecodingError) {
            guard length == count else { throw lengthError(type, range, expected: "\(count)") }
        }
        /// Real stacks send some fixed attributes without their reserved bytes (or with them when the RFC
        /// has none); the value is unambiguous either way, so both lengths decode.
        func expect(_ first: Int, or second: Int) throws(STUNDecodingError) {
            guard length == first || length == second else {
                throw lengthError(type, range, expected: "\(first) or \(second)")
            }
        }
        switch format {
        case .address:
            return .address(try decodeAddress(type, bytes, range, xor: false))
        case .xorAddress:
            return .xorAddress(try decodeAddress(type, bytes, range, xor: true))
        case .text(let maximum):
            if let maximum, length > maximum {
                throw STUNDecodingError(
                    .textTooLong, field: "attribute \(type.name)", offset: start - 4,
                    detail: "\(length) bytes, at most \(maximum) allowed")
            }
            return .text(text(bytes, range))
        case .bytes:
            return .bytes(ByteCursor.copy(bytes, range))
        case .fixedBytes(let count):
            try expect(count)
            return .digest(ShortBytes(bytes, range))
        case .uint32:
            try expect(4)
            return .uint32(u32(0))
        case .uint64:
            try expect(8)
            return .uint64(UInt64(u32(0)) << 32 | UInt64(u32(4)))
        case .empty:
            try expect(0)
            return .empty
        case .errorCode:
            let (code, reason) = try decodeErrorCode(type, bytes, range, classOffset: 2)
            return .errorCode(code: code, reason: reason)
        case .addressErrorCode:
            let (code, reason) = try decodeErrorCode(type, bytes, range, classOffset: 2)
            return .addressErrorCode(family: u8(0), code: code, reason: reason)
        case .unknownAttributes:
            guard length % 2 == 0 else { throw lengthError(type, range, expected: "a multiple of 2") }
            return .unknownAttributes((0..<(length / 2)).map { u16($0 * 2) })
        case .changeRequest:
            try expect(4)
            let flags = u32(0)
            return .changeRequest(changeIP: flags & 0x4 != 0, changePort: flags & 0x2 != 0)
        case .channelNumber:
            try expect(4, or: 2)  // 2: old clients omit the RFFU half (Malcolm test capture)
            return .channelNumber(u16(0))
        case .requestedTransport:
            try expect(4, or: 1)  // 1: the protocol byte alone (Malcolm test capture)
            return .requestedTransport(u8(0))
        case .addressFamily:
            try expect(4)
            return .addressFamily(u8(0))
        case .evenPort:
            try expect(1, or: 4)  // 4: the R-bit byte plus padding counted in the length (Malcolm test capture)
            return .evenPort(reserveNext: u8(0) & 0x80 != 0)
        case .responsePort:
            try expect(4)
            return .responsePort(u16(0))
        case .passwordAlgorithm:
            let list = try decodeAlgorithms(type, bytes, range)
            guard list.count == 1, let only = list.first else {
                throw lengthError(type, range, expected: "one algorithm")
            }
            return .passwordAlgorithm(only)
        case .passwordAlgorithms:
            return .passwordAlgorithms(try decodeAlgorithms(type, bytes, range))
        case .icmp:
            try expect(8)
            return .icmp(type: u8(2), code: u8(3), data: u32(4))
        case .transmitCounter:
            try expect(4)
            return .transmitCounter(requests: u8(2), responses: u8(3))
        case .messageIntegritySHA256:
            guard (16...32).contains(length), length % 4 == 0 else {
                throw lengthError(type, range, expected: "16 to 32, a multiple of 4")
            }
            return .messageIntegritySHA256(ShortBytes(bytes, range))
        case .accessToken:
            let nonceLength = Int(u16(0))
            guard length >= 2, 2 + nonceLength <= length else {
                throw lengthError(type, range, expected: "2 + nonce length (\(nonceLength)) or more")
            }
            return .accessToken(
                nonce: ByteCursor.copy(bytes, (start + 2)..<(start + 2 + nonceLength)),
                encryptedBlock: ByteCursor.copy(bytes, (start + 2 + nonceLength)..<range.upperBound))
        case .googNetworkInfo:
            try expect(4)
            return .googNetworkInfo(networkID: u16(0), cost: u16(2))
        case .googMiscInfo:
            guard length % 2 == 0 else { throw lengthError(type, range, expected: "a multiple of 2") }
            return .googMiscInfo((0..<(length / 2)).map { u16($0 * 2) })
        case .nominationOrFlowDescription:
            return .bytes(ByteCursor.copy(bytes, range))  // typed as NOMINATION afterwards when in an ICE check
        case .msSequenceNumber:
            try expect(24, or: 4)  // 4: the sequence number alone, as Teams sends in some requests
            if length == 4 { return .msSequenceNumber(connectionID: [], sequence: u32(0)) }
            return .msSequenceNumber(connectionID: ByteCursor.copy(bytes, start..<(start + 20)), sequence: u32(20))
        case .msServiceQuality:
            try expect(4)
            return .msServiceQuality(streamType: u16(0), quality: u16(2))
        }
    }

    /// UTF-8 text; trailing NULs dropped (some stacks send C strings with their terminator). Valid UTF-8
    /// is copied straight from the packet (no allocation for up to 15 bytes); invalid bytes are repaired.
    static func text(_ bytes: borrowing Span<UInt8>, _ range: Range<Int>) -> String {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { return "" }
        var end = range.upperBound
        while end > range.lowerBound && bytes[end - 1] == 0 { end -= 1 }
        let trimmed = range.lowerBound..<end
        if let utf8 = try? UTF8Span(validating: bytes.extracting(trimmed)) { return String(copying: utf8) }
        return String(decoding: ByteCursor.copy(bytes, trimmed), as: UTF8.self)
    }

    /// Address layout (RFC 8489 §14.1/14.2): 0, family, port, address; XOR with cookie + transaction id.
    static func decodeAddress(_ type: AttributeType, _ bytes: borrowing Span<UInt8>, _ range: Range<Int>, xor: Bool)
        throws(STUNDecodingError) -> TransportAddress
    {
        let start = range.lowerBound
        guard range.count >= 4, let family = ByteCursor.getUInt8(bytes, at: start + 1),
            let rawPort = ByteCursor.getUInt16(bytes, at: start + 2)
        else { throw lengthError(type, range, expected: "8 (IPv4) or 20 (IPv6)") }
        let addressLength: Int
        switch family {
        case 0x01: addressLength = 4
        case 0x02: addressLength = 16
        default:
            throw STUNDecodingError(
                .unknownAddressFamily, field: "attribute \(type.name)/family", offset: start + 1,
                detail: "family 0x" + String(family, radix: 16))
        }
        guard range.count == 4 + addressLength else {
            throw lengthError(type, range, expected: family == 1 ? "8 for IPv4" : "20 for IPv6")
        }
        // Accumulated as an integer (no array per address: every success response carries one). The range
        // was checked above and bytes 4..<20 exist in any message that got this far.
        var value: UInt128 = 0
        for index in 0..<addressLength {
            guard var byte = ByteCursor.getUInt8(bytes, at: start + 4 + index),
                let mask = ByteCursor.getUInt8(bytes, at: 4 + index)
            else { throw lengthError(type, range, expected: "8 (IPv4) or 20 (IPv6)") }
            if xor { byte ^= mask }  // bytes 4..<20: magic cookie then transaction id
            value = value << 8 | UInt128(byte)
        }
        let port = xor ? rawPort ^ 0x2112 : rawPort
        let ip: IPAddress = addressLength == 4 ? .v4(UInt32(truncatingIfNeeded: value)) : .v6(value)
        return TransportAddress(ip: ip, port: port)
    }

    /// ERROR-CODE layout (RFC 8489 §14.8): 21 reserved bits, class (3 bits, 3–6), number (0–99), reason.
    static func decodeErrorCode(_ type: AttributeType, _ bytes: borrowing Span<UInt8>, _ range: Range<Int>, classOffset: Int)
        throws(STUNDecodingError) -> (Int, String)
    {
        let start = range.lowerBound
        guard range.count >= 4, let classByte = ByteCursor.getUInt8(bytes, at: start + classOffset),
            let number = ByteCursor.getUInt8(bytes, at: start + classOffset + 1)
        else { throw lengthError(type, range, expected: "4 or more") }
        let errorClass = Int(classByte & 0x07)
        guard (3...6).contains(errorClass) else {
            throw STUNDecodingError(
                .badErrorClass, field: "attribute \(type.name)/class", offset: start + classOffset,
                detail: "class \(errorClass) is outside 3–6")
        }
        guard number <= 99 else {
            throw STUNDecodingError(
                .badErrorNumber, field: "attribute \(type.name)/number", offset: start + classOffset + 1,
                detail: "number \(number) is over 99")
        }
        let reason = text(bytes, (start + 4)..<range.upperBound)
        return (errorClass * 100 + Int(number), reason)
    }

    /// PASSWORD-ALGORITHM(S) (RFC 8489 §14.11–14.12): algorithm, parameters length, parameters padded to 4.
    static func decodeAlgorithms(_ type: AttributeType, _ bytes: borrowing Span<UInt8>, _ range: Range<Int>)
        throws(STUNDecodingError) -> [PasswordAlgorithm]
    {
        var offset = range.lowerBound
        var list: [PasswordAlgorithm] = []
        while offset < range.upperBound {
            guard let algorithm = ByteCursor.getUInt16(bytes, at: offset, limit: range.upperBound),
                let parametersLength = ByteCursor.getUInt16(bytes, at: offset + 2, limit: range.upperBound),
                offset + 4 + Int(parametersLength) <= range.upperBound
            else { throw lengthError(type, range, expected: "whole algorithm entries") }
            let parameters = ByteCursor.copy(bytes, (offset + 4)..<(offset + 4 + Int(parametersLength)))
            list.append(PasswordAlgorithm(algorithm: algorithm, parameters: parameters))
            offset += 4 + ((Int(parametersLength) + 3) & ~3)
            guard list.count <= Limits.attributesPerMessage else {
                throw lengthError(type, range, expected: "fewer entries")
            }
        }
        return list
    }
}
