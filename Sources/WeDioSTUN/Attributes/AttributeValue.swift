import WeDioBasics

/// A PASSWORD-ALGORITHM entry (RFC 8489 §14.11–14.12): 0x0001 MD5, 0x0002 SHA-256.
public struct PasswordAlgorithm: Hashable, Sendable {
    public var algorithm: UInt16
    public var parameters: [UInt8]

    public init(algorithm: UInt16, parameters: [UInt8] = []) {
        self.algorithm = algorithm
        self.parameters = parameters
    }

    public static let md5: UInt16 = 0x0001
    public static let sha256: UInt16 = 0x0002

    public var name: String {
        switch algorithm {
        case Self.md5: "MD5"
        case Self.sha256: "SHA-256"
        default: "0x" + String(algorithm, radix: 16)
        }
    }
}

/// Up to 32 bytes held inline (MESSAGE-INTEGRITY, -SHA256, USERHASH, GOOG-MESSAGE-INTEGRITY-32): decoding
/// them needs no heap allocation.
public struct ShortBytes: Hashable, Sendable, CustomStringConvertible {
    public static let capacity = 32
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// One byte (at most `capacity`): an attribute's value is then 34 bytes, not 41 (see `STUNAttribute`).
    private var storedCount: UInt8 = 0
    public var count: Int { Int(storedCount) }

    /// The first `capacity` bytes of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.init(bytes.span, bytes.indices)
    }

    /// Bytes of a checked range of a span (at most `capacity`).
    public init(_ bytes: borrowing Span<UInt8>, _ range: Range<Int>) {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { return }
        // A word at a time by one big-endian load each (the range is checked above and each load below), a
        // last partial word loaded whole when the buffer goes on (MESSAGE-INTEGRITY's 20 bytes are followed by
        // FINGERPRINT) and its bytes past the value masked off; byte by byte only at the buffer's very end. Byte
        // by byte throughout was 150 instructions a MESSAGE-INTEGRITY, two per answered check.
        let kept = min(range.count, Self.capacity)
        var packed: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        unsafe bytes.withUnsafeBufferPointer { buffer in
            let raw = UnsafeRawBufferPointer(buffer)
            func word(_ index: Int) -> UInt64 {
                let start = index * 8
                guard start < kept else { return 0 }
                let valid = kept - start
                let at = range.lowerBound + start
                if at + 8 <= raw.count {
                    let value = unsafe raw.loadUnaligned(fromByteOffset: at, as: UInt64.self).bigEndian
                    return valid >= 8 ? value : value & ~(UInt64.max >> UInt64(8 * valid))
                }
                var value: UInt64 = 0
                for offset in 0..<8 {
                    value <<= 8
                    if offset < valid { unsafe value |= UInt64(buffer[at + offset]) }
                }
                return value
            }
            packed = (word(0), word(1), word(2), word(3))
        }
        words = packed
        storedCount = UInt8(truncatingIfNeeded: kept)
    }

    public var bytes: [UInt8] {
        (0..<count).map { index in
            let word: UInt64 =
                switch index / 8 {
                case 0: words.0
                case 1: words.1
                case 2: words.2
                default: words.3
                }
            return UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (index % 8)))
        }
    }

    public static func == (lhs: ShortBytes, rhs: ShortBytes) -> Bool {
        lhs.count == rhs.count && lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    public var description: String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

/// The decoded value of one attribute: one exhaustive enum over every layout in `AttributeFormat`.
public enum AttributeValue: Hashable, Sendable {
    /// MAPPED-ADDRESS and the other plain address attributes.
    case address(TransportAddress)
    /// XOR-MAPPED/PEER/RELAYED-ADDRESS, decoded to the clear address.
    case xorAddress(TransportAddress)
    case text(String)
    case bytes([UInt8])
    /// A fixed-size digest or hash (MESSAGE-INTEGRITY, USERHASH, GOOG-MESSAGE-INTEGRITY-32).
    case digest(ShortBytes)
    case uint32(UInt32)
    case uint64(UInt64)
    case empty
    /// ERROR-CODE (RFC 8489 §14.8): class × 100 + number, and the reason phrase as sent.
    case errorCode(code: Int, reason: String)
    case unknownAttributes([UInt16])
    /// CHANGE-REQUEST (RFC 5780 §7.2, RFC 3489 §11.2.4).
    case changeRequest(changeIP: Bool, changePort: Bool)
    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    case channelNumber(UInt16)
    /// REQUESTED-TRANSPORT protocol number (RFC 8656 §18.7): 17 UDP, 6 TCP.
    case requestedTransport(UInt8)
    /// REQUESTED-/ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.8, §18.11): 0x01 IPv4, 0x02 IPv6.
    case addressFamily(UInt8)
    /// EVEN-PORT R bit (RFC 8656 §18.6).
    case evenPort(reserveNext: Bool)
    /// RESPONSE-PORT (RFC 5780 §7.5).
    case responsePort(UInt16)
    case passwordAlgorithm(PasswordAlgorithm)
    case passwordAlgorithms([PasswordAlgorithm])
    /// ADDRESS-ERROR-CODE (RFC 8656 §18.12).
    case addressErrorCode(family: UInt8, code: Int, reason: String)
    /// ICMP (RFC 8656 §18.13).
    case icmp(type: UInt8, code: UInt8, data: UInt32)
    /// TRANSACTION-TRANSMIT-COUNTER (RFC 7982 §3.1).
    case transmitCounter(requests: UInt8, responses: UInt8)
    /// MESSAGE-INTEGRITY-SHA256 (16–32 bytes, RFC 8489 §14.6).
    case messageIntegritySHA256(ShortBytes)
    /// ACCESS-TOKEN (RFC 7635 §6.2): nonce and the encrypted block.
    case accessToken(nonce: [UInt8], encryptedBlock: [UInt8])
    /// GOOG-NETWORK-INFO: network id and network cost (libwebrtc: id << 16 | cost).
    case googNetworkInfo(networkID: UInt16, cost: UInt16)
    /// GOOG-MISC-INFO: a list of 16-bit values.
    case googMiscInfo([UInt16])
    /// libwebrtc NOMINATION (0xC001 in ICE checks): the renomination value.
    case nomination(UInt32)
    /// MS-SEQUENCE-NUMBER ([MS-TURN] §2.2.2.12): connection id and sequence number.
    case msSequenceNumber(connectionID: [UInt8], sequence: UInt32)
    /// MS-SERVICE-QUALITY ([MS-TURN] §2.2.2.13): stream type and service quality.
    case msServiceQuality(streamType: UInt16, quality: UInt16)
}

/// One attribute as found on the wire: its type, where it sits, and its typed value.
/// Laid out to 48 bytes (the value first, offset and length in the widths the wire allows): every decoded
/// message holds a list of these on the heap, which the analysing thread reads cold, and at 96 bytes each (a
/// 16-byte-aligned value, two full integers) a six-attribute check took nine cache lines.
public struct STUNAttribute: Hashable, Sendable {
    public var value: AttributeValue
    public var type: AttributeType
    private var storedLength: UInt16
    private var storedOffset: UInt32
    /// Present after MESSAGE-INTEGRITY (other than MI-SHA256/FINGERPRINT) or after FINGERPRINT:
    /// receivers must ignore it (RFC 8489 §14.5, §14.7).
    public var ignored: Bool

    /// Offset of the attribute header from the start of the message.
    public var offset: Int {
        get { Int(storedOffset) }
        set { storedOffset = UInt32(clamping: newValue) }
    }
    /// The value length as declared (without padding): a 16-bit field on the wire.
    public var length: Int {
        get { Int(storedLength) }
        set { storedLength = UInt16(clamping: newValue) }
    }

    public init(type: AttributeType, value: AttributeValue, offset: Int = 0, length: Int = 0, ignored: Bool = false) {
        self.type = type
        self.value = value
        storedOffset = UInt32(clamping: offset)
        storedLength = UInt16(clamping: length)
        self.ignored = ignored
    }

    /// The name to show: 0xC001 is NOMINATION when decoded as such (libwebrtc re-used IANA's ENF-FLOW-DESCRIPTION).
    public var name: String {
        if case .nomination = value { return "NOMINATION" }
        return type.name
    }
}
