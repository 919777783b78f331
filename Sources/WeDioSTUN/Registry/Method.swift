/// A STUN method (12 bits). Names per the IANA registry; GOOG-PING from libwebrtc.
public struct STUNMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    @inlinable public init(_ rawValue: UInt16) { self.init(rawValue: rawValue) }
    // Inlinable, like the constants below: compared for every attribute of every message, the constants had been
    // reached through an accessor call each (a one-time-initialised global of another module).
    @inlinable public static func == (lhs: STUNMethod, rhs: STUNMethod) -> Bool { lhs.rawValue == rhs.rawValue }

    @inlinable public static var binding: STUNMethod { STUNMethod(rawValue: 0x001) }
    /// RFC 3489 §8.2 (removed by RFC 5389).
    @inlinable public static var sharedSecret: STUNMethod { STUNMethod(rawValue: 0x002) }
    // RFC 8656 §17
    @inlinable public static var allocate: STUNMethod { STUNMethod(rawValue: 0x003) }
    @inlinable public static var refresh: STUNMethod { STUNMethod(rawValue: 0x004) }
    @inlinable public static var send: STUNMethod { STUNMethod(rawValue: 0x006) }
    @inlinable public static var data: STUNMethod { STUNMethod(rawValue: 0x007) }
    @inlinable public static var createPermission: STUNMethod { STUNMethod(rawValue: 0x008) }
    @inlinable public static var channelBind: STUNMethod { STUNMethod(rawValue: 0x009) }
    // RFC 6062 §6.1
    @inlinable public static var connect: STUNMethod { STUNMethod(rawValue: 0x00A) }
    @inlinable public static var connectionBind: STUNMethod { STUNMethod(rawValue: 0x00B) }
    @inlinable public static var connectionAttempt: STUNMethod { STUNMethod(rawValue: 0x00C) }
    /// libwebrtc GOOG-PING (api/transport/stun.h: message types 0x200 / 0x300 / 0x310).
    @inlinable public static var googPing: STUNMethod { STUNMethod(rawValue: 0x080) }

    static let names: [UInt16: String] = [
        0x001: "Binding", 0x002: "SharedSecret", 0x003: "Allocate", 0x004: "Refresh", 0x006: "Send",
        0x007: "Data", 0x008: "CreatePermission", 0x009: "ChannelBind", 0x00A: "Connect",
        0x00B: "ConnectionBind", 0x00C: "ConnectionAttempt", 0x080: "GOOG-PING",
    ]

    public var isKnown: Bool { Self.names[rawValue] != nil }

    public var name: String {
        Self.names[rawValue] ?? "0x" + String(rawValue, radix: 16, uppercase: true)
    }

    public var description: String { name }
}

/// The message class (RFC 8489 §5).
public enum STUNClass: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case request = 0
    case indication = 1
    case successResponse = 2
    case errorResponse = 3

    public var name: String {
        switch self {
        case .request: "request"
        case .indication: "indication"
        case .successResponse: "success"
        case .errorResponse: "error"
        }
    }

    public var isResponse: Bool { self == .successResponse || self == .errorResponse }

    public var description: String { name }
}

/// The 14-bit message type: method bits M0–M11 interleaved with class bits C0 (bit 4) and C1 (bit 8).
public enum MessageType {
    public static func split(_ type: UInt16) -> (STUNMethod, STUNClass) {
        let method = (type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2)
        let classBits = UInt8(truncatingIfNeeded: ((type & 0x0010) >> 4) | ((type & 0x0100) >> 7))
        return (STUNMethod(method), STUNClass(rawValue: classBits) ?? .request)
    }

    public static func combine(_ method: STUNMethod, _ messageClass: STUNClass) -> UInt16 {
        let m = method.rawValue
        let c = UInt16(messageClass.rawValue)
        return (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }
}
