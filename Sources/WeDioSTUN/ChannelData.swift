import WeDioBasics

/// A TURN ChannelData message (RFC 8656 §12.4): channel number, length, application data.
public struct ChannelData: Hashable, Sendable {
    public var channel: UInt16
    /// The declared data length.
    public var length: Int
    /// Where the application data sits in the bytes given to `decode`.
    public var data: Range<Int>
    /// Bytes after the data: padding (to 4 on streams, optional on UDP).
    public var padding: Int

    /// RFC 8656 §12: 0x4000–0x4FFF are valid channels; 0x5000–0x7FFF are reserved (RFC 5766 allowed them).
    public static let validChannels: ClosedRange<UInt16> = 0x4000...0x4FFF
    public static let reservedChannels: ClosedRange<UInt16> = 0x5000...0x7FFF

    public var isReservedChannel: Bool { Self.reservedChannels.contains(channel) }

    /// Decodes one ChannelData message. `overStream` requires the padding to 4 that TCP/TLS framing adds.
    /// A reserved channel decodes but is reported through `isReservedChannel`; numbers outside
    /// 0x4000–0x7FFF are not ChannelData at all.
    public static func decode(_ bytes: borrowing Span<UInt8>, overStream: Bool = false) throws(STUNDecodingError)
        -> ChannelData
    {
        guard let channel = ByteCursor.getUInt16(bytes, at: 0), let rawLength = ByteCursor.getUInt16(bytes, at: 2) else {
            throw STUNDecodingError(.truncated, field: "ChannelData header", offset: 0, detail: "\(bytes.count) bytes, need 4")
        }
        guard validChannels.contains(channel) || reservedChannels.contains(channel) else {
            throw STUNDecodingError(
                .invalidChannel, field: "ChannelData channel", offset: 0,
                detail: "channel 0x" + String(channel, radix: 16) + " is outside 0x4000–0x7FFF")
        }
        let length = Int(rawLength)
        guard 4 + length <= bytes.count else {
            throw STUNDecodingError(
                .truncated, field: "ChannelData length", offset: 2,
                detail: "length \(length) runs past the \(bytes.count - 4) bytes of data")
        }
        let padding = bytes.count - 4 - length
        let expectedPadding = (4 - length % 4) % 4
        if padding > expectedPadding || (overStream && padding != expectedPadding) {
            throw STUNDecodingError(
                .badPadding, field: "ChannelData padding", offset: 4 + length,
                detail: "\(padding) bytes after the data, expected \(overStream ? "" : "0 or ")\(expectedPadding)")
        }
        return ChannelData(channel: channel, length: length, data: 4..<(4 + length), padding: padding)
    }
}
