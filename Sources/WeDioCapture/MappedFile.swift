import CMappedStream
import Glibc
import Synchronization

/// A capture file mapped into memory, read by libpcap through a stream over that memory
/// (`wedio_mapped_stream`): no read(2) call per 4 KiB and no copy by the kernel, which is most of what a
/// plain libpcap read of a file in the page cache costs, and the stream's buffer is the mapping itself, so
/// each packet is copied once (into libpcap's buffer). Pages already read are dropped as reading goes on, so
/// resident memory stays flat whatever the file's size.
///
/// A mapped file that shrinks while it is read (another program truncates it) or that the disk fails to
/// deliver raises SIGBUS on the next access: a handler names the file and exits with the damaged-input
/// status instead of crashing without a word.
final class MappedFile {
    let base: UnsafeMutableRawPointer
    let size: Int
    /// Bytes at the start already handed back to the kernel.
    private var dropped = 0
    private static let pageSize = max(4_096, Int(sysconf(Int32(_SC_PAGESIZE))))
    private static let dropUnit = 16 * 1_024 * 1_024

    /// Maps a regular, non-empty file; nil for anything else (a pipe, a device, an empty file) or when
    /// mapping fails: the caller reads it the ordinary way.
    init?(path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0,
            info.st_size < Int64(Int.max / 2)
        else { return nil }
        let length = Int(info.st_size)
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            return nil
        }
        base = mapped
        size = length
        _ = madvise(base, size, MADV_SEQUENTIAL)
        guard MappedFileRegistry.register(base: base, size: size, path: path) else {
            munmap(base, size)
            return nil
        }
    }

    deinit {
        MappedFileRegistry.unregister(base: base)
        munmap(base, size)
    }

    /// A read-only stream over the whole file, for `pcap_fopen_offline`.
    func openStream() -> UnsafeMutablePointer<FILE>? {
        wedio_mapped_stream(base, size)
    }

    /// Gives back the pages before `offset` (reading has moved past them), keeping resident memory flat;
    /// 16 MiB at a time, since each call makes the kernel flush the other threads' TLBs.
    func dropPages(before offset: Int) {
        let end = min(offset, size) / Self.pageSize * Self.pageSize
        guard end - dropped >= Self.dropUnit else { return }
        _ = madvise(base + dropped, end - dropped, MADV_DONTNEED)
        dropped = end
    }
}

/// The mapped files, for the SIGBUS handler: a fixed table of address ranges and file names. Slots are
/// written under a lock before their mapping is read; the handler only reads them.
enum MappedFileRegistry {
    private static let capacity = 64
    private struct Slot {
        var start: UInt = 0
        var end: UInt = 0
        var path: UnsafeMutablePointer<CChar>?
    }
    private nonisolated(unsafe) static let slots: UnsafeMutablePointer<Slot> = {
        let table = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        table.initialize(repeating: Slot(), count: capacity)
        return table
    }()
    private static let lock = Mutex<Bool>(false)

    /// Records a mapping (installing the handler the first time); false when the table is full.
    static func register(base: UnsafeMutableRawPointer, size: Int, path: String) -> Bool {
        lock.withLock { installed in
            if !installed {
                installHandler()
                installed = true
            }
            for index in 0..<capacity where slots[index].start == 0 {
                slots[index].path = strdup(path)
                slots[index].end = UInt(bitPattern: base + size)
                slots[index].start = UInt(bitPattern: base)
                return true
            }
            return false
        }
    }

    static func unregister(base: UnsafeMutableRawPointer) {
        lock.withLock { _ in
            for index in 0..<capacity where slots[index].start == UInt(bitPattern: base) {
                slots[index].start = 0
                slots[index].end = 0
                free(slots[index].path)
                slots[index].path = nil
            }
        }
    }

    private static func installHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { _, info, _ in
            // Async-signal-safe only: compare addresses, write(2), _exit.
            let address = UInt(bitPattern: info?.pointee._sifields._sigfault.si_addr)
            for index in 0..<MappedFileRegistry.capacity {
                let slot = MappedFileRegistry.slots[index]
                guard slot.start != 0, address >= slot.start, address < slot.end else { continue }
                MappedFileRegistry.say("wedio: ")
                if let path = slot.path { _ = write(2, path, strlen(path)) }
                MappedFileRegistry.say(
                    ": the capture file shrank while being read (another program truncated it?) or the disk failed to deliver it; stopping.\n"
                )
                _exit(65)  // ExitStatus.damagedInput
            }
            // Not a capture file: the default action (a crash with a core dump), as without this handler.
            signal(SIGBUS, SIG_DFL)
        }
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, nil)
    }

    private static func say(_ text: StaticString) {
        _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
    }
}
