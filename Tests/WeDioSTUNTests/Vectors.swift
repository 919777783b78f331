import Foundation
import WeDioTestSupport

/// Loads the RFC 5769 vectors and IANA CSVs kept in Vectors/ (found through #filePath).
enum Vectors {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    static func rfc5769(_ section: String) -> [UInt8] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("rfc5769.txt"), encoding: .utf8) else {
            return []
        }
        var collecting = false
        var body = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("[") {
                collecting = line.hasPrefix("[\(section)")
                continue
            }
            if collecting && !line.hasPrefix("#") { body += line + "\n" }
        }
        return Hex.bytes(body)
    }

    /// Rows of an IANA CSV: (value text, name), skipping the header. Handles quoted names.
    static func iana(_ file: String) -> [(String, String)] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("iana/\(file)"), encoding: .utf8) else {
            return []
        }
        var rows: [(String, String)] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2 else { continue }
            var rest = Substring(fields[1])
            let name: Substring
            if rest.hasPrefix("\"") {
                rest = rest.dropFirst()
                name = rest.prefix { $0 != "\"" }
            } else {
                name = rest.prefix { $0 != "," }
            }
            rows.append((String(fields[0]), String(name)))
        }
        return rows
    }
}
