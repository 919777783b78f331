import ArgumentParser
import Dispatch
import Foundation
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
            Exit status: 0 ok, 64 usage, 69 no such interface or capture failed, 77 no permission.

            Examples:
              sudo wedio sniff --interface eth0 --filter "udp" --duration 60
              sudo wedio sniff --interface any --count 1000 --write call.pcap
              sudo wedio sniff -i eth0 --format ndjson | jq -c 'select(.type == "event")'
            """)

    @Option(name: [.customShort("i"), .customLong("interface")], help: "Interface to capture on (`wedio interfaces` lists them).")
    var interface: String

    @Option(name: .customLong("filter"), help: ArgumentHelp("BPF capture filter.", valueName: "BPF"))
    var filter: String?

    @Option(name: .customLong("snaplen"), help: "Bytes to capture per packet.")
    var snaplen: Int = 262_144

    @Option(name: .customLong("duration"), help: ArgumentHelp("Stop after this many seconds.", valueName: "S"))
    var duration: Double?

    @Option(name: .customLong("count"), help: ArgumentHelp("Stop after this many packets.", valueName: "N"))
    var count: Int?

    @Option(name: .customLong("write"), help: ArgumentHelp("Also write the packets to a pcap file.", valueName: "FILE"))
    var write: String?

    @Option(
        name: .customLong("format"),
        help: "text: the summary at the end. ndjson: one JSON object per line as events happen (flushed per line), then the full report as the last line.")
    var format: LiveFormat = .text

    @OptionGroup var credentials: CredentialOptions

    func validate() throws {
        guard snaplen > 0 && snaplen <= 262_144 else { throw ValidationError("--snaplen must be 1 to 262144") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        if let filter, let problem = BPF.problem(with: filter) {
            throw ValidationError("bad --filter '\(filter)': \(problem)")
        }
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
        let store = try credentials.store()
        var analyzerOptions = Analyzer.Options(credentials: store)
        analyzerOptions.signalledCandidates = try credentials.signalledCandidates()
        let pipeline = Pipeline(filter: filter, analyzerOptions: analyzerOptions)
        let stop = CaptureStopToken()
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.stop() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        let options = LiveOptions(
            interface: interface, filter: filter, snapshotLength: snaplen, duration: duration, count: count,
            writePath: write)
        let outcome: Result<AnalysisResult, CaptureError>
        do throws(CaptureError) {
            if format == .ndjson {
                outcome = .success(
                    try pipeline.sniff(options, stop: stop) { event, start in
                        guard let line = try? JSONReport.eventLine(event, start: start) else { return }
                        FileHandle.standardOutput.write(Data(line.utf8))  // unbuffered: one write per line
                    })
            } else {
                outcome = .success(try pipeline.sniff(options, stop: stop))
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
        let text =
            format == .ndjson
            ? try JSONReport(toolVersion: wedioVersion, includeMessages: false).reportLine(result)
            : TextReport(color: useColor(), toolVersion: wedioVersion).render(result)
        FileHandle.standardOutput.write(Data(text.utf8))
        if result.hasDamagedInput { throw ExitCode(ExitStatus.captureUnavailable) }
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
