import Foundation

/// Paths to the repository's fixtures and to the shared public corpus (tests skip when it is absent).
public enum Fixtures {
    /// The repository root, from this file's location (Sources/WeDioTestSupport/Fixtures.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String {
        repositoryRoot.appendingPathComponent("fixtures").appendingPathComponent(relative).path
    }

    /// `../shared/corpus/public` beside the repository (the brief's relative path).
    public static let corpusDirectory: URL = repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/corpus/public")

    public static var corpusIsPresent: Bool {
        FileManager.default.fileExists(atPath: corpusDirectory.appendingPathComponent("MANIFEST.tsv").path)
    }

    public static func corpus(_ name: String) -> String {
        corpusDirectory.appendingPathComponent(name).path
    }

    /// Every capture file in the corpus, sorted by name.
    public static var corpusFiles: [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path) else { return [] }
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }

    /// The `wedio` binary SwiftPM built beside the test bundle (the end-to-end tests depend on it, so it is
    /// there whatever the build directory); the usual build directories only as a fallback. Tests
    /// `#require` it: a missing binary fails them, it does not skip them.
    public static var wedioBinary: String? {
        let runner = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let candidates = [
            runner.deletingLastPathComponent().appendingPathComponent("wedio").path,
            runner.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("wedio").path,
            repositoryRoot.appendingPathComponent(".build/debug/wedio").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Runs a process and collects its output (tshark, the wedio binary).
public enum ProcessRunner {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        // stderr goes to a file: reading two pipes one after the other deadlocks once the child fills the
        // second (a validator printing a large instance did).
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent(
            "wedio-stderr-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        // Its failure shows as FileHandle's error just below.
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = errHandle
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? errHandle.close()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// tshark as an independent oracle.
public enum Tshark {
    public static let path = "/usr/bin/tshark"

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// `tshark -n -r FILE <options> -T fields -e …`, one array of fields per output line.
    public static func fields(_ file: String, _ fields: [String], filter: String? = nil, options: [String] = []) throws
        -> [[String]]
    {
        var arguments = ["-n", "-r", file] + options
        if let filter { arguments += ["-Y", filter] }
        arguments += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
        for field in fields { arguments += ["-e", field] }
        let output = try ProcessRunner.run(path, arguments)
        return output.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}

/// One scratch directory per test process (`wedio-tests-PID` in the temporary directory), removed when the
/// process exits: tests that write captures, reports or broken files put them here, and a run leaves
/// nothing behind (each run had left 8 MB in /tmp).
public enum Scratch {
    public static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.directory) }
        return url
    }()

    /// A path in the scratch directory (its folders made); `name` may hold a folder ("broken/cut.pcap").
    public static func path(_ name: String) -> String {
        let url = directory.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        return url.path
    }
}
