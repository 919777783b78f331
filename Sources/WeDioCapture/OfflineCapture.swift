import CGzipStream
import CPcap
import Glibc
import WeDioBasics

/// A capture file (pcap or pcapng) read through libpcap at nanosecond precision.
public final class OfflineCapture {
    public let path: String
    let handle: PcapHandle
    private let file: UnsafeMutablePointer<FILE>?
    public let linkType: LinkType
    /// File size in bytes (for progress), 0 when unknown.
    public let fileSize: Int64
    private(set) var nanosecondPrecision: Bool
    private var memoryBuffer: UnsafeMutableRawPointer?
    /// The file mapped into memory, when it is a regular file (see MappedFile).
    private let mapping: MappedFile?
    /// A pcapng file read block by block (PcapngReader): interfaces of different link types, or one interface
    /// asked for. nil: libpcap reads it.
    private var pcapng: PcapngReader?
    /// Read only this interface's packets (pcapng), numbering packets as in the whole file.
    public let interface: Int?
    /// BPF programs per interface for the block reader (libpcap filters one link type per handle).
    private var interfaceFilters: [Int: BPFProgram] = [:]
    private let filterExpression: String?

    /// The pcapng interfaces, comments and Decryption Secrets Blocks seen so far (all of them after forEach).
    public var interfaces: [CaptureInterfaceInfo] { pcapng?.interfaces ?? [] }
    public var comments: [String] { pcapng?.comments ?? [] }
    public var decryptionSecretsBlocks: Int { pcapng?.decryptionSecretsBlocks ?? 0 }
    /// True when packets are decoded with their interface's link type (see CaptureRecord.linkType).
    public var readsInterfaces: Bool { pcapng != nil }

    /// Opens a file. Errors name the file and say why (missing, unreadable, not a capture, a directory).
    /// A regular file is mapped into memory and handed to libpcap as a memory stream (`mapped: false` reads
    /// it with read(2) as `pcap_open_offline` does: benchmarks compare the two).
    public init(path: String, filter: String? = nil, mapped: Bool = true, interface: Int? = nil) throws(CaptureError) {
        self.path = path
        self.interface = interface
        filterExpression = filter
        var info = stat()
        let known = stat(path, &info) == 0
        if known && (info.st_mode & S_IFMT) == S_IFDIR {
            throw CaptureError(code: .cannotOpen, input: path, detail: "is a directory, not a capture file")
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        let pointer: OpaquePointer?
        // gzip (as tshark and dumpcap write .pcap.gz): decompressed as read; no progress (sizes differ).
        let compressed = known && (info.st_mode & S_IFMT) == S_IFREG && wedio_is_gzip(path) == 1
        fileSize = known && !compressed ? Int64(info.st_size) : 0
        if compressed {
            mapping = nil
            guard let stream = wedio_gzip_open(path) else {
                throw CaptureError(code: .cannotOpen, input: path, detail: "cannot open the gzip stream")
            }
            pointer = pcap_fopen_offline_with_tstamp_precision(stream, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
            if pointer == nil { fclose(stream) }
        } else if mapped, let mapping = MappedFile(path: path), let stream = mapping.openStream() {
            self.mapping = mapping
            pointer = pcap_fopen_offline_with_tstamp_precision(stream, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
            if pointer == nil { fclose(stream) }
        } else {
            mapping = nil
            pointer = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        }
        guard let pointer else {
            throw CaptureError(code: .cannotOpen, input: path, detail: Self.explain(cString(errorBuffer)))
        }
        handle = PcapHandle(pointer)
        file = pcap_file(pointer)
        nanosecondPrecision = pcap_get_tstamp_precision(pointer) == PCAP_TSTAMP_PRECISION_NANO
        var firstLink = handle.linkType
        if let mapping, let (reader, link) = try Self.blockReader(
            UnsafeRawPointer(mapping.base), size: mapping.size, interface: interface, path: path)
        {
            pcapng = reader
            firstLink = link
        } else if interface != nil, interface != 0 {
            throw CaptureError(code: .cannotOpen, input: path, detail: "is not a pcapng file with several interfaces")
        }
        linkType = firstLink
        if let filter, pcapng == nil { try handle.setFilter(filter, input: path) }
        if let filter, pcapng != nil, let problem = BPF.problem(with: filter, linkType: handle.dataLink) {
            throw CaptureError(code: .badFilter, input: path, detail: "bad filter '\(filter)': \(problem)")
        }
    }

    /// Opens a capture held in memory (fuzzing, tests) through `fmemopen`.
    public init(bytes: [UInt8], name: String = "<memory>") throws(CaptureError) {
        path = name
        interface = nil
        filterExpression = nil
        fileSize = Int64(bytes.count)
        mapping = nil
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 8)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) }
        }
        memoryBuffer = buffer
        guard let stream = fmemopen(buffer, bytes.count, "rb") else {
            buffer.deallocate()
            throw CaptureError(code: .cannotOpen, input: name, detail: "cannot open memory stream")
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard
            let pointer = pcap_fopen_offline_with_tstamp_precision(
                stream, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        else {
            fclose(stream)
            buffer.deallocate()
            throw CaptureError(code: .cannotOpen, input: name, detail: Self.explain(cString(errorBuffer)))
        }
        handle = PcapHandle(pointer)
        file = pcap_file(pointer)
        nanosecondPrecision = pcap_get_tstamp_precision(pointer) == PCAP_TSTAMP_PRECISION_NANO
        // As for files (and fuzzed so).
        var firstLink = handle.linkType
        if let (reader, link) = try Self.blockReader(UnsafeRawPointer(buffer), size: bytes.count, interface: nil, path: name) {
            pcapng = reader
            firstLink = link
        }
        linkType = firstLink
    }

    /// The block reader for a pcapng with interfaces of several link types (libpcap stops at the first packet
    /// of the second), or with one interface asked for, and the link type to report first; nil: libpcap reads it.
    private static func blockReader(
        _ base: UnsafeRawPointer, size: Int, interface: Int?, path: String
    ) throws(CaptureError) -> (PcapngReader, LinkType)? {
        guard PcapngReader.isPcapng(base, size: size) else { return nil }
        let types = PcapngReader.linkTypes(base: base, size: size, packetBlocks: interface == nil ? 4_096 : Int.max)
        guard Set(types).count > 1 || interface != nil else { return nil }
        if let interface, !types.indices.contains(interface) {
            throw CaptureError(code: .cannotOpen, input: path, detail: "has no interface \(interface) (it has \(types.count))")
        }
        guard let first = types.indices.contains(interface ?? 0) ? types[interface ?? 0] : nil else { return nil }
        return (PcapngReader(base: base, size: size), first)
    }

    deinit {
        // The pcap handle closes the FILE; the memory behind an fmemopen stream is ours.
        memoryBuffer?.deallocate()
    }

    /// Bytes of the file consumed so far (for the progress line).
    public var position: Int64 {
        guard let file, fileSize > 0 else { return 0 }
        return Int64(ftello(file))
    }

    /// Reads every packet, calling `body` with its record and bytes. Returns the number of packets.
    /// A read error part-way throws after the packets before it were delivered.
    @discardableResult
    public func forEach(_ body: (CaptureRecord, borrowing Span<UInt8>) -> Void) throws(CaptureError) -> Int {
        if pcapng != nil { return try forEachBlock(body) }
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var number = 0
        while true {
            let status = pcap_next_ex(handle.pointer, &header, &data)
            switch status {
            case 1:
                guard let header, let data else { continue }
                number += 1
                let captured = Int(header.pointee.caplen)
                let record = CaptureRecord(
                    number: number, time: captureTime(header, nanoseconds: nanosecondPrecision),
                    wireLength: max(Int(header.pointee.len), captured))
                let buffer = UnsafeBufferPointer(start: data, count: captured)
                body(record, buffer.span)
                if let mapping, number & 0xFFF == 0, let file { mapping.dropPages(before: Int(ftello(file))) }
            case PCAP_ERROR_BREAK:
                return number
            default:
                let message = handle.lastError
                if message.contains("different from the type of the first interface") {
                    throw CaptureError(
                        code: .mixedLinkTypes, input: path, packet: number,
                        detail: "this pcapng file has interfaces with different link types; WeDio reads such files "
                            + "block by block only when they are not compressed (or not a pipe): decompress it first (gunzip), "
                            + "or split it per interface, e.g. `tshark -r FILE -Y 'frame.interface_id == 0' -w part0.pcapng`, "
                            + "and analyse the parts together")
                }
                throw CaptureError(code: .readFailed, input: path, packet: number, detail: Self.explain(message))
            }
        }
    }

    /// What a capture file is, without analysing it: link type, snapshot length, first and last packet time
    /// (one bare libpcap pass, about a tenth of a second per 100 MB). Used to tell rotated files apart.
    public struct Outline: Sendable, Hashable {
        public var linkType: LinkType
        public var snapshotLength: Int
        public var firstTime: CaptureTime?
        public var lastTime: CaptureTime?
        public var packets: Int
    }

    /// The outline of a file; nil when it cannot be read as a capture at all.
    public static func outline(path: String) -> Outline? {
        guard let capture = try? OfflineCapture(path: path) else { return nil }
        var outline = Outline(
            linkType: capture.linkType, snapshotLength: capture.handle.snapshotLength, firstTime: nil, lastTime: nil, packets: 0)
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while pcap_next_ex(capture.handle.pointer, &header, &data) == 1 {
            guard let header else { continue }
            let time = captureTime(header, nanoseconds: capture.nanosecondPrecision)
            if outline.firstTime == nil { outline.firstTime = time }
            outline.lastTime = max(outline.lastTime ?? time, time)
            outline.packets += 1
        }
        return outline
    }

    /// The interfaces a pcapng file describes (names, link types), read from its blocks; empty for pcap files
    /// and anything unreadable.
    public static func pcapngInterfaces(path: String) -> [CaptureInterfaceInfo] {
        guard let mapping = MappedFile(path: path), PcapngReader.isPcapng(UnsafeRawPointer(mapping.base), size: mapping.size)
        else { return [] }
        var reader = PcapngReader(base: UnsafeRawPointer(mapping.base), size: mapping.size)
        while (try? reader.nextBlock()) != nil {}
        return reader.interfaces
    }

    /// True when the file starts like a capture (pcap in either byte order and resolution, pcapng, or gzip).
    public static func looksLikeCapture(path: String) -> Bool {
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var magic = [UInt8](repeating: 0, count: 4)
        guard fread(&magic, 1, 4, file) == 4 else { return false }
        let known: [[UInt8]] = [
            [0xD4, 0xC3, 0xB2, 0xA1], [0xA1, 0xB2, 0xC3, 0xD4], [0x4D, 0x3C, 0xB2, 0xA1], [0xA1, 0xB2, 0x3C, 0x4D],
            [0x0A, 0x0D, 0x0D, 0x0A],
        ]
        return known.contains(magic) || (magic[0] == 0x1F && magic[1] == 0x8B)
    }

    /// The block reader's loop: each packet with its interface's link type; a filter per interface.
    private func forEachBlock(_ body: (CaptureRecord, borrowing Span<UInt8>) -> Void) throws(CaptureError) -> Int {
        var number = 0
        while true {
            let next: PcapngReader.Packet?
            do throws(PcapngReader.Damage) {
                next = try pcapng?.nextPacket()
            } catch {
                throw CaptureError(code: .readFailed, input: path, packet: number, detail: "damaged pcapng: \(error.detail)")
            }
            guard let packet = next else { return number }
            number += 1
            if let interface, packet.interface != interface { continue }
            guard let info = pcapng?.interfaces[packet.interface] else { continue }
            if let filterExpression, !passes(filterExpression, packet, info) { continue }
            let record = CaptureRecord(
                number: number, time: packet.time, wireLength: packet.wireLength, linkType: info.linkType,
                interface: packet.interface)
            let bytes = packet.data.assumingMemoryBound(to: UInt8.self)
            body(record, bytes.span)
            if let mapping, number & 0xFFF == 0, let start = packet.data.baseAddress {
                mapping.dropPages(before: start - UnsafeRawPointer(mapping.base))
            }
        }
    }

    private func passes(_ expression: String, _ packet: PcapngReader.Packet, _ info: CaptureInterfaceInfo) -> Bool {
        if interfaceFilters[packet.interface] == nil {
            interfaceFilters[packet.interface] = BPFProgram(expression, linkType: info.linkType)
        }
        guard let program = interfaceFilters[packet.interface] else { return true }
        return program.matches(packet.data, wireLength: packet.wireLength)
    }

    static func explain(_ message: String) -> String {
        if message.contains("unknown file format") {
            return "not a pcap or pcapng capture (unknown file format)"
        }
        if message.contains("truncated dump file") || message.contains("truncated") {
            return "the file is truncated (\(message))"
        }
        return message
    }
}
