import Foundation
import WeDioAnalysis
import WeDioBasics

/// How a media stream and a pair's bitrate read in the text and Markdown reports.
enum MediaText {
    /// "0x5618827d 10.1.0.2:52966 → 203.0.113.2:45804, PT 96 opus/48000: 626 packets, 15.6 kbit/s, lost 0 (0 %),
    /// jitter 1.46 ms (max 3.2), RTCP 23"
    static func streamLine(_ summary: MediaStreamSummary) -> String {
        let stream = summary.stream
        var text = "\(JSONReportHex.ssrc(stream.ssrc)) \(stream.flow.source) → \(stream.flow.destination)"
        text += ", PT \(stream.payloadTypeList.map(String.init).joined(separator: ","))"
        if let codec = stream.codec { text += " \(codec)" } else if let rate = stream.clockRate { text += " (\(rate) Hz, inferred)" }
        if stream.role != .media { text += " [\(stream.role.rawValue)]" }
        text += ": \(stream.packets) packets"
        if let rate = stream.kilobitsPerSecond { text += ", \(one(rate)) kbit/s" }
        text += ", lost \(stream.lost) (\(lossPercent(stream)))"
        if let jitter = stream.jitterMilliseconds {
            text += ", jitter \(two(jitter)) ms (max \(two(stream.maxJitterMilliseconds ?? jitter)))"
        }
        if stream.duplicates > 0 { text += ", \(stream.duplicates) duplicates" }
        if stream.reordered > 0 { text += ", \(stream.reordered) late" }
        if !stream.gaps.isEmpty {
            text += ", \(stream.gaps.count + stream.gapsDropped) silences (longest \(Diagnosis.formatMilliseconds(stream.gaps.map(\.milliseconds).max() ?? 0)))"
        }
        text += ", RTCP \(summary.rtcpPackets)"
        if stream.throughTURN { text += ", through TURN" }
        return text
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

enum JSONReportHex {
    static func ssrc(_ value: UInt32) -> String { JSONReport.hex32(value) }
}
