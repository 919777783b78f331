import CPcap
import Glibc
import Synchronization
import WeDioBasics

/// Asks a running live capture to stop. The only `@unchecked Sendable` in WeDio: `pcap_breakloop` is
/// documented as safe to call from another thread or a signal handler, and the flag is atomic.
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

    public init(
        interface: String, filter: String? = nil, snapshotLength: Int = 262_144, duration: Double? = nil,
        count: Int? = nil, writePath: String? = nil
    ) {
        self.interface = interface
        self.filter = filter
        self.snapshotLength = snapshotLength
        self.duration = duration
        self.count = count
        self.writePath = writePath
    }
}

/// A live interface opened with `pcap_create`/`pcap_activate` in immediate mode.
public final class LiveCapture {
    public let options: LiveOptions
    let handle: PcapHandle
    public let linkType: LinkType
    private var dumper: OpaquePointer?
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
        pcap_set_immediate_mode(pointer, 1)
        pcap_set_timeout(pointer, 100)
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
        // --count are checked at least every 100 ms whatever libpcap's immediate-mode timeout does.
        var nonblockError = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        if pcap_setnonblock(pointer, 1, &nonblockError) != 0 {
            throw CaptureError(code: .liveCaptureFailed, input: name, detail: cString(nonblockError))
        }
        selectableDescriptor = pcap_get_selectable_fd(pointer)
        if let filter = options.filter { try handle.setFilter(filter, input: name) }
        if let path = options.writePath {
            guard let dumper = pcap_dump_open(pointer, path) else {
                throw CaptureError(code: .cannotWrite, input: path, detail: "cannot write: \(handle.lastError)")
            }
            self.dumper = dumper
        }
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
    }

    /// Captures until the token stops it, `duration` passes or `count` packets arrived.
    @discardableResult
    /// Calls `body` for each packet until stopped; `idle` runs whenever no packet was ready (at least every
    /// 100 ms while the capture is quiet), for work that must not wait for the next packet.
    public func run(
        stop: CaptureStopToken, idle: () -> Void = {}, _ body: (CaptureRecord, borrowing Span<UInt8>) -> Void
    ) throws(CaptureError) -> Int {
        stop.attach(handle.pointer)
        defer { stop.attach(nil) }
        var startTime = timespec()
        clock_gettime(CLOCK_MONOTONIC, &startTime)
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var number = 0
        while !stop.isStopped {
            if let count = options.count, number >= count { break }
            if let duration = options.duration {
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                let elapsed = Double(now.tv_sec - startTime.tv_sec) + Double(now.tv_nsec - startTime.tv_nsec) / 1e9
                if elapsed >= duration { break }
            }
            let status = pcap_next_ex(handle.pointer, &header, &data)
            switch status {
            case 1:
                guard let header, let data else { continue }
                number += 1
                if let dumper {
                    pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header, data)
                }
                let captured = Int(header.pointee.caplen)
                let record = CaptureRecord(
                    number: number, time: captureTime(header, nanoseconds: true),
                    wireLength: max(Int(header.pointee.len), captured))
                body(record, UnsafeBufferPointer(start: data, count: captured).span)
            case 0:
                waitForPackets()  // nothing ready: sleep in poll(2) for at most 100 ms, then check the stop conditions
                idle()
            case PCAP_ERROR_BREAK:
                return number
            default:
                throw CaptureError(code: .liveCaptureFailed, input: options.interface, packet: number, detail: handle.lastError)
            }
        }
        if let dumper { pcap_dump_flush(dumper) }
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

    /// Kernel counters (received / dropped), when the platform gives them.
    public var droppedPackets: Int? {
        var stats = pcap_stat()
        guard pcap_stats(handle.pointer, &stats) == 0 else { return nil }
        return Int(stats.ps_drop)
    }
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
