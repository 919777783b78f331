import WeDioBasics

/// A decoded STUN message (RFC 8489 §5, or RFC 3489 §11.1 when it has no magic cookie).
public struct STUNMessage: Hashable, Sendable {
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let headerLength = 20
    /// [MS-TURN] §2.2.2.2: the MAGIC-COOKIE attribute's value.
    public static let msTURNCookieValue: UInt32 = 0x72C6_4BC6

    public var method: STUNMethod
    public var messageClass: STUNClass
    public var transactionID: TransactionID
    public var attributes: [STUNAttribute]
    /// Attribute-level problems: the message was still usable (the attribute is kept raw).
    public var problems: [STUNDecodingError]
    /// A Microsoft [MS-TURN] message (first attribute MAGIC-COOKIE): attributes are not padded.
    public var isMSTURN = false

    public init(
        method: STUNMethod, messageClass: STUNClass, transactionID: TransactionID, attributes: [STUNAttribute] = [],
        problems: [STUNDecodingError] = []
    ) {
        self.method = method
        self.messageClass = messageClass
        self.transactionID = transactionID
        self.attributes = attributes
        self.problems = problems
    }

    public var isClassic: Bool { transactionID.isClassic }

    /// The 14-bit message type as on the wire.
    public var messageType: UInt16 { MessageType.combine(method, messageClass) }

    /// The first attribute of a type that a receiver would act on (ignored ones skipped).
    public func attribute(_ type: AttributeType) -> STUNAttribute? {
        attributes.first { $0.type == type && !$0.ignored }
    }

    /// The value of `attribute(type)`; copies only the value (every check asks for several), the list read
    /// through a span (through the array, each attribute looked at was copied: its value retained and released).
    public func value(_ type: AttributeType) -> AttributeValue? {
        let list = attributes.span
        for index in list.indices where list[index].type == type && !list[index].ignored {
            return list[index].value
        }
        return nil
    }

    /// Comprehension-required attributes the registry does not know (RFC 8489 §6.3.1: a request with one gets 420).
    public var unknownComprehensionRequired: [AttributeType] {
        attributes.filter { $0.type.isComprehensionRequired && $0.type.entry == nil }.map(\.type)
    }

    // MARK: Decoding

    /// Decodes one complete message. Throws when the header is unusable (too short, not STUN, a length that
    /// disagrees with the datagram). Problems after the header are listed in `problems` and the message
    /// kept: a bad value stays as raw bytes; a broken attribute list stops the walk there (as Wireshark
    /// shows a "Malformed Packet" after the attributes it could read).
    public static func decode(_ bytes: borrowing Span<UInt8>) throws(STUNDecodingError) -> STUNMessage {
        var message = STUNMessage(method: .binding, messageClass: .request, transactionID: TransactionID(value: 0, isClassic: false))
        try decode(bytes, into: &message)
        return message
    }

    /// Like `decode`, into `message`, whose attribute list's storage is reused when it is the only holder: a
    /// reading thread that decodes batch after batch then allocates no list per message (allocating and
    /// freeing one, a batch at a time, cost 450 instructions a message, a fifth of decoding it).
    public static func decode(_ bytes: borrowing Span<UInt8>, into message: inout STUNMessage) throws(STUNDecodingError) {
        guard bytes.count >= headerLength, let type = ByteCursor.getUInt16(bytes, at: 0),
            let length = ByteCursor.getUInt16(bytes, at: 2), let cookie = ByteCursor.getUInt32(bytes, at: 4)
        else {
            throw STUNDecodingError(.truncated, field: "header", offset: 0, detail: "\(bytes.count) bytes, a header needs 20")
        }
        guard type & 0xC000 == 0 else {
            throw STUNDecodingError(
                .notSTUN, field: "header/type", offset: 0, detail: "the two most significant bits must be zero")
        }
        let isClassic = cookie != magicCookie
        let declared = Int(length)
        // [MS-TURN] §2.2.2: a first attribute MAGIC-COOKIE (0x000F, value 0x72C64BC6) means no attribute padding.
        let isMSTURN = ByteCursor.getUInt16(bytes, at: 20) == AttributeType.msMagicCookie.rawValue
            && ByteCursor.getUInt32(bytes, at: 24) == msTURNCookieValue
        guard headerLength + declared <= bytes.count else {
            throw STUNDecodingError(
                .truncated, field: "header/length", offset: 2,
                detail: "length \(declared) runs past the \(bytes.count - headerLength) bytes after the header")
        }
        guard headerLength + declared == bytes.count else {
            throw STUNDecodingError(
                .badMessageLength, field: "header/length", offset: 2,
                detail: "length \(declared) leaves \(bytes.count - headerLength - declared) trailing bytes")
        }
        var problems: [STUNDecodingError] = []
        if !isClassic && !isMSTURN && declared % 4 != 0 {
            // RFC 8489 §5 requires a multiple of 4; WhatsApp's TURN sends others. Decode, and say so.
            problems.append(
                STUNDecodingError(
                    .badMessageLength, field: "header/length", offset: 2, detail: "length \(declared) is not a multiple of 4"))
        }
        guard let id = TransactionID(header: bytes) else {
            throw STUNDecodingError(.truncated, field: "header", offset: 0, detail: "\(bytes.count) bytes, a header needs 20")
        }
        let (method, messageClass) = MessageType.split(type)
        message.method = method
        message.messageClass = messageClass
        message.transactionID = id
        message.isMSTURN = isMSTURN
        message.problems = problems
        message.attributes.removeAll(keepingCapacity: true)
        AttributeDecoder.decodeAll(bytes, into: &message)
    }

    /// Like `decode`, but also throws the first attribute-level problem (for tests and strict tools).
    public static func decodeStrict(_ bytes: borrowing Span<UInt8>) throws(STUNDecodingError) -> STUNMessage {
        let message = try decode(bytes)
        if let first = message.problems.first { throw first }
        return message
    }
}
