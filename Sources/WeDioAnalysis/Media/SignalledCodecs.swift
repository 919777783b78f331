import WeDioBasics

/// A payload type as an offer or answer mapped it (`a=rtpmap:PT NAME/RATE[/CHANNELS]`, RFC 8866 §6.6),
/// with RFC 4588's `apt=` for retransmission streams.
public struct SignalledCodec: Sendable, Hashable {
    public var payloadType: Int
    public var name: String
    public var clockRate: Int
    /// For `rtx`: the payload type it retransmits (`a=fmtp:PT apt=N`).
    public var associatedPayloadType: Int?

    public init(payloadType: Int, name: String, clockRate: Int, associatedPayloadType: Int? = nil) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.associatedPayloadType = associatedPayloadType
    }

    /// What a stream of this payload type carries.
    public var role: RTPStream.Role {
        switch name.lowercased() {
        case "rtx": .retransmission
        case "red", "ulpfec", "flexfec", "flexfec-03": .forwardErrorCorrection
        case "telephone-event", "cn": .signalling
        default: .media
        }
    }
}

public enum SDPCodecs {
    /// Every `a=rtpmap` of every media section, with `apt` from the section's `a=fmtp` lines. The same
    /// payload type mapped twice (offer and answer) keeps the first mapping.
    public static func parse(_ text: String) -> [SignalledCodec] {
        var codecs: [SignalledCodec] = []
        var associated: [Int: Int] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingSpaces
            if line.hasPrefix("a=rtpmap:") {
                let rest = line.dropFirst("a=rtpmap:".count)
                guard let space = rest.firstIndex(of: " "), let payloadType = Int(rest[..<space]), (0...127).contains(payloadType) else {
                    continue
                }
                let parts = rest[rest.index(after: space)...].split(separator: "/")
                guard let name = parts.first, parts.count >= 2, let rate = Int(parts[1]), rate > 0, rate <= 10_000_000 else { continue }
                codecs.append(SignalledCodec(payloadType: payloadType, name: String(name), clockRate: rate))
            } else if line.hasPrefix("a=fmtp:") {
                let rest = line.dropFirst("a=fmtp:".count)
                guard let space = rest.firstIndex(of: " "), let payloadType = Int(rest[..<space]) else { continue }
                for parameter in rest[rest.index(after: space)...].split(separator: ";") {
                    let pair = parameter.trimmingSpaces.split(separator: "=", maxSplits: 1)
                    if pair.count == 2, pair[0] == "apt", let value = Int(pair[1]) { associated[payloadType] = value }
                }
            }
        }
        var seen = Set<Int>()
        var result: [SignalledCodec] = []
        for var codec in codecs where seen.insert(codec.payloadType).inserted {
            codec.associatedPayloadType = associated[codec.payloadType]
            result.append(codec)
        }
        return result
    }

    /// RFC 3551's static payload types with their clock rates (the ones still met).
    public static let staticPayloadTypes: [Int: (name: String, clockRate: Int)] = [
        0: ("PCMU", 8_000), 3: ("GSM", 8_000), 4: ("G723", 8_000), 8: ("PCMA", 8_000), 9: ("G722", 8_000),
        13: ("CN", 8_000), 18: ("G729", 8_000), 26: ("JPEG", 90_000), 31: ("H261", 90_000), 32: ("MPV", 90_000),
        34: ("H263", 90_000),
    ]
}

extension Substring {
    var trimmingSpaces: Substring {
        var line = self.drop { $0 == " " || $0 == "\t" }
        while let last = line.last, last == " " || last == "\t" || last == "\r" { line.removeLast() }
        return line
    }
}
