import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioReport
import WeDioSTUN
import WeDioTestSupport

/// Inputs as users have them: a call split into a ring of files (editcap -c, as tcpdump -C or dumpcap's ring
/// buffer write it), gzip-compressed captures, directories and globs.
@Suite("Input sets: rotated files, gzip, directories, globs")
struct InputSetTests {
    static let call = Fixtures.path("browser/chromium-eim/a-lan.pcap")

    static func temporaryDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The JSON report with packet references renumbered across a vantage point's files (file 2's packet 1 is
    /// the packet after file 1's last), and the inputs and vantages left out: what must not change when a
    /// capture is split or compressed.
    static func comparable(_ result: AnalysisResult) throws -> String {
        let data = Data(try JSONReport(toolVersion: "test", includeMessages: false).render(result).utf8)
        var offsets: [Int: Int] = [:]
        var running = 0
        for input in result.inputs {
            offsets[input.index] = running
            running += input.packets
        }
        func renumber(_ value: Any) -> Any {
            if let dictionary = value as? [String: Any] {
                var copy: [String: Any] = [:]
                let input = dictionary["input"] as? Int
                for (key, inner) in dictionary where key != "input" {
                    if let input, key.hasSuffix("Packet"), let number = inner as? Int {
                        copy[key] = number + (offsets[input] ?? 0)
                    } else {
                        copy[key] = renumber(inner)
                    }
                }
                return copy
            }
            if let array = value as? [Any] { return array.map(renumber) }
            if let text = value as? String, let colon = text.firstIndex(of: ":"), let input = Int(text[..<colon]),
                let packet = Int(text[text.index(after: colon)...]), !text.contains(".")
            {
                return "packet \(packet + (offsets[input] ?? 0))"
            }
            return value
        }
        guard var report = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return "" }
        report["inputs"] = nil
        report["vantages"] = nil
        report["tool"] = nil
        let normalized = try JSONSerialization.data(withJSONObject: renumber(report), options: [.sortedKeys])
        return String(decoding: normalized, as: UTF8.self)
    }

    @Test("A call split by editcap -c 60 reads as one vantage point and one session in any order, same report as the whole file")
    func rotatedSet() throws {
        let directory = try Self.temporaryDirectory("ring")
        defer { try? FileManager.default.removeItem(at: directory) }
        let split = try ProcessRunner.run("/usr/bin/editcap", ["-c", "60", Self.call, directory.appendingPathComponent("call.pcap").path])
        #expect(split.status == 0, "\(split.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: directory.path).map { directory.appendingPathComponent($0).path }
        #expect(parts.count == 12)
        let whole = try Self.comparable(Pipeline().analyze([InputSpec(path: Self.call, vantage: "call")]))
        var generator = SeededGenerator(seed: 7)
        for order in [parts.sorted(), parts.sorted().reversed(), parts.shuffled(using: &generator)] {
            let specs = try InputSets.resolve(files: Array(order), named: [])
            #expect(Set(specs.map(\.vantage)) == ["call"])
            #expect(specs.map(\.path) == parts.sorted())  // in order of their first packet
            let result = Pipeline().analyze(specs)
            #expect(result.iceSessions.count == 1)
            #expect(try Self.comparable(result) == whole)
        }
        // A directory argument reads every capture in it, as the same set.
        #expect(try InputSets.resolve(files: [directory.path], named: []).map(\.path) == parts.sorted())
        // A glob under a vantage name: every match, in order of first packet.
        let globbed = try InputSets.resolve(files: [], named: [("lan", directory.path + "/call_*.pcap")])
        #expect(globbed.map(\.path) == parts.sorted() && Set(globbed.map(\.vantage)) == ["lan"])
    }

    @Test("Numbered captures taken side by side overlap in time: they stay separate vantage points")
    func sideBySide() throws {
        let directory = try Self.temporaryDirectory("side")
        defer { try? FileManager.default.removeItem(at: directory) }
        let one = directory.appendingPathComponent("cap1.pcap").path
        let two = directory.appendingPathComponent("cap2.pcap").path
        try FileManager.default.copyItem(atPath: Self.call, toPath: one)
        try FileManager.default.copyItem(atPath: Fixtures.path("browser/chromium-eim/a-wan.pcap"), toPath: two)
        let specs = try InputSets.resolve(files: [one, two], named: [])
        #expect(specs.map(\.vantage) == ["cap1", "cap2"])
    }

    @Test("A gzip-compressed capture (.pcap.gz) gives the same report as the plain file")
    func gzip() throws {
        let directory = try Self.temporaryDirectory("gzip")
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("a-lan.pcap").path
        try FileManager.default.copyItem(atPath: Self.call, toPath: copy)
        let zipped = try ProcessRunner.run("/bin/gzip", ["-9", copy])
        #expect(zipped.status == 0)
        let compressed = copy + ".gz"
        let spec = try #require(try InputSets.resolve(files: [compressed], named: []).first)
        #expect(spec.vantage == "a-lan")
        let result = Pipeline().analyze([spec])
        #expect(result.inputs.first?.status == .complete)
        #expect(result.inputs.first?.packets == Pipeline().analyze([InputSpec(path: Self.call)]).inputs.first?.packets)
        #expect(try Self.comparable(result) == (try Self.comparable(Pipeline().analyze([InputSpec(path: Self.call, vantage: "a-lan")]))))
        // A truncated gzip stream: the packets before the damage are kept, the input says it was damaged.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: compressed))
        let truncated = directory.appendingPathComponent("cut.pcap.gz")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        let damaged = Pipeline().analyze([InputSpec(path: truncated.path)])
        #expect(damaged.inputs.first?.status == .damaged)
        #expect((damaged.inputs.first?.packets ?? 0) > 0)
    }
}

/// ICMP errors quoting STUN: the public corpus's captures against tshark, which decodes the quoted STUN too.
@Suite("ICMP errors quoting STUN")
struct ICMPErrorTests {
    static let files = ["nDPI__stun.pcap", "nDPI__stun_signal.pcapng", "nDPI__telegram_videocall.pcapng", "nDPI__zoom_p2p.pcapng"]

    @Test("Every ICMP error tshark shows quoting STUN is reported, with the quoted transaction id, and tied to its transaction", .enabled(if: Fixtures.corpusIsPresent, "../shared/corpus/public is absent"), arguments: files)
    func againstTshark(file: String) throws {
        let path = Fixtures.corpus(file)
        let rows = try Tshark.fields(path, ["frame.number", "stun.id", "classicstun.id"], filter: "(icmp || icmpv6) && (stun || classicstun)")
        var theirs: [Int: String] = [:]
        for row in rows where row.count >= 2 {
            guard let frame = Int(row[0]) else { continue }
            theirs[frame] = (row[1].isEmpty ? (row.count > 2 ? row[2] : "") : row[1]).replacingOccurrences(of: "0x", with: "")
        }
        #expect(!theirs.isEmpty)
        let result = Pipeline().analyze([InputSpec(path: path)])
        var ours: [Int: String] = [:]
        for report in result.icmpErrors where report.transactionID != nil {
            ours[report.ref.packet] = report.transactionID?.hex
        }
        #expect(ours == theirs)
        // Each is tied to the transaction it answered (the quoted id is one this capture saw).
        for report in result.icmpErrors where report.transactionID != nil {
            #expect(report.transaction == report.transactionID, "packet \(report.ref.packet)")
        }
        #expect(result.findings.contains { $0.code == .icmpUnreachable })
    }

    @Test("Signal's STUN to UDP 443 answered by port unreachable: an error naming the server, the meaning and who said it", .enabled(if: Fixtures.corpusIsPresent, "../shared/corpus/public is absent"))
    func signal() throws {
        let result = Pipeline().analyze([InputSpec(path: Fixtures.corpus("nDPI__stun_signal.pcapng"))])
        let finding = try #require(result.findings.first { $0.code == .icmpUnreachable && $0.severity == .error })
        #expect(finding.message.hasPrefix("30 requests to the STUN/TURN server 35.158.183.167:443"))
        #expect(finding.message.contains("were answered by ICMP port unreachable from 35.158.183.167"))
        #expect(finding.evidence.first?.packets.count == 8)  // the first eight, as every finding keeps
        #expect(result.statistics.icmpErrors == result.icmpErrors.count)
    }
}
