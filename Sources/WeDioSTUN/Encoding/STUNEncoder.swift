import WeDioBasics

/// Encodes messages (for tests and synthetic captures) so that `decode(encode(m)) == m`.
/// Padding is zero (RFC 8489 §14). With `key`, integrity attributes get their real MAC; with
/// `fillFingerprint`, FINGERPRINT gets its real CRC.
public enum STUNEncoder {
    public static func encode(_ message: STUNMessage, key: STUNKey? = nil, fillFingerprint: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        append16(&out, message.messageType)
        append16(&out, 0)
        if message.isClassic {
            out.append(contentsOf: message.transactionID.bytes)
        } else {
            append32(&out, STUNMessage.magicCookie)
            out.append(contentsOf: message.transactionID.bytes)
        }
        for attribute in message.attributes {
            let offset = out.count
            var value = encodeValue(attribute.value, type: attribute.type, header: out)
            append16(&out, attribute.type.rawValue)
            append16(&out, UInt16(truncatingIfNeeded: value.count))
            if let key, attribute.type == .messageIntegrity || attribute.type == .messageIntegritySHA256
                || attribute.type == .googMessageIntegrity32
            {
                let placeholder = STUNAttribute(type: attribute.type, value: attribute.value, offset: offset, length: value.count)
                let mac = Integrity.mac(for: attribute.type, input: Integrity.hmacInput(out.span, attribute: placeholder), key: key)
                value = Array(mac.prefix(value.count))
            }
            if fillFingerprint && attribute.type == .fingerprint {
                let crc = Fingerprint.expected(out.span, attributeOffset: offset)
                value = [UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
            }
            out.append(contentsOf: value)
            if !message.isClassic && !message.isMSTURN {
                while out.count % 4 != 0 { out.append(0) }
            }
            setLength(&out)
        }
        setLength(&out)
        return out
    }

    private static func setLength(_ out: inout [UInt8]) {
        let length = out.count - STUNMessage.headerLength
        out[2] = UInt8(truncatingIfNeeded: length >> 8)  // safe: out holds the 20-byte header
        out[3] = UInt8(truncatingIfNeeded: length)
    }

    static func append16(_ out: inout [UInt8], _ value: UInt16) { out.appendBigEndian(value) }

    static func append32(_ out: inout [UInt8], _ value: UInt32) { out.appendBigEndian(value) }

    /// `header` is the message so far: its bytes 4..<20 are the XOR key of XOR addresses.
    static func encodeValue(_ value: AttributeValue, type: AttributeType, header: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        switch value {
        case .address(let address):
            encodeAddress(&out, address, xorKey: nil)
        case .xorAddress(let address):
            encodeAddress(&out, address, xorKey: Array(header[4..<20]))
        case .text(let text):
            out.append(contentsOf: text.utf8)
        case .bytes(let bytes):
            out = bytes
        case .digest(let digest), .messageIntegritySHA256(let digest):
            out = digest.bytes
        case .uint32(let value), .nomination(let value):
            append32(&out, value)
        case .uint64(let value):
            append32(&out, UInt32(value >> 32))
            append32(&out, UInt32(truncatingIfNeeded: value))
        case .empty:
            break
        case .errorCode(let code, let reason):
            append16(&out, 0)
            out.append(UInt8(truncatingIfNeeded: code / 100))
            out.append(UInt8(truncatingIfNeeded: code % 100))
            out.append(contentsOf: reason.utf8)
        case .addressErrorCode(let family, let code, let reason):
            out.append(family)
            out.append(0)
            out.append(UInt8(truncatingIfNeeded: code / 100))
            out.append(UInt8(truncatingIfNeeded: code % 100))
            out.append(contentsOf: reason.utf8)
        case .unknownAttributes(let types), .googMiscInfo(let types):
            for item in types { append16(&out, item) }
        case .changeRequest(let changeIP, let changePort):
            append32(&out, (changeIP ? 4 : 0) | (changePort ? 2 : 0))
        case .channelNumber(let channel):
            append16(&out, channel)
            append16(&out, 0)
        case .requestedTransport(let proto):
            out = [proto, 0, 0, 0]
        case .addressFamily(let family):
            out = [family, 0, 0, 0]
        case .evenPort(let reserveNext):
            out = [reserveNext ? 0x80 : 0]
        case .responsePort(let port):
            append16(&out, port)
            append16(&out, 0)
        case .passwordAlgorithm(let algorithm):
            encodeAlgorithm(&out, algorithm)
        case .passwordAlgorithms(let algorithms):
            for algorithm in algorithms { encodeAlgorithm(&out, algorithm) }
        case .icmp(let icmpType, let code, let data):
            out = [0, 0, icmpType, code]
            append32(&out, data)
        case .transmitCounter(let requests, let responses):
            out = [0, 0, requests, responses]
        case .accessToken(let nonce, let block):
            append16(&out, UInt16(truncatingIfNeeded: nonce.count))
            out.append(contentsOf: nonce)
            out.append(contentsOf: block)
        case .googNetworkInfo(let networkID, let cost):
            append16(&out, networkID)
            append16(&out, cost)
        case .msSequenceNumber(let connectionID, let sequence):
            out = connectionID
            append32(&out, sequence)
        case .msServiceQuality(let streamType, let quality):
            append16(&out, streamType)
            append16(&out, quality)
        }
        return out
    }

    static func encodeAddress(_ out: inout [UInt8], _ address: TransportAddress, xorKey: [UInt8]?) {
        out.append(0)
        out.append(address.ip.isIPv4 ? 0x01 : 0x02)
        append16(&out, xorKey == nil ? address.port : address.port ^ 0x2112)
        let raw = address.ip.bytes
        for (index, byte) in raw.enumerated() {
            out.append(byte ^ (xorKey.map { index < $0.count ? $0[index] : 0 } ?? 0))
        }
    }

    static func encodeAlgorithm(_ out: inout [UInt8], _ algorithm: PasswordAlgorithm) {
        append16(&out, algorithm.algorithm)
        append16(&out, UInt16(truncatingIfNeeded: algorithm.parameters.count))
        out.append(contentsOf: algorithm.parameters)
        while out.count % 4 != 0 { out.append(0) }
    }

    /// A ChannelData message, padded to 4 when `padded` (required on streams).
    public static func channelData(channel: UInt16, data: [UInt8], padded: Bool) -> [UInt8] {
        var out: [UInt8] = []
        append16(&out, channel)
        append16(&out, UInt16(truncatingIfNeeded: data.count))
        out.append(contentsOf: data)
        if padded { while out.count % 4 != 0 { out.append(0) } }
        return out
    }
}
