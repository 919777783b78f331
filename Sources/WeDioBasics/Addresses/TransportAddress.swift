/// The transport protocol a payload travelled on.
public enum Transport: String, Hashable, Sendable, CaseIterable, BitwiseCopyable {
    case udp
    case tcp
    case tls
    case dtls
}

/// An IP address and port, rendered `IP:port` or `[v6]:port`.
public struct TransportAddress: Hashable, Sendable, Comparable, CustomStringConvertible, BitwiseCopyable {
    public var ip: IPAddress
    public var port: UInt16

    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Spelled by `appendText`, which the report writes with: one spelling for both.
    public var description: String {
        var text = ByteBuffer(capacity: 48)
        appendText(to: &text)
        return text.text
    }

    /// Parses `IP:port` or `[v6]:port`.
    public init?(_ text: some StringProtocol) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), let ip = IPAddress(host) else { return nil }
            self.init(ip: ip, port: port)
        } else {
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
                let ip = IPAddress(text[..<colon]), ip.isIPv4
            else { return nil }
            self.init(ip: ip, port: port)
        }
    }

    /// One word into the hasher (`hashWord`, the same word hashed collections place it by) instead of a
    /// case tag, an address and a port.
    public func hash(into hasher: inout Hasher) { hasher.combine(hashWord) }

    public static func < (lhs: TransportAddress, rhs: TransportAddress) -> Bool {
        (lhs.ip, lhs.port) < (rhs.ip, rhs.port)
    }
}

/// Source and destination transport addresses plus protocol of one packet.
public struct FiveTuple: Hashable, Sendable, CustomStringConvertible, BitwiseCopyable {
    public var source: TransportAddress
    public var destination: TransportAddress
    public var transport: Transport

    public init(source: TransportAddress, destination: TransportAddress, transport: Transport) {
        self.source = source
        self.destination = destination
        self.transport = transport
    }

    /// The same flow seen from the other direction.
    public var reversed: FiveTuple {
        FiveTuple(source: destination, destination: source, transport: transport)
    }

    /// A direction-independent key: the smaller address first.
    public var canonical: FiveTuple {
        source <= destination ? self : reversed
    }

    public var description: String { "\(transport.rawValue) \(source) → \(destination)" }
}
