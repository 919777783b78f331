import WeDioAnalysis
import WeDioBasics
import WeDioCapture
import WeDioDecode
import Dispatch
import CHeap
import Glibc
import Synchronization

/// One input to analyse: a file and the vantage name it was captured at.
public struct InputSpec: Sendable, Hashable {
    public var path: String
    public var vantage: String
    /// Only this interface of a pcapng file (`--vantage-per-interface`).
    public var interface: Int?

    public init(path: String, vantage: String? = nil, interface: Int? = nil) {
        self.path = path
        self.vantage = vantage ?? Self.baseName(path)
        self.interface = interface
    }

    /// The file name without directories and extension (the default vantage name); `.gz` goes with it.
    public static func baseName(_ path: String) -> String {
        var file = path.split(separator: "/").last.map(String.init) ?? path
        if file.hasSuffix(".gz") { file.removeLast(3) }
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return file }
        return String(file[..<dot])
    }
}

/// Progress of a long read, for the CLI's progress line.
public struct ReadProgress: Sendable {
    public var input: InputSpec
    public var bytesRead: Int64
    public var fileSize: Int64
    public var packets: Int
}

/// Wires capture → decode → analysis for files and live interfaces.
public struct Pipeline: Sendable {
    public var filter: String?
    public var analyzerOptions: Analyzer.Options
    /// Decode and classify only (no STUN decoding or analysis): the pipeline's own cost, for benchmarks.
    public var decodeOnly = false
    /// Whether regular files are mapped into memory and read by libpcap from there (see MappedFile), or read
    /// with read(2).
    public var mapsFiles = true
    /// Whether an input is read and decoded on one thread and analysed on another.
    public var analysisThread = AnalysisThread.automatic
    /// With two threads, which one decodes STUN: nil lets the reader take it on when the analyser is behind.
    var readerDecodesSTUN: Bool?

    public enum AnalysisThread: Sendable {
        /// When a core is spare: each vantage point already takes one.
        case automatic
        case always
        case never
    }

    public init(filter: String? = nil, analyzerOptions: Analyzer.Options = Analyzer.Options()) {
        self.filter = filter
        self.analyzerOptions = analyzerOptions
    }

    /// Reads every input. Inputs of one vantage point go through one analyzer in the order given (a capture
    /// split into several files); different vantage points are analysed on their own threads (each has its
    /// own transactions, sessions and mappings) and correlated afterwards. Unreadable or damaged inputs are
    /// recorded in their summary; the others are analysed regardless.
    public func analyze(_ inputs: [InputSpec], progress: (@Sendable (ReadProgress) -> Void)? = nil) -> AnalysisResult {
        var vantageNames: [String] = []
        var groups: [String: [Int]] = [:]
        for (index, input) in inputs.enumerated() {
            if groups[input.vantage] == nil { vantageNames.append(input.vantage) }
            groups[input.vantage, default: []].append(index)
        }
        let (names, members) = (vantageNames, groups)
        let splitThreads: Bool
        switch analysisThread {
        case .always: splitThreads = true
        case .never: splitThreads = false
        case .automatic: splitThreads = names.count * 2 <= sysconf(Int32(_SC_NPROCESSORS_ONLN))
        }
        let outcomes = Mutex<[Int: (analyzer: Analyzer, summaries: [InputSummary])]>([:])
        // One vantage point has nothing to correlate with: its NAT tracker keeps no table of each transaction's
        // mapped address (8 MB on a server's capture).
        var options = analyzerOptions
        if names.count == 1 { options.correlatesVantagePoints = false }
        let groupOptions = options
        DispatchQueue.concurrentPerform(iterations: names.count) { group in
            var analyzer = Analyzer(options: groupOptions)
            var summaries: [InputSummary] = []
            for index in members[names[group]] ?? [] {
                summaries.append(
                    read(inputs[index], index: index, analyzer: &analyzer, splitThreads: splitThreads, progress: progress))
            }
            analyzer.finish()
            let outcome = (analyzer: analyzer, summaries: summaries)
            outcomes.withLock { $0[group] = outcome }
        }
        let finished = outcomes.withLock { $0 }
        // The reading threads' batches and decoded messages are freed, but their pages may still be held:
        // given back before the sessions and the report are built, the peak no longer depends on the order
        // of the frees.
        _ = wedio_heap_release_free_pages()
        var summaries: [InputSummary] = []
        var vantages: [(name: String, analyzer: Analyzer)] = []
        for group in vantageNames.indices {
            guard let outcome = finished[group] else { continue }
            summaries += outcome.summaries
            vantages.append((name: vantageNames[group], analyzer: outcome.analyzer))
        }
        summaries.sort { $0.index < $1.index }
        return AnalysisResult(inputs: summaries, vantages: consume vantages)
    }

    /// Below this size an input is read on one thread unless `.always` says otherwise: starting the second thread
    /// and its batches costs about a millisecond, more than it can save on a file read in a few.
    static let smallInput: Int64 = 8 * 1_024 * 1_024

    private func read(
        _ input: InputSpec, index: Int, analyzer: inout Analyzer, splitThreads: Bool,
        progress: (@Sendable (ReadProgress) -> Void)?
    ) -> InputSummary {
        var summary = InputSummary(index: index, path: input.path, vantage: input.vantage)
        do throws(CaptureError) {
            let capture = try OfflineCapture(path: input.path, filter: filter, mapped: mapsFiles, interface: input.interface)
            summary.linkType = capture.linkType.name
            // A pipe's size is unknown (0): it may be long.
            let small = capture.fileSize > 0 && capture.fileSize < Self.smallInput
            read(
                capture, input: input, index: index, summary: &summary, analyzer: &analyzer,
                splitThreads: splitThreads && (analysisThread == .always || !small), progress: progress)
        } catch {
            summary.record(error, status: .unreadable)
        }
        return summary
    }

    /// Reads a capture held in memory (tests, fuzzing).
    public func analyze(bytes: [UInt8], name: String = "<memory>") -> AnalysisResult {
        var analyzer = Analyzer(options: analyzerOptions)
        let input = InputSpec(path: name)
        var summary = InputSummary(index: 0, path: name, vantage: input.vantage)
        do throws(CaptureError) {
            let capture = try OfflineCapture(bytes: bytes, name: name)
            summary.linkType = capture.linkType.name
            read(
                capture, input: input, index: 0, summary: &summary, analyzer: &analyzer,
                splitThreads: analysisThread == .always, progress: nil)
        } catch {
            summary.record(error, status: .unreadable)
        }
        analyzer.finish()
        return AnalysisResult(inputs: [summary], analyzer: consume analyzer)
    }

    private func read(
        _ capture: OfflineCapture, input: InputSpec, index: Int, summary: inout InputSummary, analyzer: inout Analyzer,
        splitThreads: Bool, progress: (@Sendable (ReadProgress) -> Void)?
    ) {
        var decoder = PacketDecoder()
        var log = DiagnosticLog()
        var analysisLog = DiagnosticLog()
        let link = capture.linkType
        var packets = 0
        var wireBytes = 0
        var capturedBytes = 0
        var first: CaptureTime?
        var last: CaptureTime?
        var kinds = 0
        // With a spare core the analyzer runs on its own thread, fed in batches (PayloadHandoff.swift); it
        // sees the same payloads in the same order, so the result is the same as on one thread.
        // The queue and its batches exist only then (they reserve a few megabytes).
        let queue: Handoff<PayloadBatch>? = splitThreads && !decodeOnly ? Handoff<PayloadBatch>(depth: 4) : nil
        var box: AnalyzerBox?
        var batch: PayloadBatch?
        if let queue {
            let started = AnalyzerBox(analyzer)
            analyzer = Analyzer(options: analyzer.options)  // the box holds the only copy: no copy-on-write
            started.start(queue)
            box = started
            batch = queue.emptyBatch(readerDecodesSTUN: readerDecodesSTUN)
        }
        // Tested per payload without binding the queue (a binding retained and released it on every payload).
        let splits = queue != nil
        do throws(CaptureError) {
            try capture.forEach { record, bytes in
                packets += 1
                wireBytes += record.wireLength
                capturedBytes += bytes.count
                if first == nil { first = record.time }
                last = record.time
                let ref = PacketRef(input: index, packet: record.number)
                decoder.decode(
                    link: record.linkType ?? link, ref: ref, time: record.time, wireLength: record.wireLength, bytes: bytes, log: &log
                ) { payload, payloadBytes in
                    if decodeOnly {
                        kinds &+= payload.kind == .unknown ? 0 : 1
                    } else if splits {
                        batch?.append(payload, bytes: payloadBytes)
                        if batch?.isFull == true, let queue, let full = batch.take() {
                            queue.send(full)
                            batch = queue.emptyBatch(readerDecodesSTUN: readerDecodesSTUN)
                        }
                    } else {
                        analyzer.handle(payload, bytes: payloadBytes, log: &analysisLog)
                    }
                }
                if let progress, packets & 0xFFFF == 0 {
                    progress(ReadProgress(input: input, bytesRead: capture.position, fileSize: capture.fileSize, packets: packets))
                }
            }
        } catch {
            // Nothing readable at all (e.g. a pcapng whose second interface libpcap refuses) is unreadable.
            summary.record(error, status: packets == 0 ? .unreadable : .damaged)
        }
        if let queue, let box, var current = batch.take() {
            current.isLast = true
            queue.send(current)
            box.done.wait()
            analyzer = box.takeAnalyzer()
            analysisLog = box.log
        }
        analyzer.absorb(decoder)
        log.merge(analysisLog)
        if decodeOnly { summary.errors["classified-payloads"] = kinds }
        summary.packets = packets
        summary.bytes = wireBytes
        summary.capturedBytes = capturedBytes
        summary.firstTime = first
        summary.lastTime = last
        for (reason, count) in log.sortedCounts { summary.errors[reason.rawValue] = count }
        summary.errorSamples = log.samples
        summary.describeInterfaces(of: capture, only: input.interface)
    }
}

extension InputSummary {
    /// A pcapng file read block by block: its interfaces (the one asked for, or all), comments and secrets.
    mutating func describeInterfaces(of capture: OfflineCapture, only interface: Int?) {
        guard capture.readsInterfaces else { return }
        let interfaces = capture.interfaces.filter { interface == nil || $0.index == interface }
        self.interfaces = interfaces.map {
            InputInterface(
                index: $0.index, linkType: $0.linkType.name, name: $0.name, description: $0.description, packets: $0.packets,
                received: $0.received, droppedByInterface: $0.droppedByInterface, droppedByOS: $0.droppedByOS)
        }
        linkType = Array(Set(interfaces.map(\.linkType.name))).sorted().joined(separator: "+")
        comments = capture.comments
        decryptionSecretsBlocks = capture.decryptionSecretsBlocks
    }

    /// Why reading an input stopped: the error names the file and the packet.
    mutating func record(_ error: CaptureError, status: InputStatus) {
        self.status = status
        failure = error.description
        failureCode = error.code.rawValue
    }
}
