import CPcap
import Glibc
import Synchronization
import WeDioBasics

/// Asks a running live capture to stop. `@unchecked Sendable` because it holds a `pcap_t` address:
/// `pcap_breakloop` is documented as safe to call from another thread or a signal handler, and the flag is atomic.
public final class CaptureStopToken: @unchecked Sendable {
    private let stopped = Atomic<Bool>(false)
    /// The running handle's address (0 when none): a plain integer so the mutex holds a Sendable value.
    private let handle = Mutex<UInt>(0)

    public init() {}

    public var isStopped: Bool { stopped.load(ordering: .acquiring) }

    public func stop() {
        stopped.store(true, ordering: .releasing)
        handle.withLock { address in
            if let pointer = OpaquePointer(bitPattern: address) { pcap_breakloop(pointer) }
        }
    }

    func attach(_ pointer: OpaquePointer?) {
        let address = pointer.map { UInt(bitPattern: $0) } ?? 0
        handle.withLock { $0 = address }
    }
}

/// Live capture options (`wedio sniff`).
public struct LiveOptions: Sendable {
    public var interface: String
    public var filter: String?
    public var snapshotLength: Int
    /// Stop after this many seconds of capture (wall clock), if set.
    public var duration: Double?
    /// Stop after this many packets, if set.
    public var count: Int?
    /// Also write every packet to this pcap file.
    public var writePath: String?
    /// Start a new file once the current one holds this many bytes, or after this many seconds (`tcpdump -C`
    /// / `-G`): `out.pcap`, then `out.pcap1`, `out.pcap2`, … as tcpdump names them.
    public var rotateBytes: Int?
    public var rotateSeconds: Double?
    /// The kernel's capture buffer (`pcap_set_buffer_size`). What arrives while the reading thread is busy
    /// waits here; when it is full the kernel drops packets and counts them.
    public var bufferBytes: Int
    /// Immediate mode: each packet handed over at once (libpcap then uses a TPACKET_V2 ring of
    /// snaplen-sized slots). Off: TPACKET_V3 blocks packed back to back, handed over when full or after
    /// `timeoutMilliseconds`.
    public var immediate: Bool
    public var timeoutMilliseconds: Int
    /// Tests: seconds to leave packets in the kernel buffer before the first read, so that a small buffer
    /// overflows for certain.
    public var readDelay: Double = 0

    public static let defaultBufferBytes = 64 * 1_024 * 1_024
    public static let defaultTimeoutMilliseconds = 50

    public init(
        interface: String, filter: String? = nil, snapshotLength: Int = 262_144, duration: Double? = nil,
        count: Int? = nil, writePath: String? = nil, bufferBytes: Int = LiveOptions.defaultBufferBytes,
        immediate: Bool = false, timeoutMilliseconds: Int = LiveOptions.defaultTimeoutMilliseconds
    ) {
        self.interface = interface
        self.filter = filter
        self.snapshotLength = snapshotLength
        self.duration = duration
        self.count = count
        self.writePath = writePath
        self.bufferBytes = bufferBytes
        self.immediate = immediate
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// A live interface opened with `pcap_create`/`pcap_activate`.
public final class LiveCapture {
    public let options: LiveOptions
    let handle: PcapHandle
    public let linkType: LinkType
    private var writer: RotatingDumpWriter?
    private var selectableDescriptor: Int32 = -1

    public init(_ options: LiveOptions) throws(CaptureError) {
        self.options = options
        let name = options.interface
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let pointer = pcap_create(name, &errorBuffer) else {
            throw CaptureError(code: .liveCaptureFailed, input: name, detail: cString(errorBuffer))
        }
        let handle = PcapHandle(pointer)
        pcap_set_snaplen(pointer, Int32(clamping: options.snapshotLength))
        pcap_set_promisc(pointer, 1)
        pcap_set_buffer_size(pointer, Int32(clamping: options.bufferBytes))
        pcap_set_immediate_mode(pointer, options.immediate ? 1 : 0)
        pcap_set_timeout(pointer, Int32(clamping: options.timeoutMilliseconds))
        pcap_set_tstamp_precision(pointer, Int32(PCAP_TSTAMP_PRECISION_NANO))
        let status = pcap_activate(pointer)
        if status < 0 {
            let detail = handle.lastError
            switch status {
            case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
                throw CaptureError(
                    code: .permissionDenied, input: name,
                    detail: "no permission to capture (run as root or grant CAP_NET_RAW: "
                        + "`sudo setcap cap_net_raw,cap_net_admin+eip $(which wedio)`)")
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CaptureError(
                    code: .noSuchInterface, input: name, detail: "no such interface (`wedio interfaces` lists them)")
            default:
                throw CaptureError(code: .liveCaptureFailed, input: name, detail: detail)
            }
        }
        self.handle = handle
        linkType = handle.linkType
        // Non-blocking reads plus our own poll(2) with a short timeout: the stop token, --duration and
        // --count are checked at least every 100 ms whatever libpcap's timeout does.
        var nonblockError = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        if pcap_setnonblock(pointer, 1, &nonblockError) != 0 {
            throw CaptureError(code: .liveCaptureFailed, input: name, detail: cString(nonblockError))
        }
        selectableDescriptor = pcap_get_selectable_fd(pointer)
        if let filter = options.filter { try handle.setFilter(filter, input: name) }
        if let path = options.writePath {
            writer = try RotatingDumpWriter(
                handle: handle, path: path, rotateBytes: options.rotateBytes, rotateSeconds: options.rotateSeconds)
        }
    }

    /// The files `--write` produced so far, in order.
    public var writtenFiles: [String] { writer?.written ?? [] }

    /// Calls `body` for each packet until the token stops it, `duration` passes or `count` packets
    /// arrived. `idle` runs whenever no packet was ready (at least every 100 ms while the capture is quiet),
    /// `counters` about once a second with the kernel's counters and the wall-clock time they were read at
    /// (the clock packets are stamped with). This thread should do nothing else: while it is away, packets
    /// wait in the kernel buffer.
    @discardableResult
    public func run(
        stop: CaptureStopToken, idle: () -> Void = {}, counters: (CaptureCounters, CaptureTime) -> Void = { _, _ in },
        _ body: (CaptureRecord, borrowing Span<UInt8>) -> Void
    ) throws(CaptureError) -> Int {
        stop.attach(handle.pointer)
        defer { stop.attach(nil) }
        if options.readDelay > 0 { usleep(UInt32(min(options.readDelay, 60) * 1_000_000)) }
        let startTime = Self.monotonicSeconds()
        var nextCounters = startTime + 1
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var number = 0
        var sinceClockCheck = 0
        defer {
            if let reading = self.counters { counters(reading, Self.wallClock()) }
            writer?.flush()
        }
        while !stop.isStopped {
            if let count = options.count, number >= count { break }
            // The clock is read every 256 packets under load (and whenever the ring is empty).
            sinceClockCheck += 1
            if sinceClockCheck >= 256 {
                sinceClockCheck = 0
                let now = Self.monotonicSeconds()
                if let duration = options.duration, now - startTime >= duration { break }
                if now >= nextCounters {
                    nextCounters = now + 1
                    if let reading = self.counters { counters(reading, Self.wallClock()) }
                }
            }
            let status = pcap_next_ex(handle.pointer, &header, &data)
            switch status {
            case 1:
                guard let header, let data else { continue }
                number += 1
                writer?.write(header, data)
                let captured = Int(header.pointee.caplen)
                let record = CaptureRecord(
                    number: number, time: captureTime(header, nanoseconds: true),
                    wireLength: max(Int(header.pointee.len), captured))
                body(record, UnsafeBufferPointer(start: data, count: captured).span)
            case 0:
                sinceClockCheck = 256
                waitForPackets()  // nothing ready: sleep in poll(2) for at most 100 ms, then check the stop conditions
                idle()
            case PCAP_ERROR_BREAK:
                return number
            default:
                throw CaptureError(code: .liveCaptureFailed, input: options.interface, packet: number, detail: handle.lastError)
            }
        }
        return number
    }

    private func waitForPackets() {
        guard selectableDescriptor >= 0 else {
            usleep(10_000)
            return
        }
        var descriptor = pollfd(fd: selectableDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, 100)
    }

    /// The kernel's counters so far, when the platform gives them.
    public var counters: CaptureCounters? {
        var stats = pcap_stat()
        guard pcap_stats(handle.pointer, &stats) == 0 else { return nil }
        return CaptureCounters(
            received: Int(stats.ps_recv), droppedByKernel: Int(stats.ps_drop), droppedByInterface: Int(stats.ps_ifdrop))
    }

    public static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Now on the clock libpcap stamps packets with.
    public static func wallClock() -> CaptureTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return CaptureTime(seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
    }
}

/// `--write`: a pcap file, rotated by size or time the way `tcpdump -C`/`-G` does (`out.pcap`, `out.pcap1`, …).
final class RotatingDumpWriter {
    private let handle: PcapHandle
    private let path: String
    private let rotateBytes: Int?
    private let rotateSeconds: Double?
    private var dumper: OpaquePointer
    private var bytes = 0
    private var opened: Double
    private(set) var written: [String]

    init(handle: PcapHandle, path: String, rotateBytes: Int?, rotateSeconds: Double?) throws(CaptureError) {
        self.handle = handle
        self.path = path
        self.rotateBytes = rotateBytes
        self.rotateSeconds = rotateSeconds
        guard let dumper = pcap_dump_open(handle.pointer, path) else {
            throw CaptureError(code: .cannotWrite, input: path, detail: "cannot write: \(handle.lastError)")
        }
        self.dumper = dumper
        opened = LiveCapture.monotonicSeconds()
        written = [path]
    }

    deinit { pcap_dump_close(dumper) }

    func write(_ header: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>) {
        let size = 16 + Int(header.pointee.caplen)
        if (rotateBytes.map { bytes > 0 && bytes + size > $0 } ?? false)
            || (rotateSeconds.map { LiveCapture.monotonicSeconds() - opened >= $0 } ?? false)
        {
            rotate()
        }
        pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header, data)
        bytes += size
    }

    /// Opens the next file; on failure keeps writing to the current one (a full disk must not stop the capture).
    private func rotate() {
        let next = path + String(written.count)
        guard let opened = pcap_dump_open(handle.pointer, next) else { return }
        pcap_dump_close(dumper)
        dumper = opened
        written.append(next)
        bytes = 0
        self.opened = LiveCapture.monotonicSeconds()
    }

    func flush() { pcap_dump_flush(dumper) }
}

/// A capture interface as `pcap_findalldevs` lists it.
public struct CaptureInterface: Sendable {
    public var name: String
    public var description: String?
    public var addresses: [IPAddress]
    public var isUp: Bool
    public var isLoopback: Bool

    public static func all() throws(CaptureError) -> [CaptureInterface] {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errorBuffer) == 0 else {
            throw CaptureError(code: .liveCaptureFailed, input: "interfaces", detail: cString(errorBuffer))
        }
        defer { pcap_freealldevs(list) }
        var result: [CaptureInterface] = []
        var cursor = list
        while let device = cursor {
            var addresses: [IPAddress] = []
            var address = device.pointee.addresses
            while let entry = address {
                if let socketAddress = entry.pointee.addr {
                    switch Int32(socketAddress.pointee.sa_family) {
                    case AF_INET:
                        socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            addresses.append(.v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr)))
                        }
                    case AF_INET6:
                        socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                            let raw = withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
                            if let ip = IPAddress(bytes: raw) { addresses.append(ip) }
                        }
                    default:
                        break
                    }
                }
                address = entry.pointee.next
            }
            let flags = device.pointee.flags
            result.append(
                CaptureInterface(
                    name: String(validatingCString: device.pointee.name) ?? "?",
                    description: device.pointee.description.flatMap { String(validatingCString: $0) }, addresses: addresses,
                    isUp: flags & UInt32(PCAP_IF_UP) != 0, isLoopback: flags & UInt32(PCAP_IF_LOOPBACK) != 0))
            cursor = device.pointee.next
        }
        return result
    }
}
