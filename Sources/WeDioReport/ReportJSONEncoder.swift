import WeDioBasics

/// Writes an Encodable value as JSON with sorted keys and unescaped slashes, pretty-printed or compact:
/// the same bytes as Foundation's JSONEncoder with `[.sortedKeys, .withoutEscapingSlashes]` (plus
/// `.prettyPrinted`), which the tests check on every fixture. Foundation's encoder boxes every value and
/// runs at about 40 MB/s, too slow for the report of a capture with thousands of sessions; this one
/// writes every value straight into one buffer, and reorders an object's fields only when its keys did
/// not arrive sorted (the report's types declare their properties in key order, so that is rare).
public struct ReportJSONEncoder: Sendable {
    public var pretty: Bool

    public init(pretty: Bool) {
        self.pretty = pretty
    }

    public enum Failure: Error, CustomStringConvertible {
        case notFinite(Double)
        case nothingEncoded

        public var description: String {
            switch self {
            case .notFinite(let value): "\(value) cannot be written as a JSON number"
            case .nothingEncoded: "a value encoded nothing"
            }
        }
    }

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let output = JSONOutput()
        try JSONRendering(pretty: pretty).render(value, depth: 0, into: output)
        return output.bytes.array
    }

    /// The same bytes handed to `sink` in pieces of about a megabyte as they are written, so that a report of
    /// tens of megabytes is never held whole. Long lists (`JSONReport.Mapped`) hand over what they wrote
    /// between elements; an object is only reordered in memory, so a document streamed this way must have
    /// its top-level keys in order (the report's are: the tests compare both paths on every fixture).
    public func encode<T: Encodable>(_ value: T, sink: @escaping ([UInt8]) throws -> Void) throws {
        let output = JSONOutput()
        output.sink = sink
        try JSONRendering(pretty: pretty).render(value, depth: 0, into: output)
        try sink(output.bytes.array)
    }
}

/// A capture time in a report object: written as RFC 3339 text straight into the output by `FieldWriter`
/// (no String per value); encoded as that text anywhere else.
struct JSONTime: Encodable, Equatable {
    var time: CaptureTime

    init(_ time: CaptureTime) { self.time = time }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(TimeFormat.rfc3339(time))
    }
}

/// A transport address in a report object, as `JSONTime` is for times: `IP:port` or `[v6]:port`.
struct JSONAddress: Encodable, Equatable {
    var address: TransportAddress

    init(_ address: TransportAddress) { self.address = address }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(address.description)
    }
}

/// A run of list items rendered on a worker: their bytes, and where each item ends. A class, so that the
/// bytes are handed back without a copy (a buffer is not copyable); each is written by one worker, then
/// read by the thread that waited for all of them.
final class RenderedItems: @unchecked Sendable {
    var bytes = ByteBuffer()
    var ends: [Int] = []
}

/// The one buffer every value of a document is written into; with a sink, emptied into it now and then.
final class JSONOutput {
    var bytes = ByteBuffer(capacity: 1 << 16)
    var sink: (([UInt8]) throws -> Void)?
    /// Bytes already handed to the sink: offsets into `bytes` from before are gone.
    private(set) var flushed = 0
    static let flushSize = 1 << 20

    /// Hands the buffer to the sink once it holds a megabyte; only between the elements of a long list,
    /// where no open object will be rewritten.
    func flushIfLarge() throws {
        guard let sink, bytes.count >= Self.flushSize else { return }
        try sink(bytes.array)
        flushed += bytes.count
        bytes.removeAll()
    }
}

/// The rendering rules (indentation, escaping, numbers).
struct JSONRendering {
    let pretty: Bool

    func render<T: Encodable>(_ value: T, depth: Int, into output: JSONOutput) throws {
        // The cheap identity test first: a cast to a protocol scans every conformance record in the binary
        // the first time for each type, a millisecond over a report's fifty-odd types (most of a short run's
        // report).
        if Self.directTypes.contains(ObjectIdentifier(T.self)), let direct = value as? any DirectJSONObject {
            try FieldWriter.write(direct, rendering: self, depth: depth, into: output)
            return
        }
        switch value {
        case let string as String: appendQuoted(string, to: &output.bytes)
        case let number as Int: output.bytes.appendDecimal(number)
        case let number as Double: try appendDouble(number, to: &output.bytes)
        case let flag as Bool: output.bytes.append(utf8: flag ? "true" : "false")
        default:
            let encoder = RenderingEncoder(rendering: self, depth: depth, output: output)
            try value.encode(to: encoder)
            try encoder.finish()
        }
    }

    func appendDouble(_ value: Double, to out: inout ByteBuffer) throws {
        guard value.isFinite else { throw ReportJSONEncoder.Failure.notFinite(value) }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out.append(utf8: text)
    }

    func appendQuoted(_ string: String, to out: inout ByteBuffer) {
        let utf8 = string.utf8
        // The common case in one pass with one room check: the bytes copied between the quotes while checked,
        // and all of it taken back for the escaping path at the first byte that needs it (a check, then a
        // copy, then two quotes, each its own pass or call, was 240 instructions a value).
        let plain = unsafe utf8.span.withUnsafeBufferPointer { source -> Bool in
            var plain = true
            unsafe out.append(atMost: source.count + 2) { target in
                unsafe target[0] = UInt8(ascii: "\"")
                var index = 0
                while index < source.count {
                    let byte = unsafe source[index]
                    if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                        plain = false
                        return 0
                    }
                    unsafe target[index &+ 1] = byte
                    index &+= 1
                }
                unsafe target[index &+ 1] = UInt8(ascii: "\"")
                return index &+ 2
            }
            return plain
        }
        if plain { return }
        out.append(UInt8(ascii: "\""))
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(utf8: "\\\"")
            case UInt8(ascii: "\\"): out.append(utf8: "\\\\")
            case 0x08: out.append(utf8: "\\b")
            case 0x0C: out.append(utf8: "\\f")
            case 0x0A: out.append(utf8: "\\n")
            case 0x0D: out.append(utf8: "\\r")
            case 0x09: out.append(utf8: "\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(utf8: "\\u00")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A newline and the indentation of `depth` levels.
    @inline(__always)
    func newline(_ out: inout ByteBuffer, depth: Int) {
        guard pretty else { return }
        out.append(UInt8(ascii: "\n"))
        out.appendSpaces(2 * depth)
    }

    /// Before an element of an object or array at `depth`: a comma after the first, then its line.
    @inline(__always)
    func separate(_ out: inout ByteBuffer, first: Bool, depth: Int) {
        if !first { out.append(UInt8(ascii: ",")) }
        newline(&out, depth: depth + 1)
    }

    /// Before a field of an object at `depth`: the separator, its line and `"name" : ` (the report's own
    /// field names: plain ASCII, never escaped).
    func beginField(_ out: inout ByteBuffer, name: StaticString, first: Bool, depth: Int) {
        guard name.hasPointerRepresentation else {
            separate(&out, first: first, depth: depth)
            appendKey(name.description, to: &out)
            return
        }
        // All of it written with one room check, the name read in place from the binary: append by append,
        // through a String, a field cost 195 instructions, a fifth of writing a transaction.
        let length = name.utf8CodeUnitCount
        let indentation = pretty ? 2 * (depth + 1) : 0
        unsafe out.append(atMost: length + indentation + 16) { target in
            var at = 0
            if !first {
                unsafe target[at] = UInt8(ascii: ",")
                at &+= 1
            }
            if pretty {
                unsafe target[at] = UInt8(ascii: "\n")
                at &+= 1
                // Eight spaces a store (the room asked for covers the last store's overrun, which the name then
                // overwrites): byte by byte, the indentation was a third of a field's cost.
                let raw = unsafe UnsafeMutableRawPointer(target + at)
                var filled = 0
                while filled < indentation {
                    unsafe raw.storeBytes(of: 0x2020_2020_2020_2020 as UInt64, toByteOffset: filled, as: UInt64.self)
                    filled &+= 8
                }
                at &+= indentation
            }
            unsafe target[at] = UInt8(ascii: "\"")
            at &+= 1
            unsafe (target + at).update(from: name.utf8Start, count: length)
            at &+= length
            unsafe target[at] = UInt8(ascii: "\"")
            at &+= 1
            if pretty {
                unsafe (target[at], target[at + 1], target[at + 2]) = (UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " "))
                at &+= 3
            } else {
                unsafe target[at] = UInt8(ascii: ":")
                at &+= 1
            }
            return at
        }
    }

    /// `"key" : ` (pretty) or `"key":`.
    func appendKey(_ key: String, to out: inout ByteBuffer) {
        appendQuoted(key, to: &out)
        out.append(utf8: pretty ? " : " : ":")
    }

    /// Closes an object or array at `depth`; Foundation writes an empty one as `[` newline newline `]`.
    func close(_ out: inout ByteBuffer, _ bracket: UInt8, empty: Bool, depth: Int) {
        if empty && pretty { out.append(UInt8(ascii: "\n")) }
        newline(&out, depth: depth)
        out.append(bracket)
    }
}

/// A type that writes its own fields, already in key order, straight into the output: no containers, no
/// boxing. Used for the report's most numerous objects; the tests check the bytes equal what Foundation
/// makes of the same type's Encodable conformance, so the two cannot drift apart.
protocol DirectJSONObject: Encodable, SendableMetatype {
    func writeFields(_ writer: inout FieldWriter) throws
}

/// Writes one object's fields. The document's buffer is borrowed for the duration (swapped out of the
/// shared class once, not touched through it per byte); nested objects that write themselves are written
/// by the same writer one level down, and any other Encodable value is rendered the general way.
struct FieldWriter: ~Copyable {
    let rendering: JSONRendering
    private(set) var depth: Int
    let output: JSONOutput
    private var bytes = ByteBuffer()
    /// Fields written so far in the object being written.
    private var count = 0

    private init(rendering: JSONRendering, depth: Int, output: JSONOutput) {
        self.rendering = rendering
        self.depth = depth
        self.output = output
    }

    /// Writes `object` at `depth` into the output.
    static func write(_ object: some DirectJSONObject, rendering: JSONRendering, depth: Int, into output: JSONOutput) throws {
        var writer = FieldWriter(rendering: rendering, depth: depth, output: output)
        swap(&writer.bytes, &output.bytes)
        defer { swap(&writer.bytes, &output.bytes) }
        try writer.writeObject(object)
    }

    private mutating func writeObject(_ object: some DirectJSONObject) throws {
        bytes.append(UInt8(ascii: "{"))
        try object.writeFields(&self)
        rendering.close(&bytes, UInt8(ascii: "}"), empty: count == 0, depth: depth)
    }

    /// An object one level down, written by this writer (its depth and count put back after).
    private mutating func writeNested(_ object: some DirectJSONObject, depth nestedDepth: Int) throws {
        let (outerDepth, outerCount) = (depth, count)
        depth = nestedDepth
        count = 0
        defer { (depth, count) = (outerDepth, outerCount) }
        try writeObject(object)
    }

    private mutating func key(_ name: StaticString) {
        rendering.beginField(&bytes, name: name, first: count == 0, depth: depth)
        count += 1
    }

    /// "[", each item on its own line one level below the field, "]" (Foundation's spelling of empty too).
    private mutating func list<T>(_ values: [T], _ item: (inout FieldWriter, T) throws -> Void) rethrows {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            rendering.separate(&bytes, first: index == 0, depth: depth + 1)
            try item(&self, value)
        }
        rendering.close(&bytes, UInt8(ascii: "]"), empty: values.isEmpty, depth: depth + 1)
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        rendering.appendQuoted(value, to: &bytes)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        if let value { field(name, value) }
    }

    mutating func field<Number: BinaryInteger>(_ name: StaticString, _ value: Number) {
        key(name)
        bytes.appendDecimal(value)
    }

    mutating func field(_ name: StaticString, _ value: JSONTime) {
        key(name)
        bytes.append(UInt8(ascii: "\""))
        TimeFormat.append(value.time, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func field(_ name: StaticString, _ value: JSONTime?) {
        if let value { field(name, value) }
    }

    mutating func field(_ name: StaticString, _ value: JSONAddress) {
        key(name)
        bytes.append(UInt8(ascii: "\""))
        value.address.appendText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func field(_ name: StaticString, _ value: JSONAddress?) {
        if let value { field(name, value) }
    }

    mutating func field<Number: BinaryInteger>(_ name: StaticString, _ value: Number?) {
        if let value { field(name, value) }
    }

    mutating func field(_ name: StaticString, _ value: Double) throws {
        key(name)
        try rendering.appendDouble(value, to: &bytes)
    }

    mutating func field(_ name: StaticString, _ value: Double?) throws {
        if let value { try field(name, value) }
    }

    mutating func field(_ name: StaticString, _ value: Bool?) {
        if let value { field(name, value) }
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bytes.append(utf8: value ? "true" : "false")
    }

    mutating func field(_ name: StaticString, _ values: [Double]) throws {
        key(name)
        try list(values) { writer, value in try writer.rendering.appendDouble(value, to: &writer.bytes) }
    }

    mutating func field(_ name: StaticString, _ values: [Int]) {
        key(name)
        list(values) { writer, value in writer.bytes.appendDecimal(value) }
    }

    mutating func field(_ name: StaticString, _ values: [String]) {
        key(name)
        list(values) { writer, value in writer.rendering.appendQuoted(value, to: &writer.bytes) }
    }

    /// A list of lists of strings (a call's generations), the inner lists one level further in.
    mutating func field(_ name: StaticString, _ values: [[String]]) {
        key(name)
        list(values) { writer, inner in
            let depth = writer.depth + 2
            writer.bytes.append(UInt8(ascii: "["))
            for (index, value) in inner.enumerated() {
                writer.rendering.separate(&writer.bytes, first: index == 0, depth: depth)
                writer.rendering.appendQuoted(value, to: &writer.bytes)
            }
            writer.rendering.close(&writer.bytes, UInt8(ascii: "]"), empty: inner.isEmpty, depth: depth)
        }
    }

    /// A string-keyed dictionary as an object one level down, keys in byte order, each value written by `item`.
    private mutating func keyed<Value>(_ values: [String: Value], _ item: (inout FieldWriter, Value) throws -> Void) rethrows {
        let sorted = values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        bytes.append(UInt8(ascii: "{"))
        for (index, entry) in sorted.enumerated() {
            rendering.separate(&bytes, first: index == 0, depth: depth + 1)
            rendering.appendKey(entry.key, to: &bytes)
            try item(&self, entry.value)
        }
        rendering.close(&bytes, UInt8(ascii: "}"), empty: sorted.isEmpty, depth: depth + 1)
    }

    /// A string-keyed dictionary of integers, keys in byte order.
    mutating func field(_ name: StaticString, _ values: [String: Int]) {
        key(name)
        keyed(values) { writer, value in writer.bytes.appendDecimal(value) }
    }

    mutating func object(_ name: StaticString, _ value: (some DirectJSONObject)?) throws {
        guard let value else { return }
        key(name)
        try writeNested(value, depth: depth + 1)
    }

    /// A string-keyed dictionary of objects, keys in byte order.
    mutating func objects(_ name: StaticString, _ values: [String: some DirectJSONObject]) throws {
        key(name)
        try keyed(values) { writer, value in try writer.writeNested(value, depth: writer.depth + 2) }
    }

    /// A list of objects of one type (unboxed: a list of `any DirectJSONObject` boxed every element on the heap).
    mutating func objects(_ name: StaticString, _ values: [some DirectJSONObject]) throws {
        key(name)
        try list(values) { writer, value in try writer.writeNested(value, depth: writer.depth + 2) }
    }

    /// Any other Encodable value, rendered the general way.
    mutating func encodable<T: Encodable>(_ name: StaticString, _ value: T?) throws {
        guard let value else { return }
        key(name)
        swap(&bytes, &output.bytes)
        defer { swap(&bytes, &output.bytes) }
        try rendering.render(value, depth: depth + 1, into: output)
    }
}

/// Encodes one value (object, array or single value) at one depth, writing into the shared output.
final class RenderingEncoder: Encoder {
    enum Kind { case nothing, object, array, single }

    let rendering: JSONRendering
    let depth: Int
    let output: JSONOutput
    var kind = Kind.nothing
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// Object: where "{" is, each field's `"key" : value` span, and whether the keys came sorted so far.
    private var start = 0
    /// What the output had handed to its sink when this object began: offsets hold while it is unchanged.
    private var flushedAtStart = 0
    private var fields: [(key: String, start: Int, end: Int)] = []
    private var sorted = true
    /// Array: items written so far.
    private(set) var items = 0

    init(rendering: JSONRendering, depth: Int, output: JSONOutput) {
        self.rendering = rendering
        self.depth = depth
        self.output = output
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if kind != .object {
            kind = .object
            start = output.bytes.count
            flushedAtStart = output.flushed
            output.bytes.append(UInt8(ascii: "{"))
        }
        return KeyedEncodingContainer(ObjectContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if kind != .array {
            kind = .array
            output.bytes.append(UInt8(ascii: "["))
        }
        return ArrayContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(encoder: self)
    }

    /// Starts a field: separator, indentation, the quoted key. The value follows.
    func beginField(_ key: String) {
        if let last = fields.last {
            fields[fields.count - 1].end = output.bytes.count
            if sorted && !last.key.utf8.lexicographicallyPrecedes(key.utf8) { sorted = false }
        }
        rendering.separate(&output.bytes, first: fields.isEmpty, depth: depth)
        fields.append((key, output.bytes.count, 0))
        rendering.appendKey(key, to: &output.bytes)
    }

    /// Starts an array item: separator and indentation. The value follows.
    func beginItem() {
        rendering.separate(&output.bytes, first: items == 0, depth: depth)
        items += 1
    }

    /// Array items converted from `sources` and written on every core: each run of `chunk` items is
    /// rendered into a buffer of its own, and the buffers are appended in order, so the bytes are the ones
    /// `beginItem` and `render` would write one after the other. A round holds `chunk` × `chunksPerRound`
    /// items, so memory stays a few megabytes whatever the list's length; the sink is fed between items, as
    /// from one thread.
    func encodeItemsConcurrently<Source: Sendable, Element: Encodable & SendableMetatype>(
        _ sources: [Source], chunk: Int = 64, _ convert: @escaping @Sendable (Source) -> Element
    ) throws {
        let chunksPerRound = 8
        let rendering = self.rendering
        let depth = self.depth
        let itemsBefore = items
        // Whether the items write themselves, found once for the list: asked per item (a cast to the protocol),
        // it cost 700 instructions an item.
        let direct = JSONRendering.directTypes.contains(ObjectIdentifier(Element.self)) ? Element.self as? any DirectJSONObject.Type : nil
        var roundStart = 0
        while roundStart < sources.count {
            let roundEnd = min(sources.count, roundStart + chunk * chunksPerRound)
            let chunkCount = (roundEnd - roundStart + chunk - 1) / chunk
            let base = roundStart
            let pieces = concurrentMap(count: chunkCount, chunk: 1) { piece -> Result<RenderedItems, any Error> in
                let rendered = RenderedItems()
                let out = JSONOutput()
                let lower = base + piece * chunk
                do {
                    for index in lower..<min(roundEnd, lower + chunk) {
                        rendering.separate(&out.bytes, first: itemsBefore + index == 0, depth: depth)
                        if let direct {
                            try Self.writeDirect(convert(sources[index]), as: direct, rendering: rendering, depth: depth + 1, into: out)
                        } else {
                            try rendering.render(convert(sources[index]), depth: depth + 1, into: out)
                        }
                        rendered.ends.append(out.bytes.count)
                    }
                    swap(&rendered.bytes, &out.bytes)
                    return .success(rendered)
                } catch {
                    return .failure(error)
                }
            }
            // Handed over item by item, so the sink gets the same pieces as from one thread.
            for piece in pieces {
                let rendered = try piece.get()
                var start = 0
                for end in rendered.ends {
                    output.bytes.append(rendered.bytes, start..<end)
                    try output.flushIfLarge()
                    start = end
                }
            }
            roundStart = roundEnd
        }
        items += sources.count
    }

    /// Writes an item of a list whose type writes itself (`Item` is `Direct`: a cast from a type to itself,
    /// not to a protocol).
    private static func writeDirect<Item: Encodable, Direct: DirectJSONObject>(
        _ item: Item, as _: Direct.Type, rendering: JSONRendering, depth: Int, into output: JSONOutput
    ) throws {
        if let object = item as? Direct {
            try FieldWriter.write(object, rendering: rendering, depth: depth, into: output)
        } else {
            try rendering.render(item, depth: depth, into: output)
        }
    }

    func markSingle() { kind = .single }

    /// Closes the object or array. An object whose keys came out of order is rewritten in key order (a key
    /// written twice keeps its last value, as in a dictionary).
    func finish() throws {
        switch kind {
        case .nothing:
            throw ReportJSONEncoder.Failure.nothingEncoded
        case .single:
            return
        case .array:
            rendering.close(&output.bytes, UInt8(ascii: "]"), empty: items == 0, depth: depth)
        case .object:
            if !fields.isEmpty {
                fields[fields.count - 1].end = output.bytes.count
                if !sorted { reorder() }
            }
            rendering.close(&output.bytes, UInt8(ascii: "}"), empty: fields.isEmpty, depth: depth)
        }
    }

    private func reorder() {
        // Streamed past this object's start: its bytes were handed over and cannot be rewritten. Only the top
        // level streams, and the report declares its keys in order, so this is never reached there; anything
        // else that got here would keep its order (still valid JSON).
        guard output.flushed == flushedAtStart else { return }
        // Compared by their first eight bytes as one integer, the rest only on a tie.
        let prefixes = fields.map { field -> UInt64 in
            var prefix: UInt64 = 0
            var taken = 0
            for byte in field.key.utf8.prefix(8) {
                prefix = prefix << 8 | UInt64(byte)
                taken += 1
            }
            return prefix << (8 * UInt64(8 - taken))
        }
        let order = fields.indices.sorted { left, right in
            if prefixes[left] != prefixes[right] { return prefixes[left] < prefixes[right] }
            let (a, b) = (fields[left].key, fields[right].key)
            return a == b ? left < right : a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        var rebuilt = ByteBuffer(capacity: output.bytes.count - start)
        rebuilt.append(UInt8(ascii: "{"))
        var written = 0
        for (position, index) in order.enumerated() {
            if position + 1 < order.count && fields[order[position + 1]].key == fields[index].key { continue }
            rendering.separate(&rebuilt, first: written == 0, depth: depth)
            written += 1
            rebuilt.append(output.bytes, fields[index].start..<fields[index].end)
        }
        output.bytes.removeSuffix(from: start)
        output.bytes.append(rebuilt, 0..<rebuilt.count)
    }
}

struct ObjectContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: RenderingEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func put(text: String, _ key: Key) {
        encoder.beginField(key.stringValue)
        encoder.output.bytes.append(utf8: text)
    }

    mutating func encodeNil(forKey key: Key) throws { put(text: "null", key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(text: value ? "true" : "false", key) }
    mutating func encode(_ value: String, forKey key: Key) throws {
        encoder.beginField(key.stringValue)
        encoder.rendering.appendQuoted(value, to: &encoder.output.bytes)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        encoder.beginField(key.stringValue)
        try encoder.rendering.appendDouble(value, to: &encoder.output.bytes)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(text: String(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        encoder.beginField(key.stringValue)
        try encoder.rendering.render(value, depth: encoder.depth + 1, into: encoder.output)
    }

    // Not used by the report's types: an empty object or array stands in rather than a trap.
    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        put(text: "{}", key)
        return KeyedEncodingContainer(
            ObjectContainer<NestedKey>(encoder: RenderingEncoder(rendering: encoder.rendering, depth: encoder.depth + 1, output: JSONOutput())))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        put(text: "[]", key)
        return ArrayContainer(encoder: RenderingEncoder(rendering: encoder.rendering, depth: encoder.depth + 1, output: JSONOutput()))
    }

    mutating func superEncoder() -> any Encoder { encoder }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
}

struct ArrayContainer: UnkeyedEncodingContainer {
    let encoder: RenderingEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.items }

    private func add(text: String) {
        encoder.beginItem()
        encoder.output.bytes.append(utf8: text)
    }

    mutating func encodeNil() throws { add(text: "null") }
    mutating func encode(_ value: Bool) throws { add(text: value ? "true" : "false") }
    mutating func encode(_ value: String) throws {
        encoder.beginItem()
        encoder.rendering.appendQuoted(value, to: &encoder.output.bytes)
    }
    mutating func encode(_ value: Double) throws {
        encoder.beginItem()
        try encoder.rendering.appendDouble(value, to: &encoder.output.bytes)
    }
    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode(_ value: Int) throws { add(text: String(value)) }
    mutating func encode(_ value: Int8) throws { add(text: String(value)) }
    mutating func encode(_ value: Int16) throws { add(text: String(value)) }
    mutating func encode(_ value: Int32) throws { add(text: String(value)) }
    mutating func encode(_ value: Int64) throws { add(text: String(value)) }
    mutating func encode(_ value: UInt) throws { add(text: String(value)) }
    mutating func encode(_ value: UInt8) throws { add(text: String(value)) }
    mutating func encode(_ value: UInt16) throws { add(text: String(value)) }
    mutating func encode(_ value: UInt32) throws { add(text: String(value)) }
    mutating func encode(_ value: UInt64) throws { add(text: String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.beginItem()
        try encoder.rendering.render(value, depth: encoder.depth + 1, into: encoder.output)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        add(text: "{}")
        return KeyedEncodingContainer(
            ObjectContainer<NestedKey>(encoder: RenderingEncoder(rendering: encoder.rendering, depth: encoder.depth + 1, output: JSONOutput())))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        add(text: "[]")
        return ArrayContainer(encoder: RenderingEncoder(rendering: encoder.rendering, depth: encoder.depth + 1, output: JSONOutput()))
    }

    mutating func superEncoder() -> any Encoder { encoder }
}

struct SingleContainer: SingleValueEncodingContainer {
    let encoder: RenderingEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(text: String) {
        encoder.markSingle()
        encoder.output.bytes.append(utf8: text)
    }

    mutating func encodeNil() throws { set(text: "null") }
    mutating func encode(_ value: Bool) throws { set(text: value ? "true" : "false") }
    mutating func encode(_ value: String) throws {
        encoder.markSingle()
        encoder.rendering.appendQuoted(value, to: &encoder.output.bytes)
    }
    mutating func encode(_ value: Double) throws {
        encoder.markSingle()
        try encoder.rendering.appendDouble(value, to: &encoder.output.bytes)
    }
    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode(_ value: Int) throws { set(text: String(value)) }
    mutating func encode(_ value: Int8) throws { set(text: String(value)) }
    mutating func encode(_ value: Int16) throws { set(text: String(value)) }
    mutating func encode(_ value: Int32) throws { set(text: String(value)) }
    mutating func encode(_ value: Int64) throws { set(text: String(value)) }
    mutating func encode(_ value: UInt) throws { set(text: String(value)) }
    mutating func encode(_ value: UInt8) throws { set(text: String(value)) }
    mutating func encode(_ value: UInt16) throws { set(text: String(value)) }
    mutating func encode(_ value: UInt32) throws { set(text: String(value)) }
    mutating func encode(_ value: UInt64) throws { set(text: String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.markSingle()
        try encoder.rendering.render(value, depth: encoder.depth, into: encoder.output)
    }
}
