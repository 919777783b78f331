import Foundation
import Testing
@testable import WeDio
import WeDioAnalysis
import WeDioReport
import WeDioTestSupport

/// The JSON report: golden files on lab fixtures, and every report valid against the shipped schema.
@Suite("JSON report")
struct JSONReportTests {
    static let schema = Fixtures.repositoryRoot.appendingPathComponent("Schemas/wedio-report.schema.json").path

    static func report(_ relative: String, messages: Bool, credentials: CredentialStore = CredentialStore()) throws -> String {
        var result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: messages, credentials: credentials))
            .analyze([InputSpec(path: Fixtures.path(relative))])
        result.inputs[0].path = "fixtures/" + relative  // the same on every machine
        return try JSONReport(toolVersion: "test", includeMessages: messages).render(result)
    }

    @Test("coturn fixture with --messages equals its golden file")
    func golden() throws {
        Golden.assertMatches(try Self.report("link/ethernet-lo.pcap", messages: true), named: "ethernet-lo.json")
    }

    @Test("Streamed to a sink a megabyte at a time, the report is the same bytes as written whole (and, lists rendered on every core, as Foundation writes it), in pieces of a megabyte and one list element")
    func streamedEqualsWhole() throws {
        let flood = try SyntheticCapture.flood(requests: 30_000).write("streamed-flood")
        let inputs = [flood, Fixtures.path("link/ethernet-lo.pcap"), Fixtures.path("ice/media-nat-rebind/a-inside.pcap")]
        for path in inputs {
            let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: path)])
            let report = JSONReport(toolVersion: "test", includeMessages: true)
            let whole = try report.renderBytes(result)
            var pieces: [[UInt8]] = []
            try report.render(result) { pieces.append($0) }
            #expect(Array(pieces.joined()) == whole, "\(path)")
            // Lists of 1 024 items and more are rendered on every core: the bytes are Foundation's all the same.
            if path == flood {
                #expect(result.transactions.transactions.count >= 1_024 && result.messages.count >= 1_024)
                #expect(whole == Array(try report.renderWithFoundation(result).utf8))
            }
            // Handed over between list elements once a megabyte is written: pieces of a megabyte and one element
            // (the first also holds what comes before the first long list: here a session of 16 384 checks).
            if whole.count > 3 << 20 {
                let middle = pieces.dropFirst().dropLast(2)  // the last two: the rest of the document, and its newline
                #expect(middle.count >= 2 && middle.allSatisfy { $0.count >= 1 << 20 && $0.count < (1 << 20) + (64 << 10) }, "\(path): \(pieces.map(\.count))")
                #expect((pieces.first?.count ?? 0) < 4 << 20)
            }
        }
    }

    @Test("Total-failure scenario's transactions equal their golden file")
    func goldenTimeouts() throws {
        Golden.assertMatches(try Self.report("ice/total-failure/a-inside.pcap", messages: false), named: "total-failure-a-inside.json")
    }

    @Test(
        "Reports on every fixture and corpus capture validate against the schema",
        .enabled(if: SchemaValidator.isAvailable, "python3 with jsonschema is not installed"))
    func schemaValid() throws {
        var paths = FixtureCatalog.captures.map { "fixtures/" + $0 }
        if Fixtures.corpusIsPresent { paths += Fixtures.corpusFiles.map(Fixtures.corpus) }
        #expect(paths.count > 20)
        for path in paths {
            let full = path.hasPrefix("fixtures/") ? Fixtures.path(String(path.dropFirst("fixtures/".count))) : path
            let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: full)])
            let json = try JSONReport(toolVersion: "test", includeMessages: true).render(result)
            #expect(try SchemaValidator.problem(json: json, schemaPath: Self.schema) == nil, "\(path)")
        }
    }

    /// Every fixture and corpus capture, analysed once per way the pipeline is set up: the reports (with
    /// messages) must be the same byte for byte.
    static func expectSameReports(_ setups: [(inout Pipeline) -> Void]) throws {
        var paths = FixtureCatalog.captures.map { Fixtures.path($0) }
        if Fixtures.corpusIsPresent { paths += Fixtures.corpusFiles.map(Fixtures.corpus) }
        #expect(paths.count > 20)
        for path in paths {
            let reports = try setups.map { setup in
                var pipeline = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true))
                setup(&pipeline)
                return try JSONReport(toolVersion: "test", includeMessages: true).render(pipeline.analyze([InputSpec(path: path)]))
            }
            #expect(reports.allSatisfy { $0 == reports[0] }, "\(path)")
        }
    }

    @Test("Analysing on a second thread (payloads handed over in batches) gives the same report, byte for byte, as one thread")
    func threadsAgree() throws {
        try Self.expectSameReports([{ $0.analysisThread = .never }, { $0.analysisThread = .always }])
        // Enough payloads to fill many batches: the synthetic flood.
        // STUN decoded on either thread (the reader takes it on when the analyser is behind).
        let flood = SyntheticCapture.flood(requests: 20_000)
        var reports: [String] = []
        for (mode, readerDecodes) in [(Pipeline.AnalysisThread.never, nil), (.always, true), (.always, false), (.always, nil)] {
            var pipeline = Pipeline()
            pipeline.analysisThread = mode
            pipeline.readerDecodesSTUN = readerDecodes
            reports.append(try JSONReport(toolVersion: "test", includeMessages: false).render(pipeline.analyze(bytes: flood.bytes)))
        }
        #expect(reports.allSatisfy { $0 == reports[0] })
    }

    @Test("A file mapped into memory and the same file read with read(2) give the same report, byte for byte")
    func mappedAndReadAgree() throws {
        try Self.expectSameReports([{ $0.mapsFiles = true }, { $0.mapsFiles = false }])
    }

    @Test("The report's own JSON encoder writes the bytes Foundation's JSONEncoder writes, pretty and compact, on every fixture")
    func encoderMatchesFoundation() throws {
        var paths = FixtureCatalog.captures.map { Fixtures.path($0) }
        if Fixtures.corpusIsPresent { paths += Fixtures.corpusFiles.map(Fixtures.corpus) }
        for path in paths {
            let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: path)])
            let report = JSONReport(toolVersion: "test", includeMessages: true)
            #expect(try report.render(result) == report.renderWithFoundation(result), "\(path)")
            #expect(try report.reportLine(result) == report.reportLineWithFoundation(result), "\(path)")
        }
    }

    @Test("Escapes, numbers, empty and nested containers, optionals and unsorted keys come out as Foundation writes them")
    func encoderEdgeCases() throws {
        struct Inner: Encodable {
            var zeta = 1
            var alpha: [String: Int] = [:]
            var list: [Int] = []
        }
        struct Sample: Encodable {
            var text = "quote \" backslash \\ slash / tab \t newline \n bell \u{07} delete \u{7F} arrow ↔ 🙂"
            var numbers: [Double] = [0, -0.0, 1, 0.1, 2.5, 1e-7, 123_456_789.125, 1e21, 4.35e-5, -17.75]
            var integers: [Int] = [0, -1, Int.max, Int.min]
            var unsigned: [UInt64] = [0, UInt64.max]
            var flags = [true, false]
            var missing: String?
            var present: Int? = 3
            var nothing: [Inner] = []
            var empty = Inner()
            var nested = [[1, 2], [], [3]]
            var dictionary = ["b": 2, "a": 1, "B": 3, "é": 4, "a b": 5]
            var inner = Inner(zeta: 2, alpha: ["x": 1], list: [1])
        }
        for pretty in [true, false] {
            let foundation = JSONEncoder()
            foundation.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
            let expected = String(decoding: try foundation.encode(Sample()), as: UTF8.self)
            let actual = String(decoding: try ReportJSONEncoder(pretty: pretty).encode(Sample()), as: UTF8.self)
            #expect(actual == expected)
        }
        #expect(throws: ReportJSONEncoder.Failure.self) { try ReportJSONEncoder(pretty: true).encode([Double.nan]) }
    }

    @Test("The schema rejects a report that breaks it (the validator really runs)", .enabled(if: SchemaValidator.isAvailable))
    func schemaRejects() throws {
        let broken = #"{"schemaVersion": "0.1", "tool": {"name": "wedio", "version": "x"}, "inputs": [], "stats": {}, "transactions": []}"#
        #expect(try SchemaValidator.problem(json: broken, schemaPath: Self.schema) != nil)
    }

    @Test("Passwords never appear in the JSON, and PASSWORD attributes are redacted")
    func noSecrets() throws {
        var store = CredentialStore()
        store.addTURN(username: "alice", password: "wonderland")
        let json = try Self.report("link/ethernet-lo.pcap", messages: true, credentials: store)
        #expect(!json.contains("wonderland"))
        #expect(json.contains("\"integrity\" : \"verified\""))
    }

    @Test("--messages keeps the first messages up to its cap and counts the rest in stats.capped.messagesDropped")
    func messagesCapped() throws {
        var options = Analyzer.Options(keepMessages: true)
        options.messagesKept = 10
        let capture = SyntheticCapture.flood(requests: 30)
        let result = Pipeline(analyzerOptions: options).analyze(bytes: capture.bytes)
        let decoded = result.statistics.stunMessages
        #expect(result.messages.count == 10)
        #expect(result.messagesDropped == decoded - 10)
        #expect(result.messages.map(\.ref.packet) == Array(result.messages.map(\.ref.packet).sorted()))
        let json = try JSONReport(toolVersion: "test", includeMessages: true).render(result)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let capped = try #require((object["stats"] as? [String: Any])?["capped"] as? [String: Int])
        #expect(capped["messagesDropped"] == decoded - 10)
        #expect((object["messages"] as? [Any])?.count == 10)
    }
}
