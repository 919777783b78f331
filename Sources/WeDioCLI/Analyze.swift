import ArgumentParser
import Foundation
import Synchronization
import WeDio
import WeDioAnalysis
import WeDioCapture
import WeDioReport

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse one or more capture files (pcap or pcapng).",
        discussion: """
            Several files are read in one run, each named by a vantage point (default: the file's base name).
            A directory reads every capture in it; --vantage NAME=GLOB names several files at once; .gz files
            (gzip, as tshark and dumpcap write them) are read as they are.

            Rotated captures: files given without a vantage name whose names differ only in their numbers
            (tcpdump -C/-W: ring.pcap, ring.pcap1, ...; dumpcap's or editcap's ring: call_00001_<time>.pcap;
            tcpdump -G time stamps) are one vantage point, named by what the names share, when they have the
            same link type and snapshot length and each starts no earlier than the one before it ended
            (captures taken side by side overlap, so they stay apart). A vantage point's files are read in
            order of their first packet.
            Exit status: 0 ok, 64 usage, 65 an input was damaged part-way (partial results shown),
            66 an input could not be read at all, 73 the output file could not be written.

            Examples:
              wedio analyze fixtures/link/ethernet-lo.pcap
              wedio analyze --vantage client=client.pcap --vantage turn=server.pcapng
              wedio analyze call.pcap --ice-credentials abcd:secretpassword
              wedio analyze --vantage in=lan.pcap --vantage out=wan.pcap --format markdown
              wedio analyze call.pcap --format json --redact > shareable.json
            """)

    @Argument(help: ArgumentHelp("Capture files.", valueName: "FILE"))
    var files: [String] = []

    @Option(
        name: .customLong("vantage"),
        help: ArgumentHelp(
            "A capture (a file, a glob such as 'ring/*.pcap', or a directory) with the vantage point it was taken at (repeatable).",
            valueName: "NAME=FILE"))
    var vantages: [String] = []

    @Option(name: .customLong("filter"), help: ArgumentHelp("BPF filter applied while reading.", valueName: "BPF"))
    var filter: String?

    @Option(
        name: .customLong("format"),
        help: "text: the terminal summary; json: the report of Schemas/wedio-report.schema.json; markdown: tables and a Mermaid sequence diagram; ndjson: the events a live capture (wedio sniff --format ndjson) would have streamed, then the report line (one input).")
    var format: OutputFormat = .text

    @Option(name: .customLong("output"), help: ArgumentHelp("Write the report here instead of stdout.", valueName: "PATH"))
    var output: String?

    @Flag(name: .customLong("messages"), help: "Add every decoded STUN message with its attributes (JSON).")
    var messages = false

    @Flag(
        name: .customLong("redact"),
        help: "Replace IP addresses with consistent pseudonyms (family and private/public kept) and hide usernames, realms and ufrags, so the report can be posted publicly.")
    var redact = false

    @Flag(name: .customLong("no-progress"), help: "Never show the progress line.")
    var noProgress = false

    @Flag(name: .customLong("decode-only"), help: ArgumentHelp("Decode and classify only, no analysis (benchmarks).", visibility: .hidden))
    var decodeOnly = false

    @Flag(
        name: .customLong("one-thread"),
        help: ArgumentHelp("Read and analyse an input on one thread even with a core spare (benchmarks).", visibility: .hidden))
    var oneThread = false

    @Flag(
        name: .customLong("no-map"),
        help: ArgumentHelp("Read files with read(2) instead of mapping them into memory (benchmarks).", visibility: .hidden))
    var noMap = false

    @Flag(
        name: .customLong("vantage-per-interface"),
        help: ArgumentHelp(
            "Each interface of a pcapng file with several becomes a vantage point, named VANTAGE/INTERFACE (its name, else ifN): a router's LAN and WAN captured in one file give inside and outside at once."))
    var vantagePerInterface = false

    @OptionGroup var credentials: CredentialOptions

    func validate() throws {
        if files.isEmpty && vantages.isEmpty {
            throw ValidationError("give at least one capture file")
        }
        if format == .ndjson && (files.count + vantages.count != 1 || output != nil || messages) {
            throw ValidationError("--format ndjson replays one capture to standard output (no --output, no --messages)")
        }
        for value in vantages where !value.contains("=") {
            throw ValidationError("--vantage takes NAME=FILE (got '\(value)')")
        }
        if let filter, let problem = BPF.problem(with: filter) {
            throw ValidationError("bad --filter '\(filter)': \(problem)")
        }
    }

    func inputs() throws -> [InputSpec] {
        var named: [(vantage: String, path: String)] = []
        for value in vantages {
            guard let equals = value.firstIndex(of: "=") else { continue }
            named.append((String(value[..<equals]), String(value[value.index(after: equals)...])))
        }
        do {
            return try InputSets.resolve(files: files, named: named, perInterface: vantagePerInterface)
        } catch {
            FileHandle.standardError.write(Data("wedio: \(error)\n".utf8))
            throw ExitCode(ExitStatus.unreadableInput)
        }
    }

    /// Tests: throws an error no command expects, to check that such a fault exits 70.
    @Flag(name: .customLong("fail-internally"), help: .hidden)
    var failInternally = false

    struct InternalFault: Error, CustomStringConvertible {
        var description: String { "a fault asked for by --fail-internally" }
    }

    /// `--format ndjson`: the capture read as a live capture analyses it, the events through the live rate limit
    /// and redactor, then the report line; exit status as for any input.
    func replayAsLive(_ spec: InputSpec, pipeline: Pipeline) throws {
        let stream = LiveStream(redact: redact)
        var limiter = LiveEventLimiter()
        let result = pipeline.followLive(spec) { events, start in
            for line in limiter.admit(events, now: events.last?.time) {
                switch line {
                case .event(let event): stream.write(.event(event, start: start))
                case .suppressed(let held): stream.write(.suppressed(held))
                }
            }
        }
        for line in limiter.flush() {
            if case .suppressed(let held) = line { stream.write(.suppressed(held)) }
        }
        FileHandle.standardOutput.write(Data(try stream.reportLine(result).utf8))
        for input in result.inputs where input.status != .complete {
            printError("wedio: \(input.failure ?? input.path)")
        }
        if result.hasUnreadableInput { throw ExitCode(ExitStatus.unreadableInput) }
        if result.hasDamagedInput { throw ExitCode(ExitStatus.damagedInput) }
    }

    func run() throws {
        if failInternally { throw InternalFault() }
        let options = try credentials.analyzerOptions(keepMessages: messages)
        var pipeline = Pipeline(filter: filter, analyzerOptions: options)
        pipeline.decodeOnly = decodeOnly
        if oneThread { pipeline.analysisThread = .never }
        if noMap { pipeline.mapsFiles = false }
        let specs = try inputs()
        if format == .ndjson, let spec = specs.first {
            try replayAsLive(spec, pipeline: pipeline)
            return
        }
        let progress = ProgressLine(enabled: !noProgress && isatty(STDERR_FILENO) == 1, inputs: specs)
        let result = pipeline.analyze(specs) { progress.update($0) }
        progress.finish()
        for input in result.inputs where input.status != .complete {
            printError("wedio: \(input.failure ?? input.path)")
        }
        // JSON to standard output, not redacted: written as it is rendered, never held whole.
        if format == .json, output == nil, !redact {
            try JSONReport(toolVersion: wedioVersion, includeMessages: messages).render(result) { piece in
                writeAll(piece, to: STDOUT_FILENO)
            }
            if result.hasUnreadableInput { throw ExitCode(ExitStatus.unreadableInput) }
            if result.hasDamagedInput { throw ExitCode(ExitStatus.damagedInput) }
            return
        }
        var bytes: [UInt8]
        switch format {
        case .text:
            bytes = Array(TextReport(color: output == nil && useColor(), toolVersion: wedioVersion).render(result).utf8)
        case .json:
            // Bytes straight from the encoder: a big capture's report is tens of megabytes, not copied into a String.
            bytes = try JSONReport(toolVersion: wedioVersion, includeMessages: messages).renderBytes(result)
        case .markdown, .ndjson:
            bytes = Array(MarkdownReport(toolVersion: wedioVersion).render(result).utf8)
        }
        if redact {
            var redactor = Redactor(result)
            bytes = Array(redactor.redactAll(String(decoding: bytes, as: UTF8.self), json: format == .json).utf8)
        }
        if let output {
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                printError("wedio: cannot write \(output): \(error.localizedDescription)")
                throw ExitCode(ExitStatus.cannotCreate)
            }
        } else {
            writeAll(bytes, to: STDOUT_FILENO)
        }
        if result.hasUnreadableInput { throw ExitCode(ExitStatus.unreadableInput) }
        if result.hasDamagedInput { throw ExitCode(ExitStatus.damagedInput) }
    }
}

/// A progress line on stderr for inputs over 50 MB, redrawn at most twice a second (vantage points are
/// read on several threads, so drawing is serialised).
final class ProgressLine: Sendable {
    private struct State {
        var lastDraw = Date.distantPast
        var drew = false
    }

    let enabled: Bool
    private let started = Date()
    private let state = Mutex(State())
    private static let threshold: Int64 = 50 * 1024 * 1024

    init(enabled: Bool, inputs: [InputSpec]) {
        // stat(2), not FileManager's attributes: those look up the owner's account name (an NSS round trip).
        self.enabled =
            enabled
            && inputs.contains { spec in
                var info = stat()
                return stat(spec.path, &info) == 0 && Int64(info.st_size) > Self.threshold
            }
    }

    func update(_ progress: ReadProgress) {
        guard enabled, progress.fileSize > Self.threshold else { return }
        let now = Date()
        state.withLock { state in
            guard now.timeIntervalSince(state.lastDraw) >= 0.5 else { return }
            state.lastDraw = now
            let percent = progress.fileSize > 0 ? Double(progress.bytesRead) * 100 / Double(progress.fileSize) : 0
            let rate = Double(progress.packets) / max(0.001, now.timeIntervalSince(started))
            let line = "\r\(progress.input.vantage): \(Int(percent))%  \(progress.packets) packets  \(Int(rate)) packets/s  "
            FileHandle.standardError.write(Data(line.utf8))
            state.drew = true
        }
    }

    func finish() {
        if state.withLock({ $0.drew }) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// Writes every byte to a file descriptor (write(2) may take less than asked); stops on an error such as
/// a closed pipe.
func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count, let base = buffer.baseAddress {
            let written = write(descriptor, base + offset, buffer.count - offset)
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
