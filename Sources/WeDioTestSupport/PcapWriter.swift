import WeDioBasics

/// Writes classic pcap files in memory (little-endian, microsecond or nanosecond magic), for synthetic
/// captures of what real stacks do not produce.
public struct PcapWriter {
    public private(set) var bytes: [UInt8] = []

    public init(linkType: Int32, snapshotLength: UInt32 = 262_144, nanosecond: Bool = false) {
        self.nanosecond = nanosecond
        append32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        append16(2)
        append16(4)
        append32(0)  // thiszone
        append32(0)  // sigfigs
        append32(snapshotLength)
        append32(UInt32(bitPattern: linkType))
    }

    private let nanosecond: Bool

    /// Adds one record. `wireLength` defaults to the data length; give more to simulate a snaplen cut.
    public mutating func add(_ data: [UInt8], seconds: UInt32 = 1_700_000_000, fraction: UInt32 = 0, wireLength: Int? = nil) {
        append32(seconds)
        append32(fraction)
        append32(UInt32(data.count))
        append32(UInt32(wireLength ?? data.count))
        bytes.append(contentsOf: data)
    }

    private mutating func append16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    private mutating func append32(_ value: UInt32) {
        append16(UInt16(truncatingIfNeeded: value))
        append16(UInt16(truncatingIfNeeded: value >> 16))
    }
}
