import CPcap
import Glibc
import WeDioBasics

/// One interface of a pcapng file (Interface Description Block, and its Interface Statistics Block).
public struct CaptureInterfaceInfo: Sendable, Hashable {
    public var index: Int
    public var linkType: LinkType
    public var snapshotLength: Int
    public var name: String?
    public var description: String?
    /// Ticks per second of its timestamps (if_tsresol; 1 000 000 by default).
    public var ticksPerSecond: UInt64 = 1_000_000
    public var packets = 0
    /// From its last Interface Statistics Block: packets the interface received and dropped.
    public var received: UInt64?
    public var droppedByInterface: UInt64?
    public var droppedByOS: UInt64?
}

/// A pcapng file read block by block (draft-ietf-opsawg-pcapng) where libpcap cannot: interfaces of different
/// link types in one file (a Windows or macOS capture on "any": Ethernet beside raw IP or loopback), each
/// packet decoded with its own interface's link type and timestamp resolution. Also what libpcap does not
/// hand over: interface names and descriptions, Interface Statistics (drops), comments, Decryption Secrets
/// Blocks (counted). Every length is checked against the block and the file: a damaged block ends the read
/// with the packet number, as libpcap's errors do.
struct PcapngReader {
    private let base: UnsafeRawPointer
    private let size: Int
    private var offset = 0
    private var bigEndian = false
    /// Interfaces of the current section (a new Section Header Block starts a new list).
    private var sectionInterfaces: [Int] = []
    private(set) var interfaces: [CaptureInterfaceInfo] = []
    private(set) var comments: [String] = []
    private(set) var decryptionSecretsBlocks = 0
    static let commentsKept = 16

    struct Packet {
        var interface: Int
        var time: CaptureTime
        var wireLength: Int
        var data: UnsafeRawBufferPointer
    }

    struct Damage: Error {
        var detail: String
    }

    init(base: UnsafeRawPointer, size: Int) {
        self.base = base
        self.size = size
    }

    /// True when the file starts with a Section Header Block.
    static func isPcapng(_ base: UnsafeRawPointer, size: Int) -> Bool {
        size >= 12 && base.loadUnaligned(as: UInt32.self) == 0x0A0D_0D0A
    }

    /// The link types of the file's interfaces, from a walk over the block headers. Interfaces are described
    /// before their packets, nearly always at the start: the walk stops after `packetBlocks` packets, so a
    /// large single-interface file is not read twice (an interface of another type described later still
    /// makes libpcap stop, with the workaround in its error).
    static func linkTypes(base: UnsafeRawPointer, size: Int, packetBlocks: Int = 4_096) -> [LinkType] {
        var reader = PcapngReader(base: base, size: size)
        var types: [LinkType] = []
        var packets = 0
        while let block = try? reader.nextBlock() {
            if block.type == 1, let interface = reader.interfaces.last, reader.interfaces.count > types.count {
                types.append(interface.linkType)
            }
            if block.type == 6 || block.type == 3 || block.type == 2 {
                packets += 1
                if packets >= packetBlocks { break }
            }
        }
        return types
    }

    private func u16(_ at: Int) -> UInt16? {
        guard at >= 0, at + 2 <= size else { return nil }
        let value = base.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return bigEndian ? value.byteSwapped : value
    }

    private func u32(_ at: Int) -> UInt32? {
        guard at >= 0, at + 4 <= size else { return nil }
        let value = base.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return bigEndian ? value.byteSwapped : value
    }

    private func u64(_ at: Int) -> UInt64? {
        guard let first = u32(at), let second = u32(at + 4) else { return nil }
        return bigEndian ? UInt64(first) << 32 | UInt64(second) : UInt64(second) << 32 | UInt64(first)
    }

    private func text(_ at: Int, _ length: Int) -> String {
        guard at >= 0, length >= 0, at + length <= size else { return "" }
        let bytes = UnsafeRawBufferPointer(start: base + at, count: length)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Options from `start` to `end`: (code, value offset, value length), stopping at opt_endofopt.
    private func options(_ start: Int, _ end: Int) -> [(UInt16, Int, Int)] {
        var found: [(UInt16, Int, Int)] = []
        var at = start
        while at + 4 <= end, found.count < 256 {
            guard let code = u16(at), let length = u16(at + 2) else { break }
            if code == 0 { break }
            let valueEnd = at + 4 + Int(length)
            guard valueEnd <= end else { break }
            found.append((code, at + 4, Int(length)))
            at += 4 + (Int(length) + 3) / 4 * 4
        }
        return found
    }

    private mutating func keepComments(_ options: [(UInt16, Int, Int)]) {
        for (code, at, length) in options where code == 1 && comments.count < Self.commentsKept {
            comments.append(text(at, length))
        }
    }

    /// The next block's type and body range; reads interfaces, statistics and comments on the way.
    mutating func nextBlock() throws(Damage) -> (type: UInt32, body: Range<Int>)? {
        guard offset + 12 <= size else {
            if offset < size { throw Damage(detail: "\(size - offset) bytes after the last block") }
            return nil
        }
        let start = offset
        let rawType = base.loadUnaligned(fromByteOffset: start, as: UInt32.self)
        if rawType == 0x0A0D_0D0A {
            // Section Header Block: its byte-order magic says how to read everything up to the next one.
            let magic = base.loadUnaligned(fromByteOffset: start + 8, as: UInt32.self)
            switch magic {
            case 0x1A2B_3C4D: bigEndian = false
            case 0x4D3C_2B1A: bigEndian = true
            default: throw Damage(detail: "a section header with an unknown byte-order magic")
            }
            sectionInterfaces = []
        }
        guard let type = u32(start), let length32 = u32(start + 4) else { return nil }
        let length = Int(length32)
        guard length >= 12, length % 4 == 0, start + length <= size else {
            throw Damage(detail: "a block of \(length) bytes at offset \(start) runs past the end of the file (\(size) bytes)")
        }
        guard u32(start + length - 4) == length32 else {
            throw Damage(detail: "the block at offset \(start) does not end with its length")
        }
        offset = start + length
        let body = (start + 8)..<(start + length - 4)
        switch type {
        case 0x0A0D_0D0A:
            if body.count >= 16 { keepComments(options(body.lowerBound + 16, body.upperBound)) }
        case 1:  // Interface Description Block
            guard body.count >= 8, let link = u16(body.lowerBound), let snap = u32(body.lowerBound + 4) else {
                throw Damage(detail: "a short interface description at offset \(start)")
            }
            var interface = CaptureInterfaceInfo(
                index: interfaces.count, linkType: LinkTypeMapping.linkType(dlt: Int32(link)), snapshotLength: Int(snap))
            let found = options(body.lowerBound + 8, body.upperBound)
            for (code, at, length) in found {
                switch code {
                case 2: interface.name = text(at, length)
                case 3: interface.description = text(at, length)
                case 9 where length >= 1:
                    let resolution = base.load(fromByteOffset: at, as: UInt8.self)
                    let exponent = UInt64(resolution & 0x7F)
                    if resolution & 0x80 == 0 {
                        interface.ticksPerSecond = exponent <= 19 ? (0..<exponent).reduce(1) { value, _ in value * 10 } : 0
                    } else {
                        interface.ticksPerSecond = exponent < 64 ? 1 << exponent : 0
                    }
                default: break
                }
            }
            keepComments(found)
            sectionInterfaces.append(interfaces.count)
            interfaces.append(interface)
        case 5:  // Interface Statistics Block
            guard body.count >= 12, let id = u32(body.lowerBound), Int(id) < sectionInterfaces.count else { break }
            let index = sectionInterfaces[Int(id)]
            for (code, at, length) in options(body.lowerBound + 12, body.upperBound) where length == 8 {
                switch code {
                case 4: interfaces[index].received = u64(at)
                case 5: interfaces[index].droppedByInterface = u64(at)
                case 7: interfaces[index].droppedByOS = u64(at)
                default: break
                }
            }
        case 0x0A:  // Decryption Secrets Block: kept for a later TLS feature, counted
            decryptionSecretsBlocks += 1
        default:
            break
        }
        return (type, body)
    }

    /// The next packet (Enhanced, Simple or the obsolete Packet Block), nil at the end of the file.
    mutating func nextPacket() throws(Damage) -> Packet? {
        while let block = try nextBlock() {
            let body = block.body
            switch block.type {
            case 6, 2:  // Enhanced Packet Block; obsolete Packet Block (16-bit interface id, 16-bit drops)
                guard body.count >= 20, let tsHigh = u32(body.lowerBound + 4), let tsLow = u32(body.lowerBound + 8),
                    let captured = u32(body.lowerBound + 12), let original = u32(body.lowerBound + 16)
                else { throw Damage(detail: "a short packet block") }
                let rawInterface = block.type == 6 ? u32(body.lowerBound).map(Int.init) : u16(body.lowerBound).map(Int.init)
                guard let rawInterface, rawInterface < sectionInterfaces.count else {
                    throw Damage(detail: "a packet for interface \(rawInterface ?? -1), which no interface block described")
                }
                let dataStart = body.lowerBound + 20
                guard Int(captured) <= body.upperBound - dataStart else {
                    throw Damage(detail: "a packet of \(captured) captured bytes in a block that holds \(body.upperBound - dataStart)")
                }
                let interface = sectionInterfaces[rawInterface]
                interfaces[interface].packets += 1
                keepComments(options(dataStart + (Int(captured) + 3) / 4 * 4, body.upperBound))
                let ticks = UInt64(tsHigh) << 32 | UInt64(tsLow)
                return Packet(
                    interface: interface, time: time(ticks, perSecond: interfaces[interface].ticksPerSecond),
                    wireLength: max(Int(original), Int(captured)),
                    data: UnsafeRawBufferPointer(start: base + dataStart, count: Int(captured)))
            case 3:  // Simple Packet Block: interface 0, no timestamp
                guard body.count >= 4, let original = u32(body.lowerBound), let first = sectionInterfaces.first else {
                    throw Damage(detail: "a simple packet block without an interface")
                }
                let snap = interfaces[first].snapshotLength
                let captured = min(Int(original), body.count - 4, snap > 0 ? snap : Int.max)
                interfaces[first].packets += 1
                return Packet(
                    interface: first, time: CaptureTime(nanoseconds: 0), wireLength: Int(original),
                    data: UnsafeRawBufferPointer(start: base + body.lowerBound + 4, count: max(0, captured)))
            default:
                continue
            }
        }
        return nil
    }

    /// Timestamp ticks at the interface's resolution → nanoseconds since the epoch.
    private func time(_ ticks: UInt64, perSecond: UInt64) -> CaptureTime {
        guard perSecond > 0 else { return CaptureTime(nanoseconds: 0) }
        let nanoseconds = UInt128(ticks) * 1_000_000_000 / UInt128(perSecond)
        return CaptureTime(nanoseconds: Int64(clamping: nanoseconds))
    }
}
