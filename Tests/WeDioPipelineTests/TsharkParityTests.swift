import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// For every STUN message tshark dissects, WeDio finds the same method, class, transaction id and
/// ordered attribute types in the same frame (issue 3 §7).
@Suite("Parity with tshark", .enabled(if: Tshark.isInstalled, "tshark is not installed"))
struct TsharkParityTests {
    /// One frame's STUN as a comparable line: types, ids and attribute types in order.
    struct FrameSTUN: Equatable, CustomStringConvertible {
        var types: [String]
        var ids: [String]
        var attributes: [String]
        var description: String { "types \(types) ids \(ids) attributes \(attributes)" }
    }

    /// Attribute types tshark 4.0's STUN dissector names (../shared/research/anchors.md §1.3). Others it
    /// shows as "Unknown attribute" without a `stun.att.type` field, so they are left out of the comparison
    /// (WeDio keeps them raw, which `unknownAttributesAreKept` checks).
    static let tsharkKnownAttributes: Set<UInt16> = Set(Array(0x0001...0x001E) + [
        0x0020, 0x0022, 0x0024, 0x0025, 0x0026, 0x0027, 0x0028, 0x002A, 0x0030, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004,
        0x8006, 0x8008, 0x8020, 0x8022, 0x8023, 0x8025, 0x8027, 0x8028, 0x8029, 0x802A, 0x802B, 0x802C, 0x802D, 0x802E,
        0x8030, 0x8032, 0x8037, 0x8039, 0x8050, 0x8054, 0x8055, 0x8056, 0x8057, 0x8058, 0x8059, 0x805A, 0x805B, 0x805C,
        0x805D, 0x805E, 0x805F, 0x8060, 0x8061, 0x8062, 0x8068, 0x8070, 0x8090, 0x8095, 0xC000, 0xC001, 0xC002, 0xC057,
        0xC058, 0xC059, 0xC05A, 0xC05B, 0xC05C, 0xC05D, 0xC060, 0xFF04, 0xFF05,
    ])

    /// How WeDio and tshark may differ on a frame, each case checked by hand.
    enum Difference: Hashable {
        /// tshark stopped at "Malformed Packet" and WeDio read on: tshark's attributes are a prefix of WeDio's.
        case wedioReadsFurther
        /// WeDio's attributes are a prefix of tshark's: a malformed attribute list that WeDio stops at.
        case wedioStopsEarlier
        /// tshark calls proprietary traffic classic STUN; WeDio does not decode it.
        case tsharkOnlyProprietary
    }

    /// Per file: the differences allowed and how many frames show each (so a change in behaviour fails).
    static let knownDifferences: [String: [Difference: Int]] = [
        // [MS-TURN] §2.2.2 attributes carry no padding. tshark pads after an ERROR-CODE of length 61 (or
        // MESSAGE-INTEGRITY of 32) and runs into garbage; WeDio reads the remaining attributes in bounds.
        // Type 0x0115 with a 128-bit id is MS-TURN's legacy Data indication, not an RFC 3489 type.
        "nDPI__teams.pcap": [.wedioReadsFurther: 18, .tsharkOnlyProprietary: 6],
        // Zoom's probes (attribute 0x0101/0x0103 "1234567890123456789") off port 3478: not RFC 3489 (unknown
        // attributes fail WeDio's classic test off 3478; RFC 3489 defines no 0x0101).
        "nDPI__zoom.pcap": [.tsharkOnlyProprietary: 6],
        // A deliberately malformed vector: MAPPED-ADDRESS with length 0xFFFF overflows the message.
        "zeek-spicy-stun__stun-attribute-length-ffff.pcap": [.wedioStopsEarlier: 1],
        // Firefox relays SRTCP in Send/Data indications. tshark hands DATA to its RTCP dissector, which throws on
        // the encrypted compound (an "APP" packet whose length runs past the end), and the exception ends the
        // STUN dissector's attribute loop: XOR-PEER-ADDRESS and FINGERPRINT after DATA go unlisted.
        "firefox-relay-only/a-lan.pcap": [.wedioReadsFurther: 1],
        "firefox-relay-only/a-wan.pcap": [.wedioReadsFurther: 1],
        "firefox-relay-only/b-lan.pcap": [.wedioReadsFurther: 1],
        "firefox-relay-only/turn.pcap": [.wedioReadsFurther: 2],
    ]

    static func classify(ours: FrameSTUN?, theirs: FrameSTUN?) -> Difference? {
        guard let theirs else { return nil }
        guard let ours else {
            let proprietaryTypes: Set<String> = ["0x0115", "0x0001", "0x0002"]
            let proprietaryAttributes: Set<String> = ["0x0101", "0x0103", "0x000f"]
            return theirs.types.allSatisfy(proprietaryTypes.contains) && !theirs.attributes.isEmpty
                && proprietaryAttributes.contains(theirs.attributes[0]) && theirs.ids.allSatisfy({ $0.count == 32 })
                ? .tsharkOnlyProprietary : nil
        }
        guard ours.types == theirs.types, ours.ids == theirs.ids else { return nil }
        if ours.attributes.count > theirs.attributes.count && Array(ours.attributes.prefix(theirs.attributes.count)) == theirs.attributes {
            return .wedioReadsFurther
        }
        if ours.attributes.count < theirs.attributes.count && Array(theirs.attributes.prefix(ours.attributes.count)) == ours.attributes {
            return .wedioStopsEarlier
        }
        return nil
    }

    static func tsharkFrames(_ path: String) throws -> [Int: FrameSTUN] {
        let options = ["-o", "udp.try_heuristic_first:TRUE", "-o", "tcp.try_heuristic_first:TRUE"]
        let rows = try Tshark.fields(
            path,
            ["frame.number", "stun.type", "stun.id", "stun.att.type", "classicstun.type", "classicstun.id", "classicstun.att.type", "icmp.type", "icmpv6.type"],
            filter: "stun.type || classicstun.type", options: options)
        var frames: [Int: FrameSTUN] = [:]
        for row in rows where row.count >= 7 {
            guard let number = Int(row[0]) else { continue }
            // STUN quoted inside ICMP errors is not a message on the wire; WeDio does not decode ICMP.
            if row.count >= 9 && (!row[7].isEmpty || !row[8].isEmpty) { continue }
            func list(_ field: String) -> [String] { field.isEmpty ? [] : field.split(separator: ",").map { $0.lowercased() } }
            let types = list(row[1]) + list(row[4])
            let ids = (list(row[2]) + list(row[5])).map { $0.replacingOccurrences(of: ":", with: "") }
            let attributes = list(row[3]) + list(row[6])
            frames[number] = FrameSTUN(types: types, ids: ids, attributes: attributes)
        }
        return frames
    }

    static func wedioFrames(_ path: String) -> [Int: FrameSTUN] {
        let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: path)])
        var frames: [Int: FrameSTUN] = [:]
        for record in result.messages where record.carrier == .direct {
            var frame = frames[record.ref.packet] ?? FrameSTUN(types: [], ids: [], attributes: [])
            frame.types.append(hex16(record.message.messageType))
            frame.ids.append(record.message.transactionID.hex)
            // classicstun lists every attribute type; the stun dissector only those it knows.
            frame.attributes += record.message.attributes.filter {
                record.message.isClassic || tsharkKnownAttributes.contains($0.type.rawValue)
            }.map { hex16($0.type.rawValue) }
            frames[record.ref.packet] = frame
        }
        return frames
    }

    static func hex16(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - digits.count) + digits
    }

    static var files: [String] {
        Fixtures.corpusFiles.map(Fixtures.corpus) + FixtureCatalog.captures.map(Fixtures.path)
    }

    @Test("Same messages as tshark, frame by frame", arguments: files)
    func parity(path: String) throws {
        let theirs = try Self.tsharkFrames(path)
        let ours = Self.wedioFrames(path)
        #expect(!theirs.isEmpty || !ours.isEmpty || path.contains("no-stun"))
        let url = URL(fileURLWithPath: path)
        let allowed = Self.knownDifferences[url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent]
            ?? Self.knownDifferences[url.lastPathComponent] ?? [:]
        var seen: [Difference: Int] = [:]
        for frame in Set(theirs.keys).union(ours.keys).sorted() where ours[frame] != theirs[frame] {
            if let difference = Self.classify(ours: ours[frame], theirs: theirs[frame]), allowed[difference] != nil {
                seen[difference, default: 0] += 1
                continue
            }
            Issue.record("frame \(frame): wedio \(ours[frame]?.description ?? "none"), tshark \(theirs[frame]?.description ?? "none")")
        }
        #expect(seen == allowed)
    }
}

@Suite("Unknown attributes")
struct UnknownAttributeTests {
    @Test(
        "Unknown attributes in real traffic are kept raw, in order (nDPI lru_ipv6_caches frame 9: 0xDABA)",
        .enabled(if: Fixtures.corpusIsPresent, "../shared/corpus/public is absent"))
    func unknownAttributesAreKept() throws {
        let path = Fixtures.corpus("nDPI__lru_ipv6_caches.pcapng")
        let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: path)])
        let frame9 = try #require(result.messages.first { $0.ref.packet == 9 })
        #expect(frame9.message.attributes.map(\.type.rawValue) == [0x0006, 0xDABA, 0xC057, 0x8029, 0x0024, 0x0008, 0x8028])
        #expect(frame9.message.value(AttributeType(0xDABA)) == .bytes([0x00, 0x00, 0x0A, 0x14]))
        #expect(frame9.message.value(.username) == .text("EDGERAY_DEFAULT_USERNAME:EDGERAY_DEFAULT_USERNAME"))
    }
}

/// Committed fixture captures (paths under fixtures/).
enum FixtureCatalog {
    static var captures: [String] {
        let root = Fixtures.repositoryRoot.appendingPathComponent("fixtures")
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }
}
