import WeDioBasics

/// What a TLS or DTLS ClientHello says in clear about where it is going: the ALPN protocols it offers
/// (RFC 7301; TURN's is "stun.turn", RFC 7443) and the server name (SNI, RFC 6066). Everything else in it is
/// skipped. Only a ClientHello whole in the first record is read (they are, in practice: a few hundred bytes).
public struct ClientHello: Sendable, Hashable {
    public var protocols: [String] = []
    public var serverName: String?

    /// RFC 7443's ALPN label for TURN (and STUN) over TLS/DTLS.
    public static let turnProtocol = "stun.turn"

    /// Parses the start of a TLS record (`dtls` false) or a DTLS record; nil when it is not a ClientHello.
    public init?(_ bytes: borrowing Span<UInt8>, dtls: Bool) {
        // Record header: type 22 (handshake), then 5 (TLS) or 13 (DTLS) bytes; handshake header 4 or 12.
        guard ByteCursor.getUInt8(bytes, at: 0) == 22 else { return nil }
        let record = dtls ? 13 : 5
        guard ByteCursor.getUInt8(bytes, at: record) == 1 else { return nil }  // ClientHello
        var offset = record + (dtls ? 12 : 4) + 2 + 32  // client_version, random
        guard let sessionID = ByteCursor.getUInt8(bytes, at: offset) else { return nil }
        offset += 1 + Int(sessionID)
        if dtls {
            guard let cookie = ByteCursor.getUInt8(bytes, at: offset) else { return nil }
            offset += 1 + Int(cookie)
        }
        guard let suites = ByteCursor.getUInt16(bytes, at: offset) else { return nil }
        offset += 2 + Int(suites)
        guard let compression = ByteCursor.getUInt8(bytes, at: offset) else { return nil }
        offset += 1 + Int(compression)
        guard let extensionsLength = ByteCursor.getUInt16(bytes, at: offset) else { return }  // no extensions
        offset += 2
        let end = min(bytes.count, offset + Int(extensionsLength))
        while let type = ByteCursor.getUInt16(bytes, at: offset, limit: end),
            let length = ByteCursor.getUInt16(bytes, at: offset + 2, limit: end)
        {
            let body = offset + 4
            let bodyEnd = body + Int(length)
            guard bodyEnd <= end else { break }
            switch type {
            case 16:  // ALPN: a 2-byte list length, then 1-byte-length names
                var name = body + 2
                while let count = ByteCursor.getUInt8(bytes, at: name), name + 1 + Int(count) <= bodyEnd, protocols.count < 16 {
                    protocols.append(Self.text(bytes, name + 1, Int(count)))
                    name += 1 + Int(count)
                }
            case 0:  // SNI: a 2-byte list length, type 0 (host_name), a 2-byte length, the name
                if ByteCursor.getUInt8(bytes, at: body + 2) == 0, let count = ByteCursor.getUInt16(bytes, at: body + 3),
                    body + 5 + Int(count) <= bodyEnd
                {
                    serverName = Self.text(bytes, body + 5, min(Int(count), 255))
                }
            default:
                break
            }
            offset = bodyEnd
        }
    }

    private static func text(_ bytes: borrowing Span<UInt8>, _ start: Int, _ count: Int) -> String {
        String(decoding: ByteCursor.copy(bytes, start..<(start + count)), as: UTF8.self)
    }

    public var offersTURN: Bool { protocols.contains(Self.turnProtocol) }
}
