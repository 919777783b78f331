import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioReport
import WeDioTestSupport

/// Every Mermaid diagram the Markdown report draws is rendered by Mermaid itself in a real headless browser
/// (Debian's chromium; Mermaid's JavaScript from the diagram-renderer wheel): a syntax error fails the test.
/// scripts/test.sh installs both; `scripts/render_mermaid.py FILE.md --png DIR` writes the pictures to look at.
@Suite("Mermaid diagrams render")
struct MermaidRenderTests {
    static let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/render_mermaid.py").path

    @Test("The Markdown goldens and every browser lab call (all vantage points) render without a syntax error")
    func render() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-mermaid-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let snapshots = Fixtures.repositoryRoot.appendingPathComponent("Tests/WeDioPipelineTests/Snapshots")
        var files = try FileManager.default.contentsOfDirectory(atPath: snapshots.path).filter { $0.hasSuffix(".md") }
            .map { snapshots.appendingPathComponent($0).path }
        for scenario in BrowserFixtureTests.scenarios {
            let truth = try BrowserTruth.load(scenario)
            let markdown = MarkdownReport(toolVersion: "test").render(truth.analyze(scenario, vantages: BrowserFixtureTests.vantages))
            #expect(markdown.contains("```mermaid"), "\(scenario)")
            let file = directory.appendingPathComponent("\(scenario).md")
            try markdown.write(to: file, atomically: true, encoding: .utf8)
            files.append(file.path)
        }
        let output = try ProcessRunner.run("/usr/bin/env", ["python3", Self.script] + files)
        #expect(output.status != 77, "chromium or the diagram-renderer wheel is missing: run scripts/test.sh, which installs them")
        let lines = output.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        // A line per diagram: every file has its sequence diagram, and the media section's bitrate charts.
        #expect(Set(lines.compactMap { $0["file"] as? String }) == Set(files), "\(output.stdout) \(output.stderr)")
        #expect(lines.count > files.count)
        for line in lines {
            #expect(line["ok"] as? Bool == true, "\(line["file"] ?? "?"): \(line["error"] ?? "?")")
        }
        #expect(output.status == 0)
    }
}
