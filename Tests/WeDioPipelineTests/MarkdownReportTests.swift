import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioReport
import WeDioTestSupport

/// The Markdown report (golden files on lab fixtures, a well-formed Mermaid diagram) and `--redact`.
@Suite("Markdown report and redaction")
struct MarkdownReportTests {
    static func result(_ captures: [(String, String)], messages: Bool = false) -> AnalysisResult {
        var result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: messages)).analyze(
            captures.map { InputSpec(path: Fixtures.path($0.1), vantage: $0.0) })
        for index in result.inputs.indices { result.inputs[index].path = "fixtures/" + captures[index].1 }
        return result
    }

    @Test("Relay through TURN, seen inside A's NAT: golden Markdown")
    func goldenRelay() {
        let result = Self.result([("a-inside", "ice/relay-turn/a-inside.pcap")])
        Golden.assertMatches(MarkdownReport(toolVersion: "test").render(result), named: "relay-turn-a-inside.md")
    }

    @Test("Total failure from inside and outside A's NAT: golden Markdown")
    func goldenFailure() {
        let result = Self.result([("inside", "ice/total-failure/a-inside.pcap"), ("outside", "ice/total-failure/a-outside.pcap")])
        let markdown = MarkdownReport(toolVersion: "test").render(result)
        Golden.assertMatches(markdown, named: "total-failure-a.md")
        #expect(markdown.contains("**Verdict:** Failed: ICE inside/ice-1"))
    }

    @Test("A browser call through symmetric NATs from all four vantage points: golden Markdown, the call's diagram")
    func goldenBrowserCall() throws {
        let scenario = "chromium-symmetric"
        var result = try BrowserTruth.load(scenario).analyze(scenario, vantages: BrowserFixtureTests.vantages)
        for index in result.inputs.indices {
            result.inputs[index].path = "fixtures/browser/\(scenario)/" + (BrowserTruth.vantages[result.inputs[index].vantage] ?? "")
        }
        let markdown = MarkdownReport(toolVersion: "test").render(result)
        Golden.assertMatches(markdown, named: "browser-chromium-symmetric.md")
        // Lanes for the call, a relayed check drawn through the TURN server, NAT translations in notes.
        for lane in ["participant A as A: agent", "participant NA as NAT A (198.51.100.2)", "TURN server 192.0.2.10",
                     "participant NB as NAT B (203.0.113.2)", "participant B as B: agent"] {
            #expect(markdown.contains(lane), "\(lane)")
        }
        #expect(markdown.contains("Binding request (relayed)"))
        #expect(markdown.contains("Note over A,NA: NAT A maps 10.1.0.2:"))
        #expect(!markdown.contains("P3->>P3"))
    }

    @Test("The terminal summary (no colour), the default output: golden text on a relayed call and on a total failure")
    func goldenText() {
        let relay = Self.result([("a-inside", "ice/relay-turn/a-inside.pcap")])
        Golden.assertMatches(TextReport(color: false, toolVersion: "test").render(relay), named: "relay-turn-a-inside.txt")
        let failure = Self.result([("inside", "ice/total-failure/a-inside.pcap"), ("outside", "ice/total-failure/a-outside.pcap")])
        let text = TextReport(color: false, toolVersion: "test").render(failure)
        Golden.assertMatches(text, named: "total-failure-a.txt")
        #expect(!text.contains("\u{1B}["), "no escape sequences without colour")
    }

    @Test("The Mermaid diagram declares every participant it uses, once, and has no statement breakers", arguments: [
        "ice/relay-turn/a-inside.pcap", "ice/aiortc-call/a-inside.pcap", "ice/ipv6-host/host-pair.pcap", "link/ethernet-lo.pcap",
    ])
    func mermaidWellFormed(capture: String) throws {
        let markdown = MarkdownReport(toolVersion: "test").render(Self.result([("v", capture)]))
        let lines = markdown.split(separator: "\n").map(String.init)
        // The sequence diagram (a media section's bitrate charts are Mermaid too, checked by rendering them).
        let start = try #require(lines.indices.first { lines[$0] == "```mermaid" && lines.indices.contains($0 + 1) && lines[$0 + 1] == "sequenceDiagram" })
        let end = try #require(lines[start...].dropFirst().firstIndex(of: "```"))
        let body = lines[(start + 1)..<end]
        #expect(body.first == "sequenceDiagram")
        var declared: Set<String> = []
        var arrows = 0
        for line in body.dropFirst() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            #expect(!trimmed.contains(";") && !trimmed.contains("#"), "\(trimmed)")
            if trimmed.hasPrefix("participant ") {
                let id = String(trimmed.dropFirst("participant ".count).prefix { $0 != " " })
                #expect(declared.insert(id).inserted)
            } else if let arrow = trimmed.range(of: "->>") ?? trimmed.range(of: "-->>") {
                arrows += 1
                let from = String(trimmed[..<arrow.lowerBound]).replacingOccurrences(of: "-", with: "")
                let to = String(trimmed[arrow.upperBound...].prefix { $0 != ":" })
                #expect(declared.contains(from) && declared.contains(to), "\(trimmed)")
            } else {
                #expect(trimmed.hasPrefix("Note over "), "\(trimmed)")
            }
        }
        #expect(arrows > 0)
    }

    @Test("--redact: no address, username, realm or ufrag of the capture is left; pseudonyms are consistent")
    func redaction() throws {
        let result = Self.result(
            [("in", "ice/turn-wrong-password/a-inside.pcap"), ("out", "ice/turn-wrong-password/a-outside.pcap")], messages: true)
        let redactor = Redactor(result)
        let json = redactor.redact(json: try JSONReport(toolVersion: "test", includeMessages: true).render(result))
        let markdown = redactor.redact(text: MarkdownReport(toolVersion: "test").render(result))
        let text = redactor.redact(text: TextReport(color: false, toolVersion: "test").render(result))
        var secrets: Set<String> = ["alice", "wedio.test"]
        for transaction in result.transactions.transactions {
            secrets.insert(transaction.client.ip.description)
            secrets.insert(transaction.server.ip.description)
        }
        for session in result.iceSessions { secrets.formUnion(session.ufrags) }
        #expect(secrets.count > 6)
        for report in [json, markdown, text] {
            for secret in secrets { #expect(!report.contains(secret), "\(secret) left") }
        }
        // The private client stays private-looking and keeps its port; the public server is public-looking.
        #expect(json.contains("\"10.128.0.1:34218\""))
        #expect(json.contains("198.18.0.1:3478"))
        #expect(markdown.contains("user 'user-1' in realm 'realm-1'"))
        #expect(try SchemaValidator.problem(
            json: json, schemaPath: Fixtures.repositoryRoot.appendingPathComponent("Schemas/wedio-report.schema.json").path) == nil)
        // Keys are never rewritten (a ufrag equal to a key would otherwise break the document).
        #expect(json.contains("\"ufrags\" : ["))
    }

    @Test("IPv6 pseudonyms keep the family and the unique-local range")
    func redactionIPv6() {
        let result = Self.result([("v", "ice/ipv6-host/host-pair.pcap")])
        let text = Redactor(result).redact(text: MarkdownReport(toolVersion: "test").render(result))
        #expect(!text.contains("fd00:9::1") && !text.contains("fd00:9::2"))
        #expect(text.contains("[fd00::1]:") && text.contains("[fd00::2]:"))
    }
}
