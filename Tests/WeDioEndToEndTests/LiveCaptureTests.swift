import Foundation
import Testing
import WeDioTestSupport

/// `wedio sniff` on a veth pair between two network namespaces this test creates and deletes.
/// Traffic goes only between addresses that exist inside those namespaces.
@Suite(
    "wedio sniff on a veth pair",
    .enabled(if: getuid() == 0, "needs root for network namespaces"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip"), "needs iproute2"),
    .serialized)
struct LiveCaptureTests {
    static let ip = FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip"

    /// Two namespaces joined by veth: 10.213.N.1 (capturing side) and 10.213.N.2 (sender).
    struct Lab {
        let capture: String
        let sender: String
        let subnet: Int

        init(_ tag: String) throws {
            subnet = Int(getpid() % 200) + (tag == "a" ? 0 : 1)
            capture = "wedio-cap-\(getpid())-\(tag)"
            sender = "wedio-snd-\(getpid())-\(tag)"
            try run(["netns", "add", capture])
            try run(["netns", "add", sender])
            try run(["link", "add", "wedio-c", "netns", capture, "type", "veth", "peer", "name", "wedio-s", "netns", sender])
            try run(["-n", capture, "addr", "add", "10.213.\(subnet).1/24", "dev", "wedio-c"])
            try run(["-n", sender, "addr", "add", "10.213.\(subnet).2/24", "dev", "wedio-s"])
            for (namespace, device) in [(capture, "wedio-c"), (sender, "wedio-s")] {
                try run(["-n", namespace, "link", "set", device, "up"])
                try run(["-n", namespace, "link", "set", "lo", "up"])
            }
        }

        func run(_ arguments: [String]) throws {
            let output = try ProcessRunner.run(LiveCaptureTests.ip, arguments)
            guard output.status == 0 else { throw LabError.command(arguments.joined(separator: " ") + ": " + output.stderr) }
        }

        func tearDown() {
            _ = try? ProcessRunner.run(LiveCaptureTests.ip, ["netns", "delete", capture])
            _ = try? ProcessRunner.run(LiveCaptureTests.ip, ["netns", "delete", sender])
        }

        /// Sends `count` STUN Binding requests (with FINGERPRINT) from the sender namespace, bounded in time.
        func sendBindingRequests(count: Int) throws {
            let script = """
                import os, socket, struct, zlib
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                for i in range(\(count)):
                    header = struct.pack('!HHI', 1, 8, 0x2112A442) + os.urandom(12)
                    crc = (zlib.crc32(header) ^ 0x5354554E) & 0xFFFFFFFF
                    s.sendto(header + struct.pack('!HHI', 0x8028, 4, crc), ('10.213.\(subnet).1', 3478))
                """
            let output = try ProcessRunner.run(
                LiveCaptureTests.ip, ["netns", "exec", sender, "timeout", "5", "python3", "-c", script])
            guard output.status == 0 else { throw LabError.command("python3: " + output.stderr) }
        }

        /// A STUN server in the capturing namespace answering Binding requests with XOR-MAPPED-ADDRESS for 10 s.
        func startResponder() throws -> Process {
            let script = """
                import socket, struct, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(('10.213.\(subnet).1', 3478))
                s.settimeout(0.5)
                end = time.time() + 10
                while time.time() < end:
                    try:
                        data, addr = s.recvfrom(2048)
                    except socket.timeout:
                        continue
                    if len(data) < 20:
                        continue
                    ip = struct.unpack('!I', socket.inet_aton(addr[0]))[0] ^ 0x2112A442
                    attribute = struct.pack('!HHBBHI', 0x0020, 8, 0, 1, addr[1] ^ 0x2112, ip)
                    s.sendto(struct.pack('!HHI', 0x0101, len(attribute), 0x2112A442) + data[8:20] + attribute, addr)
                """
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LiveCaptureTests.ip)
            process.arguments = ["netns", "exec", capture, "timeout", "12", "python3", "-c", script]
            try process.run()
            return process
        }

        /// A fresh directory for one test's files.
        func directory(_ name: String) throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-\(name)-\(getpid())").path
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            return path
        }

        var server: String { "10.213.\(subnet).1" }

        /// scripts/live/stun_load.py answering Binding requests in the capturing namespace for `seconds`.
        func startLoadResponder(seconds: Int, directory: String) throws -> Process {
            try LiveCaptureTests.start(
                capture, ["timeout", "\(seconds + 20)", "python3", LiveCaptureTests.load, "respond", "--bind", server, "--seconds", "\(seconds)"],
                stdout: directory + "/respond")
        }

        /// scripts/live/stun_load.py's load from the sender namespace; returns its own account of it.
        @discardableResult
        func sendLoad(rate: Int, seconds: Int, sockets: Int, iceChecks: Int = 0) throws -> [String: Any] {
            let output = try ProcessRunner.run(
                LiveCaptureTests.ip,
                ["netns", "exec", sender, "timeout", "30", "python3", LiveCaptureTests.load, "send", "--to", server, "--rate", "\(rate)",
                 "--seconds", "\(seconds)", "--sockets", "\(sockets)", "--ice-checks", "\(iceChecks)"])
            guard output.status == 0 else { throw LabError.command("stun_load.py send: " + output.stderr) }
            return (try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]) ?? [:]
        }

        func startSniff(_ extra: [String]) throws -> (Process, Pipe, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LiveCaptureTests.ip)
            process.arguments = ["netns", "exec", capture, try #require(Fixtures.wedioBinary), "sniff", "--interface", "wedio-c"] + extra
            var environment = ProcessInfo.processInfo.environment
            environment["NO_COLOR"] = "1"
            process.environment = environment
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            return (process, out, err)
        }
    }

    enum LabError: Error { case command(String) }

    /// Waits for the process to exit, at most `seconds`; kills it after that.
    static func wait(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return false
        }
        return true
    }

    @Test("--duration ends the capture and the report counts what crossed the veth; --write saves it")
    func duration() throws {
        let lab = try Lab("a")
        defer { lab.tearDown() }
        let written = Scratch.path("sniff.pcap")
        let (process, out, err) = try lab.startSniff(["--duration", "3", "--filter", "udp", "--write", written])
        usleep(1_200_000)
        try lab.sendBindingRequests(count: 3)
        try #require(Self.wait(process, seconds: 10))
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stdout.contains("STUN 3 ·"), "\(stdout)")
        #expect(stdout.contains("Binding request"))
        let analyzed = try ProcessRunner.run(try #require(Fixtures.wedioBinary), ["analyze", written])
        #expect(analyzed.status == 0)
        #expect(analyzed.stdout.contains("STUN 3 ·"))
    }

    @Test("SIGINT ends the capture cleanly and still prints the report")
    func interrupt() throws {
        let lab = try Lab("b")
        defer { lab.tearDown() }
        let (process, out, _) = try lab.startSniff(["--count", "1000"])
        usleep(1_200_000)
        try lab.sendBindingRequests(count: 2)
        usleep(300_000)
        process.interrupt()
        try #require(Self.wait(process, seconds: 10))
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(stdout.contains("STUN 2 ·"), "\(stdout)")
    }

    @Test("--format ndjson: each answered Binding is an event line while the capture runs; the full report ends the stream")
    func ndjson() throws {
        let lab = try Lab("c")
        defer { lab.tearDown() }
        let responder = try lab.startResponder()
        defer { _ = Self.wait(responder, seconds: 0) }
        let (process, out, err) = try lab.startSniff(["--duration", "5", "--filter", "udp", "--format", "ndjson"])
        usleep(1_200_000)
        try lab.sendBindingRequests(count: 3)
        // Blocks until the first event arrives (or the capture ends, which fails the check below); "stats"
        // lines may come first.
        var early = ""
        for _ in 0..<20 where !early.contains("\"type\":\"event\"") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            early += String(decoding: chunk, as: UTF8.self)
        }
        let stillRunning = process.isRunning
        try #require(Self.wait(process, seconds: 10))
        let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stillRunning, "the first event arrived only when the capture ended")
        #expect(early.hasPrefix("{") && early.contains("\"kind\":\"stun-binding\""), "\(early)")
        #expect(early.contains("\"keys\":{\"client\":\"10.213."), "events carry their join keys: \(early)")
        let lines = (early + rest).split(separator: "\n").map(String.init)
        var events = 0
        var report: [String: Any]?
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            switch object["type"] as? String {
            case "event":
                events += 1
                #expect(object["kind"] as? String == "stun-binding")
            case "report":
                report = object["report"] as? [String: Any]
            case "stats":
                #expect(object["droppedByKernel"] as? Int == 0)
            default:
                Issue.record("unexpected line \(line)")
            }
        }
        #expect(events == 3)
        #expect(lines.last?.hasPrefix("{\"report\"") == true)
        let stats = try #require(report?["stats"] as? [String: Any])
        #expect(stats["stunMessages"] as? Int == 6)
        #expect(report?["schemaVersion"] as? String == "0.6")
    }

    // MARK: Under load, against tcpdump on the same interface

    static let load = Fixtures.repositoryRoot.appendingPathComponent("scripts/live/stun_load.py").path

    /// A process in a namespace whose stdout goes to a file (large outputs would fill a pipe).
    static func start(_ namespace: String, _ arguments: [String], stdout: String) throws -> Process {
        FileManager.default.createFile(atPath: stdout, contents: nil)
        FileManager.default.createFile(atPath: stdout + ".err", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = ["netns", "exec", namespace] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout + ".err"))
        try process.run()
        return process
    }

    /// Runs a command with every signal unblocked: processes started from the test runner's threads inherit
    /// a mask that blocks SIGINT, and tcpdump only prints its counts when SIGINT reaches it.
    static let unblockingSignals = [
        "python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])",
    ]

    /// Every line of a stream (and window reports) against the schema, by Python's jsonschema.
    static func validate(stream: String, reports: [String] = []) throws {
        guard SchemaValidator.isAvailable else {
            Issue.record("python3 with jsonschema is needed to check the stream against the schema")
            return
        }
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/live/validate_stream.py").path
        let output = try ProcessRunner.run("/usr/bin/env", ["python3", script, stream] + (reports.isEmpty ? [] : ["--report"] + reports))
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func lines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line.prefix(300))")
        }
    }

    /// tcpdump's own tally: "N packets captured", "M packets dropped by kernel".
    static func tcpdumpCounts(_ stderr: String) -> (captured: Int, dropped: Int)? {
        func number(before suffix: String) -> Int? {
            guard let range = stderr.range(of: suffix) else { return nil }
            let digits = stderr[..<range.lowerBound].reversed().prefix { $0.isNumber }
            return Int(String(digits.reversed()))
        }
        guard let captured = number(before: " packets captured"), let dropped = number(before: " packets dropped by kernel") else {
            return nil
        }
        return (captured, dropped)
    }

    @Test(
        "5 000 STUN transactions/s for 10 s: wedio, in text and NDJSON side by side, takes every packet tcpdump takes, reports no answered transaction as a timeout, and every kind of event keeps flowing",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump"), "needs tcpdump as the oracle"))
    func underLoad() throws {
        let lab = try Lab("d")
        defer { lab.tearDown() }
        let directory = try lab.directory("load")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let responder = try lab.startLoadResponder(seconds: 22, directory: directory)
        defer { _ = Self.wait(responder, seconds: 30) }
        let tcpdump = try Self.start(
            lab.capture, Self.unblockingSignals + ["tcpdump", "-i", "wedio-c", "-n", "-w", "/dev/null", "udp"],
            stdout: directory + "/tcpdump")
        defer { if tcpdump.isRunning { kill(tcpdump.processIdentifier, SIGKILL) } }
        let binary = try #require(Fixtures.wedioBinary)
        let sniff = ["timeout", "60", binary, "sniff", "-i", "wedio-c", "--filter", "udp", "--duration", "22"]
        let text = try Self.start(lab.capture, sniff, stdout: directory + "/text")
        let ndjson = try Self.start(lab.capture, sniff + ["--format", "ndjson"], stdout: directory + "/ndjson")
        usleep(1_500_000)
        let sent = try lab.sendLoad(rate: 5000, seconds: 10, sockets: 64, iceChecks: 20)
        try #require(Self.wait(text, seconds: 40))
        try #require(Self.wait(ndjson, seconds: 40))
        tcpdump.interrupt()  // SIGINT: tcpdump prints its counts and exits
        try #require(Self.wait(tcpdump, seconds: 10))
        let oracle = try #require(Self.tcpdumpCounts(Self.read(directory + "/tcpdump.err")), "\(Self.read(directory + "/tcpdump.err"))")
        // The load is what it claims, and tcpdump kept up: otherwise the comparison means nothing. A responder
        // that lagged on a busy machine leaves requests unanswered on the wire: those, and only those, may be
        // timeouts (tcpdump's count minus the requests is the responses that crossed the veth).
        try #require(sent["sent"] as? Int == 50_020, "the sender could not send its load: \(sent)")
        try #require(oracle.dropped == 0, "tcpdump itself dropped packets")
        let answered = oracle.captured - 50_020
        #expect(answered == 50_020, "the responder answered \(answered) of 50 020 (checked below either way)")
        let unanswered = 50_020 - answered

        // Text: the same packet count, the kernel's counters, no timeouts but the unanswered.
        let summary = Self.read(directory + "/text")
        #expect(text.terminationStatus == 0, "\(Self.read(directory + "/text.err"))")
        #expect(summary.contains("  \(oracle.captured) packets,"), "\(summary.prefix(600))")
        #expect(summary.contains("kernel: \(oracle.captured) received, 0 dropped (buffer full)"), "\(summary.prefix(600))")
        if unanswered == 0 {
            #expect(!summary.contains("timed out"), "\(summary.prefix(2_000))")
        } else {
            #expect(summary.contains(" · \(unanswered) timed out"), "\(summary.prefix(2_000))")
        }
        #expect(!summary.contains("capture-dropped-packets"))

        // NDJSON: the same from the report line; each answered Binding is an event or counted as suppressed.
        #expect(ndjson.terminationStatus == 0, "\(Self.read(directory + "/ndjson.err"))")
        let lines = try Self.lines(Self.read(directory + "/ndjson"))
        let report = try #require(lines.last?["report"] as? [String: Any])
        let input = try #require((report["inputs"] as? [[String: Any]])?.first)
        #expect(input["packets"] as? Int == oracle.captured)
        let live = try #require(input["liveCapture"] as? [String: Any])
        #expect(live["received"] as? Int == oracle.captured)
        #expect(live["droppedByKernel"] as? Int == 0)
        let stats = try #require(report["stats"] as? [String: Any])
        let outcomes = try #require(stats["transactionOutcomes"] as? [String: Int])
        #expect(outcomes["success"] == answered && (outcomes["timeout"] ?? 0) == unanswered, "\(outcomes)")
        let events = lines.filter { $0["type"] as? String == "event" }
        let bindings = events.filter { $0["kind"] as? String == "stun-binding" }
        let held = lines.filter { $0["type"] as? String == "suppressed" && $0["kind"] as? String == "stun-binding" }
        let heldCount = held.compactMap { $0["count"] as? Int }.reduce(0, +)
        // Answered ICE checks are not STUN-server Bindings: the session's pairs say how many there were.
        let sessions = report["iceSessions"] as? [[String: Any]] ?? []
        let checksAnswered = sessions.flatMap { $0["pairs"] as? [[String: Any]] ?? [] }.compactMap { $0["responses"] as? Int }.reduce(0, +)
        #expect(bindings.count + heldCount == answered - checksAnswered, "\(bindings.count) events + \(heldCount) suppressed")
        #expect(bindings.count > 200, "a per-kind cap still stops the stream: \(bindings.count)")
        // The flood's events reach its last second, and the ICE checks after it still get through.
        let times = bindings.compactMap { $0["offsetMs"] as? Double }
        let spread = (times.max() ?? 0) - (times.min() ?? 0)
        #expect(spread > 9_000, "stun-binding events stopped after \(spread) ms")
        let kinds = Set(events.compactMap { $0["kind"] as? String })
        #expect(kinds.isSuperset(of: ["stun-binding", "ice-checks-started", "ice-pair-succeeded"]), "\(kinds)")
        let ice = try #require(events.first { $0["kind"] as? String == "ice-checks-started" })
        #expect((ice["keys"] as? [String: String])?["ice"] == "lfrag:rfrag")
        #expect(lines.contains { $0["type"] as? String == "stats" })
        let timeouts = events.filter { $0["kind"] as? String == "stun-timeout" }.count
            + lines.filter { $0["type"] as? String == "suppressed" && $0["kind"] as? String == "stun-timeout" }
            .compactMap { $0["count"] as? Int }.reduce(0, +)
        #expect(timeouts == unanswered)
        try Self.validate(stream: directory + "/ndjson")
    }

    @Test("A kernel buffer too small for the load: the drops are counted, placed in time, named in a finding, and the timeouts they may explain are marked")
    func forcedDrops() throws {
        let lab = try Lab("e")
        defer { lab.tearDown() }
        let directory = try lab.directory("drops")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let responder = try lab.startLoadResponder(seconds: 12, directory: directory)
        defer { _ = Self.wait(responder, seconds: 20) }
        let binary = try #require(Fixtures.wedioBinary)
        // 64 KiB of buffer, and nothing read for the first 2 s: the kernel must drop most of those seconds.
        let sniff = try Self.start(
            lab.capture,
            ["timeout", "40", binary, "sniff", "-i", "wedio-c", "--filter", "udp", "--duration", "8", "--format", "ndjson",
             "--kernel-buffer-bytes", "65536", "--read-delay", "2"], stdout: directory + "/ndjson")
        usleep(1_000_000)
        try lab.sendLoad(rate: 5000, seconds: 3, sockets: 16)
        try #require(Self.wait(sniff, seconds: 40))
        #expect(sniff.terminationStatus == 65, "packets were lost: \(Self.read(directory + "/ndjson.err"))")
        let lines = try Self.lines(Self.read(directory + "/ndjson"))
        let report = try #require(lines.last?["report"] as? [String: Any])
        let input = try #require((report["inputs"] as? [[String: Any]])?.first)
        let live = try #require(input["liveCapture"] as? [String: Any])
        let received = try #require(live["received"] as? Int)
        let dropped = try #require(live["droppedByKernel"] as? Int)
        let packets = try #require(input["packets"] as? Int)
        #expect(dropped > 1_000, "\(live)")
        #expect(packets + dropped == received, "every packet the kernel counted was either read or dropped")
        #expect((15_000...30_000).contains(received), "15 000 requests and up to as many answers: \(received)")
        let windows = try #require(live["dropWindows"] as? [[String: Any]])
        #expect(!windows.isEmpty)
        #expect(windows.compactMap { $0["droppedByKernel"] as? Int }.reduce(0, +) == dropped)
        // The stream said so while it ran, before the report.
        #expect(lines.dropLast().contains { $0["type"] as? String == "stats" && ($0["droppedByKernel"] as? Int ?? 0) > 0 })
        let findings = try #require(report["findings"] as? [[String: Any]])
        let finding = try #require(findings.first { $0["code"] as? String == "capture-dropped-packets" })
        #expect((finding["message"] as? String)?.contains("lost \(dropped) packets") == true, "\(finding)")
        #expect((report["verdict"] as? String)?.contains("the capture lost \(dropped) packets") == true)
        // A timeout appears where a request was kept and its answer dropped (at the edge of the overflow; how
        // many is a matter of timing, often none): every one is marked as possibly a lost answer, and any makes
        // the finding an error.
        let transactions = try #require(report["transactions"] as? [[String: Any]])
        let timeouts = transactions.filter { $0["outcome"] as? String == "timeout" }
        #expect(timeouts.allSatisfy { $0["duringCaptureDrops"] as? Bool == true })
        #expect(finding["severity"] as? String == (timeouts.isEmpty ? "warning" : "error"))
        #expect(!transactions.contains { $0["outcome"] as? String == "success" && $0["duringCaptureDrops"] != nil })
        try Self.validate(stream: directory + "/ndjson")
    }

    @Test("--report-every with --output: a report per window, one more on SIGUSR1, every transaction listed in some window, counters running from the start, finished transactions forgotten after their window")
    func windowReports() throws {
        let lab = try Lab("f")
        defer { lab.tearDown() }
        let directory = try lab.directory("windows")
        try FileManager.default.createDirectory(atPath: directory + "/reports", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let responder = try lab.startLoadResponder(seconds: 12, directory: directory)
        defer { _ = Self.wait(responder, seconds: 20) }
        let binary = try #require(Fixtures.wedioBinary)
        let sniff = try Self.start(
            lab.capture,
            Self.unblockingSignals + [binary, "sniff", "-i", "wedio-c", "--filter", "udp", "--duration", "9", "--report-every", "2",
             "--output", directory + "/reports", "--format", "ndjson"], stdout: directory + "/ndjson")
        usleep(1_000_000)
        try lab.sendLoad(rate: 500, seconds: 4, sockets: 8)
        kill(sniff.processIdentifier, SIGUSR1)
        try #require(Self.wait(sniff, seconds: 30))
        #expect(sniff.terminationStatus == 0, "\(Self.read(directory + "/ndjson.err"))")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory + "/reports").sorted()
        #expect(!names.contains { $0.hasSuffix(".partial") })
        #expect(names.contains { $0.hasSuffix("-now.json") }, "SIGUSR1 wrote a report: \(names)")
        let periodic = names.filter { !$0.hasSuffix("-now.json") }
        #expect(periodic.count >= 4, "\(names)")
        var ids: Set<String> = []
        var windows: [[String: Any]] = []
        for name in periodic {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/reports/" + name))
            let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let window = try #require(report["liveWindow"] as? [String: Any], "\(name)")
            windows.append(window)
            for transaction in report["transactions"] as? [[String: Any]] ?? [] {
                if let id = transaction["id"] as? String { ids.insert(id) }
                // Every request was answered: one in flight at a window's end waits for a later window.
                #expect(transaction["outcome"] as? String == "success", "\(name): \(transaction)")
            }
        }
        let indexes = windows.compactMap { $0["index"] as? Int }.sorted()
        #expect(indexes == Array(1...indexes.count), "\(indexes)")
        // Each window begins where the one before ended.
        let ordered = windows.sorted { ($0["index"] as? Int ?? 0) < ($1["index"] as? Int ?? 0) }
        for (previous, next) in zip(ordered, ordered.dropFirst()) {
            #expect(previous["end"] as? String == next["start"] as? String)
        }
        // Every transaction of the run appears in some window, and the last report's counters cover them all.
        #expect(ids.count == 2_000, "\(ids.count) distinct transactions over the windows")
        let lines = try Self.lines(Self.read(directory + "/ndjson"))
        let final = try #require(lines.last?["report"] as? [String: Any])
        let outcomes = try #require((final["stats"] as? [String: Any])?["transactionOutcomes"] as? [String: Int])
        #expect(outcomes == ["success": 2_000])
        let evicted = try #require((final["liveWindow"] as? [String: Any])?["evicted"] as? [String: Int])
        #expect(evicted["transactions"] == 2_000, "every finished transaction was forgotten after its window: \(evicted)")
        try Self.validate(stream: directory + "/ndjson", reports: names.map { directory + "/reports/" + $0 })
        #expect((final["transactions"] as? [Any])?.isEmpty == true)
    }

    @Test("--redact on the live stream: no address of the lab and no ufrag survives in any line, the report included")
    func redactedStream() throws {
        let lab = try Lab("g")
        defer { lab.tearDown() }
        let directory = try lab.directory("redact")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let responder = try lab.startLoadResponder(seconds: 8, directory: directory)
        defer { _ = Self.wait(responder, seconds: 20) }
        let binary = try #require(Fixtures.wedioBinary)
        let sniff = try Self.start(
            lab.capture,
            [binary, "sniff", "-i", "wedio-c", "--filter", "udp", "--duration", "5", "--format", "ndjson", "--redact"],
            stdout: directory + "/ndjson")
        usleep(1_000_000)
        try lab.sendLoad(rate: 50, seconds: 1, sockets: 4, iceChecks: 5)
        try #require(Self.wait(sniff, seconds: 30))
        let stream = Self.read(directory + "/ndjson")
        let lines = try Self.lines(stream)
        #expect(lines.contains { $0["kind"] as? String == "ice-checks-started" })
        #expect(lines.last?["type"] as? String == "report")
        // The oracle is the lab's own addressing, not the redactor's lists.
        #expect(!stream.contains("10.213."), "a lab address survived")
        #expect(!stream.contains("rfrag") && !stream.contains("lfrag"), "a ufrag survived")
        #expect(stream.contains("10.128."), "private addresses become 10.128.x.y pseudonyms")
        #expect(stream.contains("ufrag-1"))
    }

    @Test("--write with --rotate-size: files named as tcpdump -C names them, none over the size, together every packet")
    func rotatedWrite() throws {
        let lab = try Lab("h")
        defer { lab.tearDown() }
        let directory = try lab.directory("rotate")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let responder = try lab.startLoadResponder(seconds: 7, directory: directory)
        defer { _ = Self.wait(responder, seconds: 20) }
        let binary = try #require(Fixtures.wedioBinary)
        let sniff = try Self.start(
            lab.capture,
            [binary, "sniff", "-i", "wedio-c", "--filter", "udp", "--duration", "4", "--write", directory + "/ring.pcap",
             "--rotate-size", "4K"], stdout: directory + "/text")
        usleep(1_000_000)
        try lab.sendLoad(rate: 200, seconds: 1, sockets: 4)
        try #require(Self.wait(sniff, seconds: 30))
        #expect(sniff.terminationStatus == 0, "\(Self.read(directory + "/text.err"))")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("ring.pcap") }
        let expected = ["ring.pcap"] + (1..<files.count).map { "ring.pcap\($0)" }
        #expect(files.sorted() == expected.sorted(), "\(files)")
        #expect(files.count >= 8, "400 packets of about 90 bytes in 4 KiB files: \(files.count)")
        for file in files {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: directory + "/" + file)[.size] as? Int)
            #expect(size <= 4_096 + 24, "\(file): \(size) bytes")
        }
        // Read back in order as one vantage point: every packet is in exactly one file, no transaction cut.
        let analyzed = try ProcessRunner.run(binary, ["analyze", "--format", "json"] + expected.map { directory + "/" + $0 })
        #expect(analyzed.status == 0, "\(analyzed.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(analyzed.stdout.utf8)) as? [String: Any])
        let packets = (report["inputs"] as? [[String: Any]] ?? []).compactMap { $0["packets"] as? Int }.reduce(0, +)
        #expect(packets == 400)
        #expect((report["stats"] as? [String: Any])?["transactionOutcomes"] as? [String: Int] == ["success": 200])
    }

    @Test("SIGUSR1 without --output prints the summary so far on standard error, and the capture goes on to its end")
    func reportNowOnStandardError() throws {
        let lab = try Lab("i")
        defer { lab.tearDown() }
        let directory = try lab.directory("usr1")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let responder = try lab.startLoadResponder(seconds: 6, directory: directory)
        defer { _ = Self.wait(responder, seconds: 20) }
        let binary = try #require(Fixtures.wedioBinary)
        let sniff = try Self.start(
            lab.capture, Self.unblockingSignals + [binary, "sniff", "-i", "wedio-c", "--filter", "udp", "--duration", "4"],
            stdout: directory + "/text")
        usleep(1_000_000)
        try lab.sendLoad(rate: 100, seconds: 1, sockets: 2)
        kill(sniff.processIdentifier, SIGUSR1)
        try #require(Self.wait(sniff, seconds: 20))
        #expect(sniff.terminationStatus == 0, "SIGUSR1 must not end the capture")
        let early = Self.read(directory + "/text.err")
        let final = Self.read(directory + "/text")
        #expect(early.hasPrefix("WeDio "), "\(early)")
        #expect(early.contains("Binding request"))
        #expect(final.contains("STUN 200 ·"), "\(final.prefix(400))")
    }
}
