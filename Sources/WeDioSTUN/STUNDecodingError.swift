/// The one error type of the STUN codec. `code` is stable; equality compares it only.
public struct STUNDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable {
            case truncated
            case notSTUN = "not-stun"
            case badMessageLength = "bad-message-length"
            case attributeOverflow = "attribute-overflow"
            case badPadding = "bad-padding"
            case tooManyAttributes = "too-many-attributes"
            case badAttributeLength = "bad-attribute-length"
            case unknownAddressFamily = "unknown-address-family"
            case badErrorClass = "bad-error-class"
            case badErrorNumber = "bad-error-number"
            case textTooLong = "text-too-long"
            case reservedChannel = "reserved-channel"
            case invalidChannel = "invalid-channel"
        }
        let value: Value
        public var description: String { value.rawValue }

        public static let truncated = Code(value: .truncated)
        public static let notSTUN = Code(value: .notSTUN)
        public static let badMessageLength = Code(value: .badMessageLength)
        public static let attributeOverflow = Code(value: .attributeOverflow)
        public static let badPadding = Code(value: .badPadding)
        public static let tooManyAttributes = Code(value: .tooManyAttributes)
        public static let badAttributeLength = Code(value: .badAttributeLength)
        public static let unknownAddressFamily = Code(value: .unknownAddressFamily)
        public static let badErrorClass = Code(value: .badErrorClass)
        public static let badErrorNumber = Code(value: .badErrorNumber)
        public static let textTooLong = Code(value: .textTooLong)
        public static let reservedChannel = Code(value: .reservedChannel)
        public static let invalidChannel = Code(value: .invalidChannel)
    }

    public var code: Code
    /// Where: `"header"`, `"attribute XOR-MAPPED-ADDRESS/family"`, …
    public var field: String
    /// Byte offset in the message.
    public var offset: Int
    public var detail: String

    public init(_ code: Code, field: String, offset: Int, detail: String) {
        self.code = code
        self.field = field
        self.offset = offset
        self.detail = detail
    }

    public static func == (lhs: STUNDecodingError, rhs: STUNDecodingError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { "\(code) at \(field) (offset \(offset)): \(detail)" }
}
