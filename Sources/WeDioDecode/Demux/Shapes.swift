import WeDioBasics

/// Cheap shape checks on the first bytes of a payload (in the spirit of pion's `IsMessage`): they decide
/// the kind; the STUN codec later decodes fully.
public enum Shapes {
    public static let magicCookie: UInt32 = 0x2112_A442

    /// A STUN header at `start` with the cookie and top bits 00; returns the message size it declares.
    public static func stunMessageLength(_ bytes: borrowing Span<UInt8>, at start: Int = 0) -> Int? {
        guard let type = ByteCursor.getUInt16(bytes, at: start), type & 0xC000 == 0,
            let length = ByteCursor.getUInt16(bytes, at: start + 2),
            ByteCursor.getUInt32(bytes, at: start + 4) == magicCookie
        else { return nil }
        // The length should be a multiple of 4, but [MS-TURN] (no padding) and WhatsApp's TURN break
        // that rule; the cookie and the exact length are evidence enough (as in Wireshark's heuristic).
        return 20 + Int(length)
    }

    /// True when the datagram is exactly one RFC 5389/8489 message.
    public static func isSTUN(_ bytes: borrowing Span<UInt8>) -> Bool {
        stunMessageLength(bytes) == bytes.count
    }

    /// RFC 3489 message types: Binding and Shared Secret request / response / error response.
    static func isClassicType(_ type: UInt16) -> Bool {
        switch type {
        case 0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112: true
        default: false
        }
    }

    /// A classic (RFC 3489) message: known type, no cookie required, length exact, attribute walk lands on the end.
    /// `strict` also requires every attribute to be an RFC 3489 one (0x0001–0x000B, or XOR-MAPPED 0x8020 /
    /// SOFTWARE 0x8022 of the 3489bis drafts) with a plausible length: the test used off port 3478.
    public static func isClassicSTUN(_ bytes: borrowing Span<UInt8>, strict: Bool = false) -> Bool {
        guard bytes.count >= 20, let type = ByteCursor.getUInt16(bytes, at: 0), isClassicType(type),
            let length = ByteCursor.getUInt16(bytes, at: 2), 20 + Int(length) == bytes.count
        else { return false }
        var offset = 20
        var attributes = 0
        while offset < bytes.count {
            guard let attributeType = ByteCursor.getUInt16(bytes, at: offset),
                let attributeLength = ByteCursor.getUInt16(bytes, at: offset + 2)
            else { return false }
            if strict && !isPlausibleClassicAttribute(attributeType, length: Int(attributeLength)) { return false }
            // RFC 3489 attributes are 4-aligned by construction (no padding rule of its own).
            offset += 4 + Int(attributeLength)
            attributes += 1
            if attributes > Limits.attributesPerMessage { return false }
        }
        return offset == bytes.count
    }

    static func isPlausibleClassicAttribute(_ type: UInt16, length: Int) -> Bool {
        switch type {
        case 0x0001, 0x0002, 0x0004, 0x0005, 0x000B, 0x8020: length == 8  // addresses (IPv4 in RFC 3489)
        case 0x0003: length == 4  // CHANGE-REQUEST
        case 0x0006, 0x0007: length > 0 && length % 4 == 0 && length <= 512  // USERNAME, PASSWORD
        case 0x0008: length == 20  // MESSAGE-INTEGRITY
        case 0x0009: length >= 4 && length <= 768  // ERROR-CODE
        case 0x000A: length % 2 == 0 && length <= 64  // UNKNOWN-ATTRIBUTES
        case 0x8022: length <= 768  // SOFTWARE
        default: false
        }
    }

    /// 128-bit transaction id of a classic message (bytes 4..<20).
    public static func classicTransactionID(_ bytes: borrowing Span<UInt8>) -> UInt128? {
        guard bytes.count >= 20 else { return nil }
        var value: UInt128 = 0
        for index in 4..<20 { value = value << 8 | UInt128(bytes[index]) }
        return value
    }

    /// ChannelData header at `start`: channel 0x4000–0x7FFF and the stated length; returns (channel, data length).
    public static func channelDataHeader(_ bytes: borrowing Span<UInt8>, at start: Int = 0) -> (UInt16, Int)? {
        guard let channel = ByteCursor.getUInt16(bytes, at: start), (0x4000...0x7FFF).contains(channel),
            let length = ByteCursor.getUInt16(bytes, at: start + 2)
        else { return nil }
        return (channel, Int(length))
    }

    /// DTLS: every record header (type 20–63 first byte, version 0xFExx) walks to the end of the datagram.
    public static func isDTLS(_ bytes: borrowing Span<UInt8>) -> Int? {
        var offset = 0
        var records = 0
        while offset < bytes.count {
            guard let type = ByteCursor.getUInt8(bytes, at: offset), (20...63).contains(type),
                let major = ByteCursor.getUInt8(bytes, at: offset + 1), major == 0xFE,
                let length = ByteCursor.getUInt16(bytes, at: offset + 11)
            else { return nil }
            offset += 13 + Int(length)
            records += 1
        }
        return offset == bytes.count && records > 0 ? records : nil
    }

    /// RTP/RTCP (RFC 3550 version 2); RTCP by packet types 192–223 per RFC 5761 §4.
    public static func rtpOrRTCP(_ bytes: borrowing Span<UInt8>) -> PayloadKind? {
        guard bytes.count >= 8, let first = ByteCursor.getUInt8(bytes, at: 0), first >> 6 == 2,
            let second = ByteCursor.getUInt8(bytes, at: 1)
        else { return nil }
        if (192...223).contains(second) { return .rtcp }
        return bytes.count >= 12 ? .rtp : nil
    }
}
