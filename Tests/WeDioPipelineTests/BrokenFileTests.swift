import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioDecode
import WeDioSTUN
import WeDioTestSupport

/// Broken and hostile capture files: a clear error naming the file (and packet or offset), everything
/// before the damage kept, and the right status (issue 10 §2).
@Suite("Broken capture files")
struct BrokenFileTests {
    static func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = Scratch.path("broken/" + name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func analyze(_ path: String) throws -> InputSummary {
        try #require(Pipeline().analyze([InputSpec(path: path)]).inputs.first)
    }

    static var fixture: [UInt8] {
        (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("link/ethernet-lo.pcap"))))) ?? []
    }

    @Test("A file cut inside the global header is unreadable")
    func cutInHeader() throws {
        let summary = try Self.analyze(try Self.write("header.pcap", Array(Self.fixture.prefix(10))))
        #expect(summary.status == .unreadable)
        #expect(summary.failure?.contains("header.pcap") == true)
    }

    @Test("A file cut inside a record header or record body keeps every packet before it")
    func cutInRecord() throws {
        let bytes = Self.fixture
        // The first record starts at 24; its header is 16 bytes.
        let inHeader = try Self.analyze(try Self.write("record-header.pcap", Array(bytes.prefix(24 + 8))))
        #expect(inHeader.packets == 0)
        #expect(inHeader.status != .complete)
        let inBody = try Self.analyze(try Self.write("record-body.pcap", Array(bytes.prefix(bytes.count - 5))))
        #expect(inBody.packets == 51)
        #expect(inBody.status == .damaged)
        #expect(inBody.failure?.contains("after packet 51") == true)
    }

    @Test("A record claiming an absurd length is damage, not a crash or a huge allocation")
    func absurdRecordLength() throws {
        var bytes = Self.fixture
        // Second record's caplen: first record is at 24 with caplen at 24+8.
        let firstLength = Int(bytes[32]) | Int(bytes[33]) << 8 | Int(bytes[34]) << 16 | Int(bytes[35]) << 24
        let second = 24 + 16 + firstLength
        bytes[second + 8] = 0xFF
        bytes[second + 9] = 0xFF
        bytes[second + 10] = 0xFF
        bytes[second + 11] = 0x7F
        let summary = try Self.analyze(try Self.write("absurd.pcap", bytes))
        #expect(summary.packets == 1)
        #expect(summary.status == .damaged)
        #expect(summary.failure?.contains("absurd.pcap") == true)
    }

    @Test("Wrong magic, an empty file and a text file are not captures")
    func notCaptures() throws {
        var wrongMagic = Self.fixture
        wrongMagic[0] = 0x00
        for (name, bytes) in [("magic.pcap", wrongMagic), ("empty.pcap", []), ("text.pcap", Array("hello\n".utf8))] {
            let summary = try Self.analyze(try Self.write(name, bytes))
            #expect(summary.status == .unreadable, "\(name)")
            #expect(summary.failure?.contains(name) == true, "\(name)")
        }
    }

    @Test("pcapng with an unknown block type between packets is read around it")
    func pcapngUnknownBlock() throws {
        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            var padded = body
            while padded.count % 4 != 0 { padded.append(0) }
            let total = UInt32(12 + padded.count)
            var out: [UInt8] = []
            for value in [type, total] { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
            out += padded
            withUnsafeBytes(of: total.littleEndian) { out += $0 }
            return out
        }
        func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        func le16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        let frame = PacketBuilder.udpFrame(
            from: TransportAddress(ip: .v4(0x0A00_0001), port: 5000), to: TransportAddress(ip: .v4(0x0A00_0002), port: 3478),
            payload: [0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2])
        let sectionHeader = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [UInt8](repeating: 0xFF, count: 8))
        let interface = block(1, le16(1) + le16(0) + le32(262_144))
        func packet(_ seconds: UInt32) -> [UInt8] {
            block(6, le32(0) + le32(0) + le32(seconds * 1_000_000) + le32(UInt32(frame.count)) + le32(UInt32(frame.count)) + frame)
        }
        let unknown = block(0x0BAD_CAFE, [1, 2, 3, 4, 5, 6, 7, 8])
        let bytes = sectionHeader + interface + packet(1) + unknown + packet(2)
        let summary = try Self.analyze(try Self.write("unknown-block.pcapng", bytes))
        #expect(summary.status == .complete, "\(summary.failure ?? "")")
        #expect(summary.packets == 2)
    }

    @Test("An unreadable file is reported by name", .enabled(if: getuid() != 0, "root reads every file"))
    func unreadableFile() throws {
        let path = try Self.write("secret.pcap", Self.fixture)
        chmod(path, 0)
        defer { chmod(path, 0o644) }
        let summary = try Self.analyze(path)
        #expect(summary.status == .unreadable)
        #expect(summary.failure?.contains("secret.pcap") == true)
    }
}

/// Every input ever saved by the fuzzers (FuzzTesting/FailCases) replays here without trapping.
@Suite("Fuzzer regression cases")
struct FuzzRegressionTests {
    static var cases: [String] {
        let directory = Fixtures.repositoryRoot.appendingPathComponent("FuzzTesting/FailCases").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { directory + "/" + $0 }
    }

    @Test("The FailCases folder exists and each case replays cleanly")
    func replay() throws {
        #expect(FileManager.default.fileExists(atPath: Fixtures.repositoryRoot.appendingPathComponent("FuzzTesting/FailCases/README.md").path))
        for path in Self.cases {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            // Every harness's entry point, in-process: STUN, ChannelData, packets, whole pcap.
            if let message = try? STUNMessage.decode(bytes.span) {
                _ = Fingerprint.verify(message, bytes: bytes.span)
                _ = STUNEncoder.encode(message)
            }
            _ = try? ChannelData.decode(bytes.span, overStream: true)
            var decoder = PacketDecoder()
            var log = DiagnosticLog()
            decoder.decode(
                link: .ethernet, ref: PacketRef(input: 0, packet: 1), time: CaptureTime(seconds: 1), wireLength: bytes.count,
                bytes: bytes.span, log: &log
            ) { _, _ in }
            let result = Pipeline().analyze(bytes: bytes, name: URL(fileURLWithPath: path).lastPathComponent)
            #expect(result.inputs.count == 1)
        }
    }
}
