import Foundation
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN

/// `--redact`: replaces every IP address of the result with a consistent pseudonym that keeps the family
/// and whether it was private (10.128.x.y / fd00::…) or public (198.18.x.y, RFC 2544's benchmarking range /
/// 2001:db8::…), and usernames, realms and ufrags with user-N, realm-N, ufrag-N. Ports, times and
/// transaction ids are kept: the report still tells the story. Replacement is by whole tokens, once, so
/// a pseudonym is never replaced again. Raw bytes of unknown attributes (`--messages`) are not rewritten.
public struct Redactor: Sendable {
    private var addresses: [String: String] = [:]
    private var names: [String: String] = [:]
    private var counters: [String: Int] = [:]
    private var nameCounters: [String: Int] = [:]
    /// Pseudonyms given so far (a later real address equal to one gets another).
    private var given: Set<String> = []

    public init(_ result: AnalysisResult) {
        learn(result)
    }

    /// A redactor that learns as it goes (`wedio sniff --redact`): each line is redacted with what is known
    /// when it is written, and the same address or name keeps its pseudonym on later lines and in the final
    /// report.
    public init() {}

    /// Learns the addresses and names of a live event (addresses in its text and keys, ufrags in its `ice` key).
    public mutating func learn(_ event: TimelineEvent) {
        var ips: [IPAddress] = []
        for text in [event.summary] + event.refs + Array(event.keys.values) { Self.addresses(in: text, into: &ips) }
        // A stream of random addresses must not grow the table without end: past the limit it starts again
        // (a line is redacted right after its event is learned, so nothing it holds is forgotten first).
        if addresses.count + ips.count > Self.remembered {
            addresses.removeAll(keepingCapacity: true)
            given.removeAll(keepingCapacity: true)
        }
        assign(ips)
        if names.count >= Self.remembered { names.removeAll(keepingCapacity: true) }
        if let session = event.keys["ice"] {
            for ufrag in session.split(separator: ":") { name(String(ufrag), "ufrag") }
        }
    }

    /// IP literals in running text: "a.b.c.d", "a.b.c.d:port", "[v6]:port", bare IPv6.
    static func addresses(in text: String, into ips: inout [IPAddress]) {
        var token = ""
        func flush() {
            defer { token = "" }
            guard token.count >= 2 else { return }
            if let ip = IPAddress(token) {
                ips.append(ip)
            } else if let colon = token.lastIndex(of: ":"), let ip = IPAddress(token[..<colon]) {
                ips.append(ip)
            }
        }
        for character in text {
            if character.isHexDigit || character == "." || character == ":" {
                token.append(character)
            } else {
                flush()
            }
        }
        flush()
    }

    /// Learns a result's addresses and names; those already known keep their pseudonyms.
    public mutating func learn(_ result: AnalysisResult) {
        var ips: [IPAddress] = []
        var seen: Set<IPAddress> = []
        func note(_ ip: IPAddress) { if seen.insert(ip).inserted { ips.append(ip) } }
        func note(_ address: TransportAddress) { note(address.ip) }
        for transaction in result.transactions.transactions {
            note(transaction.client)
            note(transaction.server)
            if let flow = transaction.responseFlow { note(flow.source); note(flow.destination) }
        }
        for session in result.iceSessions {
            session.candidates.forEach { note($0.address) }
            session.pairs.forEach { note($0.local); note($0.remote) }
        }
        for allocation in result.turnAllocations {
            note(allocation.client)
            note(allocation.server)
            allocation.relayedAddresses.forEach(note)
            allocation.mappedAddress.map(note)
            allocation.permissions.forEach { note($0.peer) }
            allocation.channels.forEach { note($0.peer) }
            allocation.relayed.keys.forEach(note)
        }
        for mapping in result.natMappings {
            note(mapping.internalAddress)
            note(mapping.externalAddress)
            note(mapping.destination)
        }
        for exchange in result.discoveryExchanges {
            [exchange.mapped, exchange.responseOrigin, exchange.otherAddress].compactMap { $0 }.forEach(note)
        }
        for record in result.messages {
            note(record.flow.source)
            note(record.flow.destination)
            for attribute in record.message.attributes {
                if case .address(let address) = attribute.value { note(address) }
                if case .xorAddress(let address) = attribute.value { note(address) }
            }
        }
        assign(ips)
        for session in result.iceSessions {
            session.ufrags.forEach { name($0, "ufrag") }
            name(session.controlling, "ufrag")
            name(session.controlled, "ufrag")
        }
        for allocation in result.turnAllocations {
            name(allocation.username, "user")
            name(allocation.realm, "realm")
        }
        for connection in result.encryptedTURN { name(connection.serverName, "host") }
        for record in result.messages {
            for attribute in record.message.attributes {
                guard case .text(let text) = attribute.value else { continue }
                if attribute.type == .username {
                    // ICE "RFRAG:LFRAG" names two ufrags; anything else is a TURN username.
                    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                    if parts.count == 2, record.message.method == .binding {
                        parts.forEach { name(String($0), "ufrag") }
                    } else {
                        name(text, "user")
                    }
                } else if attribute.type == .realm {
                    name(text, "realm")
                }
            }
        }
    }

    private mutating func name(_ original: String?, _ kind: String) {
        guard let original, !original.isEmpty, names[original] == nil else { return }
        nameCounters[kind, default: 0] += 1
        names[original] = "\(kind)-\(nameCounters[kind] ?? 1)"
    }

    /// Addresses (and names) remembered at once: a live stream of random addresses must not grow without end.
    /// Past this the table starts again with fresh pseudonyms (numbering continues, none is given twice).
    static let remembered = 262_144

    /// Gives each new address a pseudonym.
    private mutating func assign(_ ips: [IPAddress]) {
        let originals = Set(ips.map(\.description)).union(addresses.keys)
        for ip in ips where !ip.isLoopback && !ip.isUnspecified && addresses[ip.description] == nil {
            let pool = Self.pool(ip)
            // Skip pseudonyms that are real addresses of this capture; a capture holding a whole pool's worth
            // of them (hostile input) gets textual pseudonyms instead of an endless search.
            var candidate = ""
            for _ in 0..<64 {
                counters[pool, default: 0] += 1
                candidate = Self.pseudonym(pool, counters[pool] ?? 1)
                if !originals.contains(candidate) && !given.contains(candidate) { break }
            }
            if originals.contains(candidate) || given.contains(candidate) { candidate = "\(pool)-\(counters[pool] ?? 0)" }
            addresses[ip.description] = candidate
            given.insert(candidate)
        }
    }

    static func pool(_ ip: IPAddress) -> String {
        switch ip {
        case .v4: ip.isPrivate ? "v4-private" : "v4-public"
        case .v6: ip.isPrivate ? "v6-private" : "v6-public"
        }
    }

    /// Private IPv4 from 10.128.0.0/9, public IPv4 from 198.18.0.0/15 (RFC 2544), IPv6 from fd00::/8 and
    /// 2001:db8::/32; past a pool's size (8 M, 131 K) the text form "pool-N" is used.
    static func pseudonym(_ pool: String, _ index: Int) -> String {
        switch pool {
        case "v4-private":
            index < 1 << 23 ? IPAddress.v4(0x0A80_0000 | UInt32(index)).description : "\(pool)-\(index)"
        case "v4-public":
            index < 1 << 17 ? IPAddress.v4(0xC612_0000 | UInt32(index)).description : "\(pool)-\(index)"
        case "v6-private": IPAddress.v6((UInt128(0xFD00) << 112) | UInt128(index)).description
        default: IPAddress.v6((UInt128(0x2001_0DB8) << 96) | UInt128(index)).description
        }
    }

    /// Redacts running text (the terminal and Markdown reports).
    public func redact(text: String) -> String {
        replaceTokens(in: replaceOddNames(in: text, json: false))
    }

    /// Names the tokenizer cannot see whole (binary bytes, spaces: MS-TURN usernames and realms are opaque
    /// blobs) are replaced as they are written: escaped as the JSON report writes them, or as the text and
    /// Markdown reports print them.
    private func replaceOddNames(in text: String, json: Bool) -> String {
        var output = text
        for (name, pseudonym) in names where name.contains(where: { !Self.isTokenCharacter($0) }) {
            let written =
                json
                ? ((try? JSONReport.compact(name)).map { String($0.dropFirst().dropLast()) } ?? name)
                : TextReport.printable(name, keepingColour: false)
            if !written.isEmpty { output = output.replacingOccurrences(of: written, with: pseudonym) }
        }
        return output
    }

    static func isTokenCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || "._-+/=:@".contains(character)
    }

    /// Learns every IP literal in a rendered report before redacting it: whatever part of the result an address
    /// came from (and whether or not `learn(_ result:)` knew that part), it cannot survive.
    public mutating func learnLiterals(in text: String) {
        var ips: [IPAddress] = []
        Self.addresses(in: text, into: &ips)
        assign(ips)  // repeats are skipped there: an address with a pseudonym keeps it
    }

    /// `learnLiterals` then `redact(json:)` or `redact(text:)`.
    public mutating func redactAll(_ rendered: String, json: Bool) -> String {
        learnLiterals(in: rendered)
        return json ? redact(json: rendered) : redact(text: rendered)
    }

    /// Redacts the string values of a JSON document, and the keys that are addresses (per-peer tables); other
    /// keys are left alone (a ufrag that happens to spell a field name must not rename the field).
    public func redact(json original: String) -> String {
        let json = replaceOddNames(in: original, json: true)
        var output = ""
        output.reserveCapacity(json.utf8.count)
        var index = json.startIndex
        // The key that opened each enclosing object (nil for arrays and the top): the keys of a few maps are
        // data (per-agent network info is keyed by ufrag), every other key is a field name and stays.
        var parents: [String?] = []
        var lastKey: String?
        while index < json.endIndex {
            let character = json[index]
            guard character == "\"" else {
                switch character {
                case "{", "[":
                    parents.append(character == "{" ? lastKey : nil)
                    lastKey = nil
                case "}", "]":
                    _ = parents.popLast()
                default:
                    break
                }
                output.append(character)
                index = json.index(after: index)
                continue
            }
            // A string literal: find its end (skipping escapes).
            var end = json.index(after: index)
            while end < json.endIndex, json[end] != "\"" {
                if json[end] == "\\" { end = json.index(after: end) }
                if end < json.endIndex { end = json.index(after: end) }
            }
            guard end < json.endIndex else {
                output += json[index...]
                break
            }
            let body = String(json[json.index(after: index)..<end])
            var after = json.index(after: end)
            while after < json.endIndex, json[after] == " " { after = json.index(after: after) }
            let isKey = after < json.endIndex && json[after] == ":"
            if isKey { lastKey = body }
            let dataKey = isKey && ((parents.last ?? nil).map(Self.dataKeyedMaps.contains) ?? false)
            output += "\"" + (isKey && !dataKey && !Self.isAddressKey(body) ? body : replaceTokens(in: body)) + "\""
            index = json.index(after: end)
        }
        return output
    }

    /// JSON objects whose keys are data, not field names.
    static let dataKeyedMaps: Set<String> = ["networkInfo", "perPeer"]

    /// "IP", "IP:port" or "[v6]:port".
    static func isAddressKey(_ key: String) -> Bool {
        if IPAddress(key) != nil || TransportAddress(key) != nil { return true }
        return false
    }

    /// Replaces whole tokens: a run of characters that can make up an address or a name, split further at
    /// the characters that separate them in our output (":" before a port, "[" "]" around IPv6).
    private func replaceTokens(in text: String) -> String {
        guard !addresses.isEmpty || !names.isEmpty else { return text }
        var output = ""
        output.reserveCapacity(text.utf8.count)
        var token = ""
        func flush() {
            guard !token.isEmpty else { return }
            output += rewrite(token)
            token = ""
        }
        for character in text {
            if Self.isTokenCharacter(character) {
                token.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    /// One token: a name, an address, an address with a port ("IP:port"), or a USERNAME "a:b".
    private func rewrite(_ token: String) -> String {
        if let name = names[token] { return name }
        if let address = addresses[token] { return address }
        var trimmed = token
        var trailing = ""
        while let last = trimmed.last, last == "." || last == ":" {
            trailing = String(last) + trailing
            trimmed.removeLast()
        }
        if trimmed != token, !trimmed.isEmpty { return rewrite(trimmed) + trailing }
        // IPv4 with a port, or two names around a colon.
        if let colon = token.lastIndex(of: ":"), token.filter({ $0 == ":" }).count == 1 {
            let head = String(token[..<colon])
            let tail = String(token[token.index(after: colon)...])
            if let address = addresses[head] { return address + ":" + tail }
            if names[head] != nil || names[tail] != nil {
                return (names[head] ?? head) + ":" + (names[tail] ?? tail)
            }
        }
        return token
    }
}

extension IPAddress {
    var isUnspecified: Bool {
        switch self {
        case .v4(let value): value == 0
        case .v6(let value): value == 0
        }
    }

    var isLoopback: Bool {
        switch self {
        case .v4(let value): value >> 24 == 127
        case .v6(let value): value == 1
        }
    }
}
