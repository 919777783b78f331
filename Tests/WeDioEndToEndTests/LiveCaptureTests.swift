import Foundation
import Testing
import WeDioTestSupport

/// `wedio sniff` on a veth pair between two network namespaces this test creates and deletes.
/// Traffic goes only between addresses that exist inside those namespaces.
@Suite(
    "wedio sniff on a veth pair",
    .enabled(if: getuid() == 0, "needs root for network namespaces"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip"), "needs iproute2"),
    .enabled(if: Fixtures.wedioBinary != nil, "wedio is not built"),
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
        let written = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-sniff-\(getpid()).pcap").path
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
        // Blocks until the first line arrives (or the capture ends, which fails the check below).
        let early = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let stillRunning = process.isRunning
        try #require(Self.wait(process, seconds: 10))
        let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stillRunning, "the first event arrived only when the capture ended")
        #expect(early.hasPrefix("{") && early.contains("\"kind\":\"stun-binding\""), "\(early)")
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
            default:
                Issue.record("unexpected line \(line)")
            }
        }
        #expect(events == 3)
        #expect(lines.last?.hasPrefix("{\"report\"") == true)
        let stats = try #require(report?["stats"] as? [String: Any])
        #expect(stats["stunMessages"] as? Int == 6)
        #expect(report?["schemaVersion"] as? String == "0.3")
    }
}
