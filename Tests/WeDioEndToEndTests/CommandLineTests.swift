import Foundation
import Testing
import WeDioBasics
import WeDioTestSupport

/// Runs the built `wedio` binary: output and exit status as a user sees them.
@Suite("wedio command line")
struct CommandLineTests {
    static func wedio(_ arguments: [String]) throws -> ProcessRunner.Output {
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        return try ProcessRunner.run(try #require(Fixtures.wedioBinary), arguments, environment: environment)
    }

    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = Scratch.path("e2e/" + name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("--version prints the version and exits 0")
    func version() throws {
        let output = try Self.wedio(["--version"])
        #expect(output.status == 0)
        #expect(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test("analyze summarises a fixture and exits 0")
    func analyzeFixture() throws {
        let output = try Self.wedio(["analyze", Fixtures.path("link/ethernet-lo.pcap")])
        #expect(output.status == 0)
        #expect(output.stdout.contains("[ethernet-lo]  EN10MB  52 packets"))
        #expect(output.stdout.contains("STUN 40 · classic STUN 0 · ChannelData 6"))
        #expect(output.stdout.contains("Allocate error"))
        #expect(!output.stdout.contains("\u{1B}["))  // NO_COLOR
    }

    @Test("Several inputs with vantage names are each listed")
    func vantages() throws {
        let output = try Self.wedio([
            "analyze", "--vantage", "lan=\(Fixtures.path("link/ethernet-lo.pcap"))", Fixtures.path("link/raw.pcap"),
        ])
        #expect(output.status == 0)
        #expect(output.stdout.contains("2 inputs"))
        #expect(output.stdout.contains("[lan]"))
        #expect(output.stdout.contains("[raw]  RAW"))
        #expect(output.stdout.contains("STUN 80"))
    }

    @Test("Usage errors exit 64 (no file, bad --vantage, bad filter)")
    func usage() throws {
        #expect(try Self.wedio(["analyze"]).status == 64)
        #expect(try Self.wedio(["analyze", "--vantage", "nofile"]).status == 64)
        let badFilter = try Self.wedio(["analyze", "--filter", "udp port banana", Fixtures.path("link/raw.pcap")])
        #expect(badFilter.status == 64)
        #expect(badFilter.stderr.contains("bad --filter"))
        #expect(try Self.wedio(["frobnicate"]).status == 64)
    }

    @Test("An input that cannot be read exits 66 with one line naming it; the others are still reported")
    func unreadable() throws {
        let missing = "/nonexistent/capture.pcap"
        let output = try Self.wedio(["analyze", missing, Fixtures.path("link/raw.pcap")])
        #expect(output.status == 66)
        #expect(output.stderr.contains(missing))
        #expect(output.stdout.contains("[raw]  RAW  52 packets"))
        let text = try Self.temporaryFile("notes.pcap", Array("this is not a capture\n".utf8))
        let notCapture = try Self.wedio(["analyze", text])
        #expect(notCapture.status == 66)
        #expect(notCapture.stderr.contains("not a pcap or pcapng capture"))
        let empty = try Self.temporaryFile("empty.pcap", [])
        #expect(try Self.wedio(["analyze", empty]).status == 66)
        // A directory is read whole; one without a capture in it is an input that cannot be read.
        let emptyDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-empty-\(getpid())")
        try FileManager.default.createDirectory(at: emptyDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: emptyDirectory) }
        let directory = try Self.wedio(["analyze", emptyDirectory.path])
        #expect(directory.status == 66)
        #expect(directory.stderr.contains("the directory holds no capture file"))
        let nothing = try Self.wedio(["analyze", "--vantage", "x=/nonexistent/ring*.pcap"])
        #expect(nothing.status == 66)
        #expect(nothing.stderr.contains("no file matches"))
    }

    @Test("A capture cut mid-record exits 65 and reports everything before the damage")
    func truncatedFile() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("link/ethernet-lo.pcap"))))
        let cut = try Self.temporaryFile("cut.pcap", Array(bytes.prefix(bytes.count - 30)))
        let output = try Self.wedio(["analyze", cut])
        #expect(output.status == 65)
        #expect(output.stderr.contains("cut.pcap"))
        #expect(output.stderr.contains("after packet 51"))
        #expect(output.stdout.contains("51 packets"))
        #expect(output.stdout.contains("damaged"))
    }

    @Test("A capture piped on standard input (not a regular file, so not mapped) is read like the file")
    func pipedInput() throws {
        let path = Fixtures.path("link/ethernet-lo.pcap")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Fixtures.wedioBinary))
        process.arguments = ["analyze", "--no-progress", "--format", "json", "/dev/stdin"]
        let input = Pipe()
        process.standardInput = input
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Well under a pipe's buffer: written whole before the reader starts.
        try input.fileHandleForWriting.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: path)))
        try input.fileHandleForWriting.close()
        let piped = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let direct = try Self.wedio(["analyze", "--no-progress", "--format", "json", path])
        // The same report but for the input's name.
        let pipedText = String(decoding: piped, as: UTF8.self).replacingOccurrences(of: "/dev/stdin", with: path)
            .replacingOccurrences(of: "\"stdin\"", with: "\"ethernet-lo\"")
        #expect(pipedText.contains("\"packets\" : 52"))
        #expect(pipedText == direct.stdout)
    }

    @Test("A capture truncated by another program while it is read (a mapped file) exits 65 with one line naming it")
    func shrinksWhileRead() throws {
        // ~200 MB of one Binding request repeated: long enough to still be reading when truncated.
        var writer = PcapWriter(linkType: 1)
        let frame = PacketBuilder.udpFrame(
            from: try #require(TransportAddress("10.0.0.1:5000")), to: try #require(TransportAddress("10.0.0.2:3478")),
            payload: [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 7, count: 12)
                + [UInt8](repeating: 0, count: 1_300))
        for _ in 0..<150_000 { writer.add(frame) }
        let path = try Self.temporaryFile("shrinking.pcap", writer.bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Fixtures.wedioBinary))
        process.arguments = ["analyze", "--no-progress", "--one-thread", path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Truncate as soon as the file shows up among the process's mappings.
        let maps = "/proc/\(process.processIdentifier)/maps"
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: maps, encoding: .utf8), text.contains("shrinking.pcap") { break }
            usleep(200)
        }
        try #require(truncate(path, 4_096) == 0)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 65)
        #expect(message.contains("shrinking.pcap"))
        #expect(message.contains("shrank while being read"))
    }

    @Test("A pcapng mixing link types is read whole (each interface with its link type); a gzip-compressed one is refused with the workaround", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/mergecap")))
    func mixedLinkTypes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-e2e-mixed-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let merged = directory.appendingPathComponent("mixed.pcapng").path
        let merge = try ProcessRunner.run(
            "/usr/bin/mergecap", ["-w", merged, Fixtures.path("link/ethernet-lo.pcap"), Fixtures.path("link/linux-sll.pcap")])
        try #require(merge.status == 0)
        let output = try Self.wedio(["analyze", merged])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("EN10MB+LINUX_SLL"))
        #expect(output.stdout.contains("interface 1: LINUX_SLL, 52 packets"))
        // Compressed, it cannot be mapped to be read block by block: libpcap refuses it, and the error says why.
        _ = try ProcessRunner.run("/bin/gzip", ["-k", merged])
        let compressed = try Self.wedio(["analyze", merged + ".gz"])
        #expect(compressed.status == 65 || compressed.status == 66)
        #expect(compressed.stderr.contains("different link types"))
        #expect(compressed.stderr.contains("split it per interface"))
    }

    @Test("The output file is written; an unwritable one exits 73")
    func outputFile() throws {
        let target = Scratch.path("report.txt")
        let written = try Self.wedio(["analyze", Fixtures.path("link/raw.pcap"), "--output", target])
        #expect(written.status == 0)
        #expect(written.stdout.isEmpty)
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("RAW"))
        let unwritable = try Self.wedio(["analyze", Fixtures.path("link/raw.pcap"), "--output", "/nonexistent/dir/report.txt"])
        #expect(unwritable.status == 73)
    }

    @Test("Passwords given for integrity checks never appear in the output")
    func passwordsStaySecret() throws {
        let output = try Self.wedio([
            "analyze", Fixtures.path("link/ethernet-lo.pcap"), "--turn-credentials", "alice:wonderland",
            "--ice-credentials", "ufrag:hunter2secret",
        ])
        #expect(output.status == 0)
        #expect(!output.stdout.contains("wonderland") && !output.stderr.contains("wonderland"))
        #expect(!output.stdout.contains("hunter2secret") && !output.stderr.contains("hunter2secret"))
        #expect(!output.stdout.contains("failed MESSAGE-INTEGRITY"))
    }

    @Test("An error no command expects exits 70 (EX_SOFTWARE) with one line, not 1")
    func internalError() throws {
        let output = try Self.wedio(["analyze", "--fail-internally", Fixtures.path("link/ethernet-lo.pcap")])
        #expect(output.status == 70)
        #expect(output.stderr == "wedio: internal error: a fault asked for by --fail-internally\n")
    }

    @Test(
        "sniff without permission to capture exits 77 with the way out",
        .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser"), "needs root to become nobody"))
    func noPermission() throws {
        let binary = try #require(Fixtures.wedioBinary)
        let output = try ProcessRunner.run("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "sniff", "-i", "lo", "--duration", "1"])
        #expect(output.status == 77, "\(output.stderr)")
        #expect(output.stderr.contains("CAP_NET_RAW"))
    }

    @Test(
        "--redact on every fixture and corpus capture, in JSON, Markdown and text: no address outside the pseudonym ranges and no USERNAME, REALM or server name tshark reads survives",
        .enabled(if: Tshark.isInstalled, "tshark is the oracle for the names"))
    func redactionOracle() throws {
        let fixtures = try FileManager.default.subpathsOfDirectory(atPath: Fixtures.path(""))
            .filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { Fixtures.path($0) }
        let corpus = Fixtures.corpusIsPresent ? Fixtures.corpusFiles.map(Fixtures.corpus) : []
        #expect(fixtures.count >= 40)
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/check_redaction.py").path
        let output = try ProcessRunner.run("/usr/bin/env", ["python3", script, try #require(Fixtures.wedioBinary)] + fixtures + corpus)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
    }

    @Test("Control characters from a capture never reach the terminal: a USERNAME with escape sequences is printed as \\xNN")
    func controlCharacters() throws {
        let escape = "\u{1B}]0;owned\u{07}\u{1B}[2J"
        var stun: [UInt8] = [0x00, 0x03, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 9, count: 12)
        let name = Array(escape.utf8)
        stun += [0x00, 0x06, 0x00, UInt8(name.count)] + name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
        stun[3] = UInt8(stun.count - 20)
        let client = try #require(TransportAddress("10.0.0.5:5000"))
        let server = try #require(TransportAddress("192.0.2.1:3478"))
        var writer = PcapWriter(linkType: 1)
        writer.add(PacketBuilder.udpFrame(from: client, to: server, payload: stun), seconds: 1_700_000_000, fraction: 0)
        let path = try Self.temporaryFile("escape.pcap", writer.bytes)
        for format in ["text", "markdown"] {
            let output = try Self.wedio(["analyze", "--format", format, path])
            #expect(output.status == 0)
            #expect(!output.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }, "\(format)")
            #expect(output.stdout.contains("\\x1B]0;owned\\x07\\x1B[2J"), "\(format): \(output.stdout)")
        }
    }

    @Test("analyze --format ndjson replays a capture as the live stream: events in time order, valid lines, the report last")
    func replayAsLive() throws {
        let output = try Self.wedio(["analyze", "--format", "ndjson", Fixtures.path("ice/relay-turn/a-inside.pcap")])
        #expect(output.status == 0, "\(output.stderr)")
        let lines = try output.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(lines.last?["type"] as? String == "report")
        let events = lines.dropLast()
        #expect(events.allSatisfy { $0["type"] as? String == "event" })
        let kinds = events.compactMap { $0["kind"] as? String }
        #expect(Array(kinds.prefix(4)) == ["stun-binding", "turn-allocate-error", "turn-allocated", "ice-checks-started"])
        let offsets = events.compactMap { $0["offsetMs"] as? Double }
        #expect(offsets == offsets.sorted())
        let stream = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-replay-\(getpid()).ndjson").path
        try output.stdout.write(toFile: stream, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: stream) }
        if SchemaValidator.isAvailable {
            let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/live/validate_stream.py").path
            let checked = try ProcessRunner.run("/usr/bin/env", ["python3", script, stream])
            #expect(checked.status == 0, "\(checked.stdout)")
        }
        #expect(try Self.wedio(["analyze", "--format", "ndjson", "a.pcap", "b.pcap"]).status == 64)
    }

    @Test("interfaces lists the loopback")
    func interfaces() throws {
        let output = try Self.wedio(["interfaces"])
        #expect(output.status == 0)
        #expect(output.stdout.contains("lo"))
    }

    @Test("sniff on an unknown interface exits 69 with one clear line")
    func unknownInterface() throws {
        try #require(getuid() == 0, "needs root to reach the interface check")
        let output = try Self.wedio(["sniff", "--interface", "wedio-no-such-if", "--duration", "1"])
        #expect(output.status == 69)
        #expect(output.stderr.contains("wedio-no-such-if"))
        #expect(output.stderr.split(separator: "\n").count == 1)
    }
}
