import Foundation
import WeDioAnalysis
import WeDioBasics

/// How a media stream and a pair's bitrate read in the text and Markdown reports.
enum MediaText {
    /// "0x5618827d 10.1.0.2:52966 → 203.0.113.2:45804, PT 96 opus/48000: 626 packets, 15.6 kbit/s, lost 0 (0 %),
    /// jitter 1.46 ms (max 3.2), RTCP 23"
    static func streamLine(_ summary: MediaStreamSummary) -> String {
        let stream = summary.stream
        var text = "\(JSONReport.hex32(stream.ssrc)) \(stream.flow.source) → \(stream.flow.destination)"
        text += ", PT " + payload(stream, inferred: ", inferred", role: { " [\($0)]" })
        text += ": \(stream.packets) packets"
        if let rate = stream.kilobitsPerSecond { text += ", \(one(rate)) kbit/s" }
        text += ", lost \(stream.lost) (\(lossPercent(stream)))"
        if let jitter = jitter(stream) { text += ", jitter \(jitter.last) ms (max \(jitter.max))" }
        if stream.duplicates > 0 { text += ", \(stream.duplicates) duplicates" }
        if stream.reordered > 0 { text += ", \(stream.reordered) late" }
        if let silences = silences(stream) { text += ", \(silences.count) silences (longest \(silences.longest))" }
        text += ", RTCP \(summary.rtcpPackets)"
        if stream.throughTURN { text += ", through TURN" }
        return text
    }

    /// "96,97 opus/48000", or "96 (48000 Hz<inferred>)" when the rate was worked out, then the role when not media.
    static func payload(_ stream: RTPStream, inferred: String, role: (String) -> String) -> String {
        var text = stream.payloadTypeList.map(String.init).joined(separator: ",")
        if let codec = stream.codec { text += " \(codec)" } else if let rate = stream.clockRate { text += " (\(rate) Hz\(inferred))" }
        if stream.role != .media { text += role(stream.role.rawValue) }
        return text
    }

    /// The jitter at the end and its maximum, in milliseconds to two decimals; nil without a clock rate.
    static func jitter(_ stream: RTPStream) -> (last: String, max: String)? {
        stream.jitterMilliseconds.map { (two($0), two(stream.maxJitterMilliseconds ?? $0)) }
    }

    /// How many silences (those past the cap included) and the longest kept; nil when there were none.
    static func silences(_ stream: RTPStream) -> (count: Int, longest: String)? {
        guard let longest = stream.gaps.map(\.milliseconds).max() else { return nil }
        return (stream.gaps.count + stream.gapsDropped, Diagnosis.formatMilliseconds(longest))
    }

    static func lossPercent(_ stream: RTPStream) -> String {
        guard stream.expected > 0 else { return "0 %" }
        return "\(one(100 * Double(max(stream.lost, 0)) / Double(stream.expected))) %"
    }

    static func one(_ value: Double) -> String { "\(Double((value * 10).rounded()) / 10)" }
    static func two(_ value: Double) -> String { "\(Double((value * 100).rounded()) / 100)" }

    /// A Mermaid xychart of a pair's RTP bitrate, both directions, at most `points` points (bins summed).
    static func bitrateChart(_ media: MediaFlow, local: TransportAddress, title: String, points: Int = 90) -> [String] {
        let forward = media.flow.source == local
        let axis = BitrateAxis(media.bitrate[forward ? 0 : 1], media.bitrate[forward ? 1 : 0])
        guard !axis.first.isEmpty, axis.first.count >= 2 || axis.second.count >= 2 else { return [] }
        let group = max(1, (axis.first.count + points - 1) / points)
        func regroup(_ values: [Double]) -> [Double] {
            stride(from: 0, to: values.count, by: group).map { start in
                let slice = values[start..<min(start + group, values.count)]
                return slice.reduce(0, +) / Double(slice.count)
            }
        }
        // The last bin is cut short by the end of the capture: left out, it would draw a drop that never was.
        let outbound = regroup(Array(axis.first.dropLast()))
        let inbound = regroup(Array(axis.second.dropLast()))
        guard outbound.count >= 2 else { return [] }
        let top = max(outbound.max() ?? 0, inbound.max() ?? 0)
        // From zero, so that a dip is drawn at its true size; the top rounded up to a round number.
        let scale = pow(10, (log10(max(top, 1))).rounded(.down))
        let ceiling = ((top * 1.1) / scale).rounded(.up) * scale
        let seconds = Double(axis.binMilliseconds * Int64(group)) / 1_000
        let span = seconds * Double(max(outbound.count - 1, 1))
        func list(_ values: [Double]) -> String { "[" + values.map { one($0) }.joined(separator: ", ") + "]" }
        return [
            "```mermaid",
            "xychart-beta",
            "    title \"\(title)\"",
            "    x-axis \"seconds (\(one(seconds)) s per point)\" 0 --> \(one(span))",
            "    y-axis \"kbit/s\" 0 --> \(one(ceiling))",
            "    line \(list(outbound))",
            "    line \(list(inbound))",
            "```",
        ]
    }
}
