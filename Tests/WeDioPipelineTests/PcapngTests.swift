import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioCapture
import WeDioSTUN
import WeDioTestSupport

/// pcapng files whose interfaces differ in link type (libpcap cannot read them in one pass), read block by
/// block: against tshark on files mergecap builds from the lab's own captures, and on hand-built blocks for
/// what tshark does not print (timestamp resolution, statistics, comments, secrets).
@Suite("pcapng with several interfaces")
struct PcapngTests {
    static let sources = ["link/ethernet-lo.pcap", "link/raw.pcap", "link/linux-sll2.pcap", "link/null.pcap"]

    static func merged() throws -> (path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-pcapng-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("mixed.pcapng").path
        let output = try ProcessRunner.run("/usr/bin/mergecap", ["-F", "pcapng", "-w", path] + sources.map(Fixtures.path))
        #expect(output.status == 0, "\(output.stderr)")
        return (path, directory)
    }

    @Test("Ethernet, raw IP, Linux SLL2 and BSD loopback interfaces merged in one file: the same messages as tshark, frame by frame")
    func sameAsTshark() throws {
        let (path, directory) = try Self.merged()
        defer { try? FileManager.default.removeItem(at: directory) }
        let theirs = try TsharkParityTests.tsharkFrames(path)
        let ours = TsharkParityTests.wedioFrames(path)
        #expect(theirs.count > 100)
        #expect(ours == theirs)
        let result = Pipeline().analyze([InputSpec(path: path)])
        let input = try #require(result.inputs.first)
        #expect(input.status == .complete && input.errors.isEmpty)
        #expect(input.interfaces.map(\.linkType) == ["EN10MB", "RAW", "LINUX_SLL2", "NULL"])
    }

    @Test("--vantage-per-interface: each interface a vantage point, with the messages of its own capture (tshark's frame.interface_id)")
    func perInterface() throws {
        let (path, directory) = try Self.merged()
        defer { try? FileManager.default.removeItem(at: directory) }
        let specs = try InputSets.resolve(files: [path], named: [], perInterface: true)
        #expect(specs.map(\.vantage) == ["mixed/if0", "mixed/if1", "mixed/if2", "mixed/if3"])
        let rows = try Tshark.fields(path, ["frame.number", "frame.interface_id"], filter: "stun.type")
        var interfaceOf: [Int: Int] = [:]
        for row in rows where row.count == 2 { if let frame = Int(row[0]), let id = Int(row[1]) { interfaceOf[frame] = id } }
        let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze(specs)
        for (index, source) in Self.sources.enumerated() {
            let vantage = "mixed/if\(index)"
            let mine = result.messages.filter { result.inputs[$0.ref.input].vantage == vantage && $0.carrier == .direct }
            // Packet numbers stay those of the whole file, so they match tshark's frames of that interface.
            #expect(Set(mine.map(\.ref.packet)) == Set(interfaceOf.filter { $0.value == index }.keys), "\(vantage)")
            let alone = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: Fixtures.path(source))])
            #expect(mine.map(\.message.transactionID) == alone.messages.filter { $0.carrier == .direct }.map(\.message.transactionID))
        }
    }

    /// A little-endian pcapng block: type, total length, body padded to 4, total length again.
    static func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
        var padded = body
        while padded.count % 4 != 0 { padded.append(0) }
        let length = UInt32(12 + padded.count)
        return le32(type) + le32(length) + padded + le32(length)
    }

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
    static func le64(_ value: UInt64) -> [UInt8] { le32(UInt32(value & 0xFFFF_FFFF)) + le32(UInt32(value >> 32)) }

    static func option(_ code: UInt16, _ value: [UInt8]) -> [UInt8] {
        var out = le16(code) + le16(UInt16(value.count)) + value
        while out.count % 4 != 0 { out.append(0) }
        return out
    }

    static func packet(_ interface: UInt32, ticks: UInt64, _ data: [UInt8], comment: String? = nil) -> [UInt8] {
        var body = le32(interface) + le32(UInt32(ticks >> 32)) + le32(UInt32(ticks & 0xFFFF_FFFF))
        body += le32(UInt32(data.count)) + le32(UInt32(data.count)) + data
        while body.count % 4 != 0 { body.append(0) }
        if let comment { body += option(1, Array(comment.utf8)) + option(0, []) }
        return block(6, body)
    }

    static func stun(_ id: UInt128, from: String, to: String) -> (ethernet: [UInt8], raw: [UInt8]) {
        let message = STUNMessage(method: .binding, messageClass: .request, transactionID: TransactionID(value: id, isClassic: false))
        let payload = STUNEncoder.encode(message)
        let source = TransportAddress(from)!
        let destination = TransportAddress(to)!
        let segment = PacketBuilder.udp(source: source, destination: destination, payload: payload)
        let ip = PacketBuilder.ipv4(source: source.ip, destination: destination.ip, protocol: 17, payload: segment)
        return (PacketBuilder.ethernet(ip, etherType: 0x0800), ip)
    }

    @Test("Hand-built blocks: nanosecond and microsecond interfaces, names, statistics (drops), comments, a secrets block")
    func blocks() throws {
        let first = Self.stun(1, from: "10.0.0.1:5000", to: "10.0.0.2:3478")
        let second = Self.stun(2, from: "10.0.0.3:6000", to: "10.0.0.2:3478")
        var file = Self.block(0x0A0D_0D0A, Self.le32(0x1A2B_3C4D) + Self.le16(1) + Self.le16(0) + Self.le64(UInt64.max)
            + Self.option(1, Array("a router's two sides".utf8)) + Self.option(0, []))
        // Interface 0: Ethernet, "lan", nanoseconds (if_tsresol 9). Interface 1: raw IP, "wan", microseconds.
        file += Self.block(1, Self.le16(1) + Self.le16(0) + Self.le32(0) + Self.option(2, Array("lan".utf8))
            + Self.option(3, Array("inside".utf8)) + Self.option(9, [9]) + Self.option(0, []))
        file += Self.block(1, Self.le16(101) + Self.le16(0) + Self.le32(0) + Self.option(2, Array("wan".utf8)) + Self.option(0, []))
        file += Self.packet(0, ticks: 1_700_000_000_123_456_789, first.ethernet, comment: "first check")
        file += Self.packet(1, ticks: 1_700_000_000_200_000, second.raw)
        file += Self.block(0x0A, Self.le32(0x544C_534B) + Self.le32(4) + [1, 2, 3, 4])  // TLS key log, 4 bytes
        file += Self.block(5, Self.le32(1) + Self.le32(0) + Self.le32(0) + Self.option(4, Self.le64(10))
            + Self.option(5, Self.le64(3)) + Self.option(7, Self.le64(2)) + Self.option(0, []))
        let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze(bytes: file)
        let input = try #require(result.inputs.first)
        #expect(input.status == .complete)
        #expect(result.messages.map(\.message.transactionID.value) == [1, 2])
        #expect(result.messages.first?.time == CaptureTime(nanoseconds: 1_700_000_000_123_456_789))
        #expect(result.messages.last?.time == CaptureTime(nanoseconds: 1_700_000_000_200_000_000))
        #expect(input.interfaces.map(\.name) == ["lan", "wan"])
        #expect(input.interfaces.first?.description == "inside")
        #expect(input.interfaces.last?.received == 10 && input.interfaces.last?.droppedByInterface == 3 && input.interfaces.last?.droppedByOS == 2)
        #expect(input.comments == ["a router's two sides", "first check"])
        #expect(input.decryptionSecretsBlocks == 1)
        let dropped = try #require(result.findings.first { $0.code == .captureDroppedPackets })
        #expect(dropped.message.contains("interface wan: 2 dropped by the OS, 3 by the interface of 10 received"))
        // Damaged: the last block's length runs past the end: what came before is kept, the packet is named.
        let cut = Array(file.prefix(file.count - 20))
        let damaged = Pipeline().analyze(bytes: cut)
        #expect(damaged.inputs.first?.status == .damaged)
        #expect(damaged.inputs.first?.packets == 2)
        #expect(damaged.inputs.first?.failure?.contains("after packet 2") == true || damaged.inputs.first?.failure?.contains("packet 2") == true)
    }
}
