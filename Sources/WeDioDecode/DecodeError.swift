import WeDioBasics

/// The one error type of the decode layer. Equality compares the reason only.
public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Layer: String, Sendable {
        case link, ip, udp, tcp
    }

    public var reason: DiagnosticReason
    public var detail: String

    public static func == (lhs: DecodeError, rhs: DecodeError) -> Bool { lhs.reason == rhs.reason }

    @inline(never)
    static func truncated(_ what: String) -> DecodeError {
        DecodeError(reason: .truncated, detail: "\(what) cut short by the capture")
    }

    @inline(never)
    static func malformed(_ layer: Layer, _ detail: String) -> DecodeError {
        let reason: DiagnosticReason =
            switch layer {
            case .link: .malformedLink
            case .ip: .malformedIP
            case .udp: .malformedUDP
            case .tcp: .malformedTCP
            }
        return DecodeError(reason: reason, detail: detail)
    }

    @inline(never)
    static func unsupportedLinkType(_ value: Int32) -> DecodeError {
        DecodeError(reason: .unsupportedLinkType, detail: "link type \(value) is not decoded")
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
