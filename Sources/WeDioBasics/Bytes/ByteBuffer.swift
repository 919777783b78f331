/// A growable run of bytes written through a pointer: the report writers' output. Every write checks its
/// room once (`reserve`), then stores with no further check; appending to an `[UInt8]` a byte at a time checked
/// the array's uniqueness and capacity for each byte, about ten instructions a byte, most of writing a report.
/// Not copyable: one owner at a time, the memory freed with it.
@safe public struct ByteBuffer: ~Copyable {
    /// Nil only while `capacity` is 0: an empty buffer allocates nothing (a writer borrows the document's
    /// buffer by swapping an empty one for it). Written through only after `reserve`, which makes it non-nil.
    @usableFromInline var base: UnsafeMutablePointer<UInt8>?
    @usableFromInline var capacity = 0
    @usableFromInline var written = 0
    public var count: Int { written }

    /// An empty buffer, nothing allocated.
    public init() {}

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        unsafe base = .allocate(capacity: self.capacity)
    }

    deinit { unsafe base?.deallocate() }

    /// A copy of the bytes written.
    public var array: [UInt8] {
        guard let base = unsafe base, written > 0 else { return [] }
        return unsafe Array(UnsafeBufferPointer(start: base, count: written))
    }

    /// The bytes written, as UTF-8 text (one copy, into the String).
    public var text: String {
        guard let base = unsafe base, written > 0 else { return "" }
        return unsafe String(decoding: UnsafeBufferPointer(start: base, count: written), as: UTF8.self)
    }

    /// Appends `range` of `other`'s bytes (clamped to them).
    public mutating func append(_ other: borrowing ByteBuffer, _ range: Range<Int>) {
        let lower = min(max(0, range.lowerBound), other.count)
        let upper = min(max(lower, range.upperBound), other.count)
        guard upper > lower, let source = unsafe other.base else { return }
        reserve(upper - lower)
        unsafe (base.unsafelyUnwrapped + written).update(from: source + lower, count: upper - lower)
        written &+= upper - lower
    }

    /// Room for `extra` more bytes.
    @inlinable @inline(__always)
    public mutating func reserve(_ extra: Int) {
        if extra > capacity &- count { grow(extra) }
    }

    @usableFromInline @inline(never)
    mutating func grow(_ extra: Int) {
        let needed = count + max(0, extra)
        let grown = max(needed, capacity * 2)
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        if let base = unsafe base {
            unsafe larger.update(from: base, count: count)
            unsafe base.deallocate()
        }
        unsafe base = larger
        capacity = grown
    }

    @inlinable
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        unsafe base.unsafelyUnwrapped[count] = byte
        written &+= 1
    }

    @inlinable
    public mutating func append(_ bytes: Span<UInt8>) {
        let length = bytes.count
        guard length > 0 else { return }
        reserve(length)
        unsafe bytes.withUnsafeBufferPointer { source in
            guard let start = source.baseAddress else { return }
            let target = unsafe base.unsafelyUnwrapped + written
            // A field name or a short value: a loop beats a call to memcpy.
            if length <= 16 {
                for index in 0..<length { unsafe target[index] = start[index] }
            } else {
                unsafe target.update(from: start, count: length)
            }
        }
        written &+= length
    }

    /// A string's UTF-8 as it is.
    @inlinable
    public mutating func append(utf8 text: String) {
        append(text.utf8.span)
    }

    /// `count` spaces (a pretty-printed line's indentation), eight at a time: room for a whole last word
    /// is made, so the stores never pass the end.
    @inlinable
    public mutating func appendSpaces(_ count: Int) {
        guard count > 0 else { return }
        reserve(count &+ 8)
        let target = unsafe UnsafeMutableRawPointer(base.unsafelyUnwrapped + written)
        var offset = 0
        while offset < count {
            unsafe target.storeBytes(of: 0x2020_2020_2020_2020 as UInt64, toByteOffset: offset, as: UInt64.self)
            offset &+= 8
        }
        written &+= count
    }

    /// A run of small writes with one room check: `body` writes at most `maximum` bytes from the pointer it
    /// is given and returns how many it wrote (clamped to `maximum`).
    @inlinable
    public mutating func append(atMost maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        guard maximum > 0 else { return }
        reserve(maximum)
        let wrote = unsafe body(base.unsafelyUnwrapped + written)
        written &+= min(max(0, wrote), maximum)
    }

    /// Drops everything from `start` on (a rewritten object goes back in).
    public mutating func removeSuffix(from start: Int) {
        written = min(written, max(0, start))
    }

    public mutating func removeAll() {
        written = 0
    }

    // MARK: Numbers

    /// `value` in decimal, as `String(value)` spells it.
    @inlinable
    public mutating func appendDecimal(_ value: UInt64) {
        appendDigits(value, count: Self.decimalDigitCount(value))
    }

    /// How many decimal digits `value` has (1 for 0).
    @inlinable
    public static func decimalDigitCount(_ value: UInt64) -> Int {
        var digits = 1
        var limit: UInt64 = 10
        while digits < 20, value >= limit {
            digits += 1
            limit = limit &* 10
        }
        return digits
    }

    /// `value` in decimal with a leading "-" when negative.
    @inlinable
    public mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude)
    }

    /// Any integer in decimal (sign included), as `String(value)` spells it.
    @inlinable
    public mutating func appendDecimal<Number: BinaryInteger>(_ value: Number) {
        if let small = UInt64(exactly: value) {
            appendDecimal(small)
        } else if let signed = Int64(exactly: value) {
            appendDecimal(signed)
        } else {
            append(utf8: String(value))
        }
    }

    /// `value` in exactly `width` decimal digits, zero-padded (digits above `width` are dropped: the caller
    /// keeps it below 10^width).
    @inlinable
    public mutating func appendPadded(_ value: Int, width: Int) {
        guard width > 0 else { return }
        appendDigits(UInt64(value.magnitude), count: width)
    }

    /// The lowest `count` decimal digits of `value`, written from the last one back (no reversing after).
    @inlinable
    mutating func appendDigits(_ value: UInt64, count digits: Int) {
        reserve(digits)
        unsafe Self.writeDigits(value, count: digits, to: base.unsafelyUnwrapped + written)
        written &+= digits
    }

    /// The lowest `count` decimal digits of `value` into `target[0..<count]`, from the last one back: what
    /// `appendDigits` writes, for a caller writing several parts inside one `append(atMost:)`.
    @inlinable
    public static func writeDigits(_ value: UInt64, count digits: Int, to target: UnsafeMutablePointer<UInt8>) {
        var rest = value
        var index = digits
        while index > 0 {
            index &-= 1
            unsafe target[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
    }
}
