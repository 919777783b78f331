/// How an attribute's value is laid out; drives decoding and encoding. One table (`AttributeType.registry`)
/// gives every known type its name and format.
public enum AttributeFormat: Sendable, Equatable {
    /// Family + port + address (RFC 8489 §14.1).
    case address
    /// XOR'd with the magic cookie and transaction id (RFC 8489 §14.2).
    case xorAddress
    /// UTF-8 text, with the maximum byte length the RFC allows (nil: unbounded).
    case text(maximumBytes: Int?)
    /// Opaque bytes; `secret` values are never rendered.
    case bytes(secret: Bool)
    /// Exactly `count` opaque bytes (MESSAGE-INTEGRITY 20, USERHASH 32, …).
    case fixedBytes(count: Int)
    case uint32
    case uint64
    /// No value (USE-CANDIDATE, DONT-FRAGMENT).
    case empty
    case errorCode
    case unknownAttributes
    case changeRequest
    case channelNumber
    case requestedTransport
    case addressFamily
    case evenPort
    case responsePort
    case passwordAlgorithm
    case passwordAlgorithms
    case addressErrorCode
    case icmp
    case transmitCounter
    case messageIntegritySHA256
    case accessToken
    case googNetworkInfo
    case googMiscInfo
    /// 0xC001: libwebrtc NOMINATION in ICE checks, IANA's ENF-FLOW-DESCRIPTION elsewhere.
    case nominationOrFlowDescription
    case msSequenceNumber
    case msServiceQuality
}

/// A STUN attribute type number. 0x0000–0x7FFF are comprehension-required (RFC 8489 §14).
public struct AttributeType: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    // Inlinable, like the constants below: compared for every attribute of every message, the constants had been
    // reached through an accessor call each (a one-time-initialised global of another module).
    @inlinable public static func == (lhs: AttributeType, rhs: AttributeType) -> Bool { lhs.rawValue == rhs.rawValue }

    public var isComprehensionRequired: Bool { rawValue < 0x8000 }

    public struct Entry: Sendable {
        public var name: String
        public var format: AttributeFormat
    }

    /// The registry entry, nil for a type WeDio does not know. Array lookups for the three ranges that
    /// hold nearly every attribute (decoding looks this up for each attribute; a dictionary costs ~20 ns).
    public var entry: Entry? {
        guard let index = Self.tableIndex(rawValue) else { return Self.registry[rawValue] }
        return Self.entries.indices.contains(index) ? Self.entries[index] : nil
    }

    /// The registry's format alone, nil for a type WeDio does not know: what decoding needs for each
    /// attribute, without copying (retaining and releasing) the entry's name.
    public var format: AttributeFormat? { Self.formatTable.format(of: self) }

    /// Every format in one list, for a decoder that looks up each attribute of a message: taken once a message
    /// and indexed per attribute (through `format`, each look-up passed the static's initialisation check and
    /// copied three tables, thirty instructions an attribute).
    public static let formatTable = FormatTable(formats: entries.map { $0?.format })

    public struct FormatTable: Sendable {
        /// The formats of the tabled ranges, in `tableIndex` order (nil: not known).
        let formats: [AttributeFormat?]

        public func format(of type: AttributeType) -> AttributeFormat? {
            guard let index = AttributeType.tableIndex(type.rawValue) else { return AttributeType.registry[type.rawValue]?.format }
            return formats.indices.contains(index) ? formats[index] : nil
        }
    }

    /// A type in 0x00xx, 0x80xx or 0xC0xx: its place in `entries` (those three ranges, in that order); nil for
    /// any other range.
    static func tableIndex(_ raw: UInt16) -> Int? {
        let low = Int(raw & 0xFF)
        switch raw & 0xFF00 {
        case 0x0000: return low
        case 0x8000: return 256 + low
        case 0xC000: return 512 + low
        default: return nil
        }
    }

    private static let entries = [UInt16(0x0000), 0x8000, 0xC000].flatMap { base in
        (0..<256).map { registry[base | UInt16($0)] }
    }

    /// The IANA (or vendor) name; `0xABCD` for an unknown type.
    public var name: String { entry?.name ?? Self.hex(rawValue) }

    public var description: String { name }

    static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    public static func < (lhs: AttributeType, rhs: AttributeType) -> Bool { lhs.rawValue < rhs.rawValue }

    // MARK: Constants used by the codec and the analysis

    @inlinable public static var mappedAddress: AttributeType { AttributeType(rawValue: 0x0001) }
    @inlinable public static var responseAddress: AttributeType { AttributeType(rawValue: 0x0002) }
    @inlinable public static var changeRequest: AttributeType { AttributeType(rawValue: 0x0003) }
    @inlinable public static var sourceAddress: AttributeType { AttributeType(rawValue: 0x0004) }
    @inlinable public static var changedAddress: AttributeType { AttributeType(rawValue: 0x0005) }
    @inlinable public static var username: AttributeType { AttributeType(rawValue: 0x0006) }
    @inlinable public static var password: AttributeType { AttributeType(rawValue: 0x0007) }
    @inlinable public static var messageIntegrity: AttributeType { AttributeType(rawValue: 0x0008) }
    @inlinable public static var errorCode: AttributeType { AttributeType(rawValue: 0x0009) }
    @inlinable public static var unknownAttributes: AttributeType { AttributeType(rawValue: 0x000A) }
    @inlinable public static var reflectedFrom: AttributeType { AttributeType(rawValue: 0x000B) }
    @inlinable public static var channelNumber: AttributeType { AttributeType(rawValue: 0x000C) }
    @inlinable public static var lifetime: AttributeType { AttributeType(rawValue: 0x000D) }
    @inlinable public static var msMagicCookie: AttributeType { AttributeType(rawValue: 0x000F) }
    @inlinable public static var xorPeerAddress: AttributeType { AttributeType(rawValue: 0x0012) }
    @inlinable public static var data: AttributeType { AttributeType(rawValue: 0x0013) }
    @inlinable public static var realm: AttributeType { AttributeType(rawValue: 0x0014) }
    @inlinable public static var nonce: AttributeType { AttributeType(rawValue: 0x0015) }
    @inlinable public static var xorRelayedAddress: AttributeType { AttributeType(rawValue: 0x0016) }
    @inlinable public static var requestedAddressFamily: AttributeType { AttributeType(rawValue: 0x0017) }
    @inlinable public static var evenPort: AttributeType { AttributeType(rawValue: 0x0018) }
    @inlinable public static var requestedTransport: AttributeType { AttributeType(rawValue: 0x0019) }
    @inlinable public static var dontFragment: AttributeType { AttributeType(rawValue: 0x001A) }
    @inlinable public static var accessToken: AttributeType { AttributeType(rawValue: 0x001B) }
    @inlinable public static var messageIntegritySHA256: AttributeType { AttributeType(rawValue: 0x001C) }
    @inlinable public static var passwordAlgorithm: AttributeType { AttributeType(rawValue: 0x001D) }
    @inlinable public static var userhash: AttributeType { AttributeType(rawValue: 0x001E) }
    @inlinable public static var xorMappedAddress: AttributeType { AttributeType(rawValue: 0x0020) }
    @inlinable public static var reservationToken: AttributeType { AttributeType(rawValue: 0x0022) }
    @inlinable public static var priority: AttributeType { AttributeType(rawValue: 0x0024) }
    @inlinable public static var useCandidate: AttributeType { AttributeType(rawValue: 0x0025) }
    @inlinable public static var padding: AttributeType { AttributeType(rawValue: 0x0026) }
    @inlinable public static var responsePort: AttributeType { AttributeType(rawValue: 0x0027) }
    @inlinable public static var connectionID: AttributeType { AttributeType(rawValue: 0x002A) }
    @inlinable public static var additionalAddressFamily: AttributeType { AttributeType(rawValue: 0x8000) }
    @inlinable public static var addressErrorCode: AttributeType { AttributeType(rawValue: 0x8001) }
    @inlinable public static var passwordAlgorithms: AttributeType { AttributeType(rawValue: 0x8002) }
    @inlinable public static var alternateDomain: AttributeType { AttributeType(rawValue: 0x8003) }
    @inlinable public static var icmp: AttributeType { AttributeType(rawValue: 0x8004) }
    @inlinable public static var msVersion: AttributeType { AttributeType(rawValue: 0x8008) }
    @inlinable public static var msXORMappedAddress: AttributeType { AttributeType(rawValue: 0x8020) }
    @inlinable public static var software: AttributeType { AttributeType(rawValue: 0x8022) }
    @inlinable public static var alternateServer: AttributeType { AttributeType(rawValue: 0x8023) }
    @inlinable public static var transactionTransmitCounter: AttributeType { AttributeType(rawValue: 0x8025) }
    @inlinable public static var cacheTimeout: AttributeType { AttributeType(rawValue: 0x8027) }
    @inlinable public static var fingerprint: AttributeType { AttributeType(rawValue: 0x8028) }
    @inlinable public static var iceControlled: AttributeType { AttributeType(rawValue: 0x8029) }
    @inlinable public static var iceControlling: AttributeType { AttributeType(rawValue: 0x802A) }
    @inlinable public static var responseOrigin: AttributeType { AttributeType(rawValue: 0x802B) }
    @inlinable public static var otherAddress: AttributeType { AttributeType(rawValue: 0x802C) }
    @inlinable public static var ecnCheck: AttributeType { AttributeType(rawValue: 0x802D) }
    @inlinable public static var thirdPartyAuthorization: AttributeType { AttributeType(rawValue: 0x802E) }
    @inlinable public static var origin: AttributeType { AttributeType(rawValue: 0x802F) }
    @inlinable public static var mobilityTicket: AttributeType { AttributeType(rawValue: 0x8030) }
    @inlinable public static var msSequenceNumber: AttributeType { AttributeType(rawValue: 0x8050) }
    @inlinable public static var msServiceQuality: AttributeType { AttributeType(rawValue: 0x8055) }
    @inlinable public static var msMultiplexedTURNSessionID: AttributeType { AttributeType(rawValue: 0x8095) }
    @inlinable public static var nomination: AttributeType { AttributeType(rawValue: 0xC001) }
    @inlinable public static var googNetworkInfo: AttributeType { AttributeType(rawValue: 0xC057) }
    @inlinable public static var googLastICECheckReceived: AttributeType { AttributeType(rawValue: 0xC058) }
    @inlinable public static var googMiscInfo: AttributeType { AttributeType(rawValue: 0xC059) }
    @inlinable public static var googConnectionID: AttributeType { AttributeType(rawValue: 0xC05B) }
    @inlinable public static var googDelta: AttributeType { AttributeType(rawValue: 0xC05C) }
    @inlinable public static var googDeltaAck: AttributeType { AttributeType(rawValue: 0xC05D) }
    @inlinable public static var googMessageIntegrity32: AttributeType { AttributeType(rawValue: 0xC060) }

    /// Every attribute type WeDio decodes, with its source document.
    public static let registry: [UInt16: Entry] = {
        var table: [UInt16: Entry] = [:]
        func add(_ code: UInt16, _ name: String, _ format: AttributeFormat) { table[code] = Entry(name: name, format: format) }
        // RFC 8489 (STUN) §14 / §18.3; text limits from §14.3, §14.8–14.10
        add(0x0001, "MAPPED-ADDRESS", .address)
        add(0x0006, "USERNAME", .text(maximumBytes: 513))
        add(0x0008, "MESSAGE-INTEGRITY", .fixedBytes(count: 20))
        add(0x0009, "ERROR-CODE", .errorCode)
        add(0x000A, "UNKNOWN-ATTRIBUTES", .unknownAttributes)
        add(0x0014, "REALM", .text(maximumBytes: 763))
        add(0x0015, "NONCE", .text(maximumBytes: 763))
        add(0x001C, "MESSAGE-INTEGRITY-SHA256", .messageIntegritySHA256)
        add(0x001D, "PASSWORD-ALGORITHM", .passwordAlgorithm)
        add(0x001E, "USERHASH", .fixedBytes(count: 32))
        add(0x0020, "XOR-MAPPED-ADDRESS", .xorAddress)
        add(0x8002, "PASSWORD-ALGORITHMS", .passwordAlgorithms)
        add(0x8003, "ALTERNATE-DOMAIN", .text(maximumBytes: 255))
        add(0x8022, "SOFTWARE", .text(maximumBytes: 763))
        add(0x8023, "ALTERNATE-SERVER", .address)
        add(0x8028, "FINGERPRINT", .uint32)
        // RFC 3489 (classic STUN) §11.2; reserved since RFC 5389
        add(0x0002, "RESPONSE-ADDRESS", .address)
        add(0x0003, "CHANGE-REQUEST", .changeRequest)  // re-used by RFC 5780 §7.2
        add(0x0004, "SOURCE-ADDRESS", .address)
        add(0x0005, "CHANGED-ADDRESS", .address)
        add(0x0007, "PASSWORD", .bytes(secret: true))
        add(0x000B, "REFLECTED-FROM", .address)
        // RFC 5780 (NAT behaviour discovery) §7
        add(0x0026, "PADDING", .bytes(secret: false))
        add(0x0027, "RESPONSE-PORT", .responsePort)
        add(0x8027, "CACHE-TIMEOUT", .uint32)
        add(0x802B, "RESPONSE-ORIGIN", .address)
        add(0x802C, "OTHER-ADDRESS", .address)
        // RFC 8656 (TURN) §18, RFC 6062 §6.2, RFC 8016 §3.1
        add(0x000C, "CHANNEL-NUMBER", .channelNumber)
        add(0x000D, "LIFETIME", .uint32)
        add(0x0012, "XOR-PEER-ADDRESS", .xorAddress)
        add(0x0013, "DATA", .bytes(secret: false))
        add(0x0016, "XOR-RELAYED-ADDRESS", .xorAddress)
        add(0x0017, "REQUESTED-ADDRESS-FAMILY", .addressFamily)
        add(0x0018, "EVEN-PORT", .evenPort)
        add(0x0019, "REQUESTED-TRANSPORT", .requestedTransport)
        add(0x001A, "DONT-FRAGMENT", .empty)
        add(0x0022, "RESERVATION-TOKEN", .uint64)
        add(0x002A, "CONNECTION-ID", .uint32)
        add(0x8000, "ADDITIONAL-ADDRESS-FAMILY", .addressFamily)
        add(0x8001, "ADDRESS-ERROR-CODE", .addressErrorCode)
        add(0x8004, "ICMP", .icmp)
        add(0x8030, "MOBILITY-TICKET", .bytes(secret: false))
        // RFC 8445 (ICE) §16.1
        add(0x0024, "PRIORITY", .uint32)
        add(0x0025, "USE-CANDIDATE", .empty)
        add(0x8029, "ICE-CONTROLLED", .uint64)
        add(0x802A, "ICE-CONTROLLING", .uint64)
        // RFC 7635 (third-party authorization) §6, RFC 7982 §3.1, RFC 6679 §7.2.2
        add(0x001B, "ACCESS-TOKEN", .accessToken)
        add(0x802E, "THIRD-PARTY-AUTHORIZATION", .text(maximumBytes: nil))
        add(0x8025, "TRANSACTION-TRANSMIT-COUNTER", .transmitCounter)
        add(0x802D, "ECN-CHECK-STUN", .uint32)
        // draft-ietf-tram-stun-origin §3 (never assigned by IANA; sent by some browsers of that era)
        add(0x802F, "ORIGIN", .text(maximumBytes: nil))
        // Microsoft [MS-TURN] §2.2.2, [MS-TURNBWM] §2.2, [MS-ICE2] §2.2.2
        add(0x000E, "MS-ALTERNATE-SERVER", .address)
        add(0x000F, "MAGIC-COOKIE", .uint32)
        add(0x0010, "BANDWIDTH", .uint32)
        add(0x0011, "DESTINATION-ADDRESS", .address)
        add(0x8006, "MS-TURN-UNKNOWN-8006", .bytes(secret: false))
        add(0x8008, "MS-VERSION", .uint32)
        add(0x8020, "MS-XOR-MAPPED-ADDRESS", .xorAddress)  // the pre-RFC 5389 draft number of XOR-MAPPED-ADDRESS
        add(0x8032, "MS-ALTERNATE-HOST-NAME", .text(maximumBytes: nil))
        add(0x8037, "MS-APP-ID", .bytes(secret: false))
        add(0x8039, "MS-SECURE-TAG", .bytes(secret: false))
        add(0x8050, "MS-SEQUENCE-NUMBER", .msSequenceNumber)
        add(0x8054, "MS-CANDIDATE-IDENTIFIER", .bytes(secret: false))
        add(0x8055, "MS-SERVICE-QUALITY", .msServiceQuality)
        add(0x8056, "BANDWIDTH-ACM", .bytes(secret: false))
        add(0x8057, "BANDWIDTH-RESERVATION-ID", .bytes(secret: false))
        add(0x8058, "BANDWIDTH-RESERVATION-AMOUNT", .bytes(secret: false))
        add(0x8059, "REMOTE-SITE-ADDRESS", .bytes(secret: false))
        add(0x805A, "REMOTE-RELAY-SITE-ADDRESS", .bytes(secret: false))
        add(0x805B, "LOCAL-SITE-ADDRESS", .bytes(secret: false))
        add(0x805C, "LOCAL-RELAY-SITE-ADDRESS", .bytes(secret: false))
        add(0x805D, "REMOTE-SITE-ADDRESS-RESPONSE", .bytes(secret: false))
        add(0x805E, "REMOTE-RELAY-SITE-ADDRESS-RESPONSE", .bytes(secret: false))
        add(0x805F, "LOCAL-SITE-ADDRESS-RESPONSE", .bytes(secret: false))
        add(0x8060, "LOCAL-RELAY-SITE-ADDRESS-RESPONSE", .bytes(secret: false))
        add(0x8061, "SIP-DIALOG-ID", .bytes(secret: false))
        add(0x8062, "SIP-CALL-ID", .bytes(secret: false))
        add(0x8068, "LOCATION-PROFILE", .bytes(secret: false))
        add(0x8070, "MS-IMPLEMENTATION-VERSION", .uint32)
        add(0x8090, "MS-ALT-MAPPED-ADDRESS", .address)
        add(0x8095, "MS-MULTIPLEXED-TURN-SESSION-ID", .uint64)
        // Expert-review range (IANA registry entries by their registrants)
        add(0xC000, "CISCO-STUN-FLOWDATA", .bytes(secret: false))
        add(0xC001, "ENF-FLOW-DESCRIPTION", .nominationOrFlowDescription)
        add(0xC002, "ENF-NETWORK-STATUS", .bytes(secret: false))
        // Google (libwebrtc api/transport/stun.h; IANA registrations by J. Oreland)
        add(0xC057, "GOOG-NETWORK-INFO", .googNetworkInfo)
        add(0xC058, "GOOG-LAST-ICE-CHECK-RECEIVED", .bytes(secret: false))
        add(0xC059, "GOOG-MISC-INFO", .googMiscInfo)
        add(0xC05A, "GOOG-OBSOLETE-1", .bytes(secret: false))
        add(0xC05B, "GOOG-CONNECTION-ID", .bytes(secret: false))
        add(0xC05C, "GOOG-DELTA", .bytes(secret: false))
        add(0xC05D, "GOOG-DELTA-ACK", .bytes(secret: false))
        add(0xC060, "GOOG-MESSAGE-INTEGRITY-32", .fixedBytes(count: 4))
        add(0xC070, "DTLS-IN-STUN", .bytes(secret: false))
        add(0xC071, "DTLS-IN-STUN-ACKNOWLEDGEMENT", .bytes(secret: false))
        add(0xFF04, "GOOG-MULTI-MAPPING", .bytes(secret: false))
        add(0xFF05, "GOOG-LOGGING-ID", .bytes(secret: false))
        return table
    }()
}
