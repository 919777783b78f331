import Foundation
import Testing

/// Golden files beside the test (Snapshots/<name>): an exact text comparison. WEDIO_RECORD_SNAPSHOTS=1
/// rewrites them and fails the run; a missing golden is recorded and fails too.
public enum Golden {
    public static func assertMatches(
        _ actual: String, named name: String, filePath: String = #filePath, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
        let url = directory.appendingPathComponent(name)
        let record = ProcessInfo.processInfo.environment["WEDIO_RECORD_SNAPSHOTS"] == "1"
        guard !record, let expected = try? String(contentsOf: url, encoding: .utf8) else {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? actual.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("recorded golden file \(name); run again to compare", sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let firstDifference = zip(expectedLines, actualLines).enumerated().first { $0.element.0 != $0.element.1 }
            let detail =
                firstDifference.map { "line \($0.offset + 1): expected «\($0.element.0)», got «\($0.element.1)»" }
                ?? "lengths differ (\(expectedLines.count) vs \(actualLines.count) lines)"
            Issue.record("\(name) differs from its golden file: \(detail)", sourceLocation: sourceLocation)
        }
    }
}

/// Validates JSON against a JSON Schema with Python's jsonschema (the reference validator).
public enum SchemaValidator {
    public static var isAvailable: Bool {
        (try? ProcessRunner.run("/usr/bin/env", ["python3", "-c", "import jsonschema"]).status) == 0
    }

    /// nil when valid, else the validator's complaint.
    public static func problem(json: String, schemaPath: String) throws -> String? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-report-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).json")
        try json.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            try:
                jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
            except jsonschema.ValidationError as error:
                print(list(error.absolute_path), error.message[:400], file=sys.stderr)
                sys.exit(1)
            """
        let output = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", script, schemaPath, file.path])
        return output.status == 0 ? nil : output.stderr.split(separator: "\n").suffix(3).joined(separator: " ")
    }
}
