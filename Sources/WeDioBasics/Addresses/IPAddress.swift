/// An IPv4 or IPv6 address held as an integer; never a `String` inside the library.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible, BitwiseCopyable {
    case v4(UInt32)
    case v6(UInt128)

    public var isIPv4: Bool {
        switch self {
        case .v4: true
        case .v6: false
        }
    }

    /// Builds an address from 4 or 16 network-order bytes; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            var value: UInt32 = 0
            for byte in bytes { value = value << 8 | UInt32(byte) }
            self = .v4(value)
        case 16:
            var value: UInt128 = 0
            for byte in bytes { value = value << 8 | UInt128(byte) }
            self = .v6(value)
        default:
            return nil
        }
    }

    /// Network-order bytes (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let value):
            return (0..<16).map { UInt8(truncatingIfNeeded: value >> (120 - 8 * $0)) }
        }
    }

    /// RFC 1918 / RFC 4193 / link-local / loopback / CGNAT: addresses that cannot be reached from the Internet.
    public var isPrivate: Bool {
        switch self {
        case .v4(let a):
            let first = a >> 24
            let second = (a >> 16) & 0xFF
            return first == 10 || first == 127 || (first == 172 && (16...31).contains(second))
                || (first == 192 && second == 168) || (first == 169 && second == 254)
                || (first == 100 && (64...127).contains(second))
        case .v6(let a):
            let top16 = UInt16(truncatingIfNeeded: a >> 112)
            return a == 1 || (top16 & 0xFE00) == 0xFC00 || (top16 & 0xFFC0) == 0xFE80
        }
    }

    public var description: String {
        switch self {
        case .v4:
            var text = ByteBuffer(capacity: 16)
            appendText(to: &text)
            return text.text
        case .v6(let a):
            return Self.formatIPv6(a)
        }
    }

    /// RFC 5952 text: lower case, longest run (≥ 2) of zero groups compressed, IPv4-mapped shown dotted.
    private static func formatIPv6(_ value: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * $0)) }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            let v4 = UInt32(groups[6]) << 16 | UInt32(groups[7])
            return "::ffff:" + IPAddress.v4(v4).description
        }
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestLength >= 2 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// Parses dotted IPv4 or RFC 4291 IPv6 text (with `::` and an embedded dotted quad).
    public init?(_ text: some StringProtocol) {
        if let v4 = Self.parseIPv4(text) {
            self = .v4(v4)
        } else if let v6 = Self.parseIPv6(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    private static func parseIPv4(_ text: some StringProtocol) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt8(part) else {
                return nil
            }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    private static func parseIPv6(_ text: some StringProtocol) -> UInt128? {
        var body = Substring(text)
        if let percent = body.firstIndex(of: "%") { body = body[..<percent] }  // zone id is not part of the address
        let halves = body.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count <= 2, !body.isEmpty else { return nil }
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), let v4 = parseIPv4(piece) {
                    out.append(UInt16(v4 >> 16))
                    out.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    out.append(group)
                }
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}
