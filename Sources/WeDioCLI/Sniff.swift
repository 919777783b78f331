import ArgumentParser
import Dispatch
import Foundation
import Synchronization
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioCapture
import WeDioReport

struct Sniff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture from a live interface and analyse as packets arrive.",
        discussion: """
            Needs root or CAP_NET_RAW. Ctrl-C (SIGINT) or SIGTERM ends the capture and prints the report.

            Exit status: 0 ok, 64 usage, 65 packets were lost (kernel or interface drops; all else reported), 69 no such interface or capture failed, 73 cannot write, 77 no permission.

            One thread takes packets from the kernel and does nothing else; a second decodes and analyses them. Packets the kernel had to drop (its buffer full) are counted: the report, the NDJSON stream's "stats" lines and the finding capture-dropped-packets say how many and when, and timeouts that may be lost answers are marked.

            Examples:
              sudo wedio sniff --interface eth0 --filter "udp" --duration 60
              sudo wedio sniff --interface any --count 1000 --write call.pcap
              sudo wedio sniff -i eth0 --write ring.pcap --rotate-size 100M
              sudo wedio sniff -i eth0 --format ndjson | jq -c 'select(.type == "event")'
              sudo wedio sniff -i eth0 --report-every 300 --output /var/log/wedio
              sudo kill -USR1 $(pidof wedio)    # a report now (--output, else stderr)
            """)

    @Option(name: [.customShort("i"), .customLong("interface")], help: "Interface to capture on (`wedio interfaces` lists them).")
    var interface: String

    @Option(name: .customLong("filter"), help: ArgumentHelp("BPF capture filter.", valueName: "BPF"))
    var filter: String?

    @Option(name: .customLong("snaplen"), help: "Bytes to capture per packet.")
    var snaplen: Int = 262_144

    @Option(
        name: .customLong("buffer-size"),
        help: ArgumentHelp(
            "Kernel capture buffer (K, M or G suffix): what arrives while wedio is busy waits here.", valueName: "SIZE"))
    var bufferSize: String = "64M"

    /// Tests force drops with a buffer far below what --buffer-size accepts.
    @Option(name: .customLong("kernel-buffer-bytes"), help: .hidden)
    var kernelBufferBytes: Int?

    /// Tests: packets wait in the kernel buffer this long before the first read (drops for certain).
    @Option(name: .customLong("read-delay"), help: .hidden)
    var readDelay: Double = 0

    @Flag(
        name: .customLong("immediate"),
        help: "Hand each packet over at once (libpcap's immediate mode: snaplen-sized ring slots, so fewer fit in the buffer). By default packets come in blocks at most 50 ms late.")
    var immediate = false

    @Option(name: .customLong("duration"), help: ArgumentHelp("Stop after this many seconds.", valueName: "S"))
    var duration: Double?

    @Option(name: .customLong("count"), help: ArgumentHelp("Stop after this many packets.", valueName: "N"))
    var count: Int?

    @Option(name: .customLong("write"), help: ArgumentHelp("Also write the packets to a pcap file.", valueName: "FILE"))
    var write: String?

    @Option(
        name: .customLong("rotate-size"),
        help: ArgumentHelp("With --write: start a new file at this size, as tcpdump -C names them (FILE, FILE1, FILE2, …).", valueName: "SIZE"))
    var rotateSize: String?

    @Option(
        name: .customLong("rotate-seconds"),
        help: ArgumentHelp("With --write: start a new file after this many seconds (same names).", valueName: "S"))
    var rotateSeconds: Double?

    @Option(
        name: .customLong("format"),
        help: "text: the summary at the end. ndjson: one JSON object per line as events happen (flushed per line), \"stats\" lines with the kernel's counters, \"suppressed\" lines counting what the rate limit held back, then the full report as the last line.")
    var format: LiveFormat = .text

    @Option(
        name: .customLong("report-every"),
        help: ArgumentHelp(
            "With --output: write a report of each window of this many seconds (what was active in it, and counters since the start), then forget what was over (finished transactions, deleted or expired allocations, sessions, mappings and flows idle for 60 s), so that memory stays flat for hours. SIGUSR1 writes one at once.",
            valueName: "S"))
    var reportEvery: Double?

    @Option(
        name: .customLong("output"),
        help: ArgumentHelp("Directory for window reports (--report-every, SIGUSR1): wedio-IFACE-START-N.json (or .md).", valueName: "DIR"))
    var output: String?

    @Option(name: .customLong("report-format"), help: "Format of the window reports: json or markdown.")
    var reportFormat: WindowFormat = .json

    @Flag(
        name: .customLong("redact"),
        help: "Replace addresses, ufrags, TURN users and realms with consistent pseudonyms in every line and the report.")
    var redact = false

    @OptionGroup var credentials: CredentialOptions

    func validate() throws {
        guard snaplen > 0 && snaplen <= 262_144 else { throw ValidationError("--snaplen must be 1 to 262144") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        guard let buffer = Self.size(bufferSize), buffer >= 1 << 20, buffer <= 1 << 31 else {
            throw ValidationError("--buffer-size must be 1M to 2G (e.g. 64M)")
        }
        if let kernelBufferBytes, kernelBufferBytes <= 0 { throw ValidationError("--kernel-buffer-bytes must be positive") }
        if let rotateSize, Self.size(rotateSize).map({ $0 >= 4_096 }) != true {
            throw ValidationError("--rotate-size must be at least 4K (e.g. 100M)")
        }
        if let rotateSeconds, rotateSeconds <= 0 { throw ValidationError("--rotate-seconds must be positive") }
        if let reportEvery, reportEvery < 1 { throw ValidationError("--report-every must be at least 1 second") }
        if reportEvery != nil && output == nil { throw ValidationError("--report-every needs --output DIR") }
        if let output {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--output must be an existing directory (got '\(output)')")
            }
        }
        if (rotateSize != nil || rotateSeconds != nil) && write == nil {
            throw ValidationError("--rotate-size and --rotate-seconds need --write FILE")
        }
        if let filter, let problem = BPF.problem(with: filter) {
            throw ValidationError("bad --filter '\(filter)': \(problem)")
        }
    }

    /// "64M" → bytes; a plain number is bytes.
    static func size(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "k": 1 << 10, "M": 1 << 20, "m": 1 << 20, "G": 1 << 30, "g": 1 << 30]
        guard let last = text.last else { return nil }
        if let unit = units[last] { return Int(text.dropLast()).flatMap { $0.multipliedReportingOverflow(by: unit).overflow ? nil : $0 * unit } }
        return Int(text)
    }

    static func exitStatus(for error: CaptureError) -> Int32 {
        switch error.code {
        case .permissionDenied: ExitStatus.noPermission
        case .badFilter: ExitCode.validationFailure.rawValue
        case .cannotWrite: ExitStatus.cannotCreate
        default: ExitStatus.captureUnavailable
        }
    }

    func run() throws {
        let analyzerOptions = try credentials.analyzerOptions(keepMessages: false)
        let pipeline = Pipeline(filter: filter, analyzerOptions: analyzerOptions)
        let stop = CaptureStopToken()
        var sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.stop() }
            source.resume()
            return source
        }
        var settings = LiveSettings()
        settings.reportEvery = reportEvery
        var reports: WindowReports?
        // SIGUSR1 asks for a report now (and must never end a long capture, SIGUSR1's default): into --output,
        // or the text summary so far on standard error.
        let trigger = ReportTrigger()
        signal(SIGUSR1, SIG_IGN)
        let usr1 = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        usr1.setEventHandler { trigger.fire() }
        usr1.resume()
        sources.append(usr1)
        settings.reportNow = trigger
        if let output {
            let writer = WindowReports(
                directory: output, interface: interface, format: reportFormat, redact: redact)
            settings.windowReport = { writer.write($0) }
            reports = writer
        } else {
            let redacting = redact
            settings.windowReport = { result in
                let text = TextReport(color: false, toolVersion: wedioVersion).render(result)
                var redactor = Redactor(result)
                printError(redacting ? redactor.redactAll(text, json: false) : text)
            }
        }
        defer { sources.forEach { $0.cancel() } }
        var options = LiveOptions(
            interface: interface, filter: filter, snapshotLength: snaplen, duration: duration, count: count,
            writePath: write, bufferBytes: kernelBufferBytes ?? Self.size(bufferSize) ?? LiveOptions.defaultBufferBytes,
            immediate: immediate)
        options.rotateBytes = rotateSize.flatMap(Self.size)
        options.rotateSeconds = rotateSeconds
        options.readDelay = readDelay
        let stream = LiveStream(redact: redact)
        let outcome: Result<AnalysisResult, CaptureError>
        do throws(CaptureError) {
            if format == .ndjson {
                outcome = .success(try pipeline.sniff(options, stop: stop, settings: settings) { stream.write($0) })
            } else {
                outcome = .success(try pipeline.sniff(options, stop: stop, settings: settings))
            }
        } catch {
            outcome = .failure(error)
        }
        let result: AnalysisResult
        switch outcome {
        case .success(let value):
            result = value
        case .failure(let error):
            printError("wedio: \(error)")
            throw ExitCode(Self.exitStatus(for: error))
        }
        reports?.write(result)
        let reportFailure = reports?.failure
        if let reportFailure { printError("wedio: \(reportFailure)") }
        let text: String
        if format == .ndjson {
            text = try stream.reportLine(result)
        } else {
            let rendered = TextReport(color: useColor(), toolVersion: wedioVersion).render(result)
            var redactor = Redactor(result)
            text = redact ? redactor.redactAll(rendered, json: false) : rendered
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        if result.hasDamagedInput { throw ExitCode(ExitStatus.captureUnavailable) }
        if reportFailure != nil { throw ExitCode(ExitStatus.cannotCreate) }
        // Like a file damaged part-way: everything captured is reported, but packets are missing.
        if result.inputs.contains(where: { ($0.liveCounters?.dropped ?? 0) > 0 }) { throw ExitCode(ExitStatus.damagedInput) }
    }
}

/// Formats of the window reports.
enum WindowFormat: String, ExpressibleByArgument, CaseIterable {
    case json
    case markdown
}

/// Writes each window's report into the output directory, whole or not at all (written aside, then renamed),
/// so that a shipper watching the directory never reads half a file.
final class WindowReports: Sendable {
    let directory: String
    let interface: String
    let format: WindowFormat
    let redact: Bool
    private let firstFailure = Mutex<String?>(nil)
    /// One redactor for every window, so that an address keeps its pseudonym from file to file.
    private let redactor = Mutex(Redactor())

    init(directory: String, interface: String, format: WindowFormat, redact: Bool) {
        self.directory = directory
        self.interface = interface
        self.format = format
        self.redact = redact
    }

    var failure: String? { firstFailure.withLock { $0 } }

    func write(_ result: AnalysisResult) {
        guard let window = result.liveWindow else { return }
        let stamp = TimeFormat.rfc3339(window.start).filter { $0.isNumber || $0 == "T" || $0 == "Z" }
        let name =
            "wedio-\(interface.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })-\(stamp)-\(window.index)"
            + (window.onDemand ? "-now" : "") + (format == .json ? ".json" : ".md")
        let path = (directory as NSString).appendingPathComponent(name)
        do {
            var text =
                format == .json
                ? try JSONReport(toolVersion: wedioVersion, includeMessages: false).render(result)
                : MarkdownReport(toolVersion: wedioVersion).render(result)
            if redact {
                let rendered = text
                text = redactor.withLock { redactor in
                    redactor.learn(result)
                    return redactor.redactAll(rendered, json: format == .json)
                }
            }
            let partial = path + ".partial"
            try Data(text.utf8).write(to: URL(fileURLWithPath: partial))
            guard rename(partial, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            firstFailure.withLock { $0 = $0 ?? "cannot write the window report \(path): \(error)" }
        }
    }
}

/// The NDJSON stream's writer: one line per write(2), redacted with what is known so far when asked.
final class LiveStream: Sendable {
    /// nil without --redact.
    private let redactor: Mutex<Redactor?>

    init(redact: Bool) {
        redactor = Mutex(redact ? Redactor() : nil)
    }

    func write(_ output: LiveOutput) {
        var line: String?
        switch output {
        case .event(let event, let start):
            redactor.withLock { $0?.learn(event) }
            line = try? JSONReport.liveEventLine(event, start: start)
        case .suppressed(let held):
            line = try? JSONReport.suppressedLine(kind: held.kind, count: held.count, first: held.first, last: held.last)
        case .stats(let stats):
            line = try? JSONReport.statsLine(
                time: stats.time, interface: stats.interface, packets: stats.packets, counters: stats.counters,
                eventsSuppressed: stats.eventsSuppressed)
        }
        guard let line else { return }
        let written = redactor.withLock { redactor in redactor?.redactAll(line, json: true) ?? line }
        FileHandle.standardOutput.write(Data(written.utf8))  // unbuffered: one write per line
    }

    /// The last line: the full report, with the pseudonyms the stream already used.
    func reportLine(_ result: AnalysisResult) throws -> String {
        let line = try JSONReport(toolVersion: wedioVersion, includeMessages: false).reportLine(result)
        return redactor.withLock { redactor in
            redactor?.learn(result)
            return redactor?.redactAll(line, json: true) ?? line
        }
    }
}

struct Interfaces: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the interfaces live capture can use.")

    func run() throws {
        let list: [CaptureInterface]
        switch Result(catching: { () throws(CaptureError) in try CaptureInterface.all() }) {
        case .success(let value):
            list = value
        case .failure(let error):
            printError("wedio: \(error)")
            throw ExitCode(ExitStatus.captureUnavailable)
        }
        var lines: [String] = []
        for item in list {
            var flags: [String] = []
            if item.isUp { flags.append("up") }
            if item.isLoopback { flags.append("loopback") }
            let addresses = item.addresses.map(\.description).joined(separator: ", ")
            lines.append(
                item.name + (flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))")
                    + (addresses.isEmpty ? "" : "  \(addresses)") + (item.description.map { "  — \($0)" } ?? ""))
        }
        print(lines.joined(separator: "\n"))
    }
}
