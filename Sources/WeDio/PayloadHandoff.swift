import CPrefetch
import Dispatch
import Synchronization
import WeDioAnalysis
import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// Classified payloads on their way from the reading thread (libpcap, link/IP/UDP/TCP decoding,
/// demultiplexing, and decoding STUN messages when the analyser is behind: that needs no state) to the
/// analysing thread (trackers, media counters). Only the bytes the analyzer reads are copied
/// (`Analyzer.bytesNeeded`): a whole STUN or DTLS message, an RTP header, nothing of RTCP or TLS.
/// Buffers are reused from batch to batch, so memory stays flat.
/// A value type: the reader and the analyser each hold theirs in a local variable (no dynamic exclusivity
/// checks per access, which a class's properties would cost on every payload). Its records and bytes live in
/// a `BatchStorage` written in place; the batch is the storage's one user at a time (the queue hands it over).
struct PayloadBatch: Sendable {
    static let payloadsPerBatch = 2_048
    static let bytesPerBatch = 512 * 1_024

    private let storage = BatchStorage(entries: Self.payloadsPerBatch, bytes: Self.bytesPerBatch + 65_536)
    /// Payloads in this batch, and bytes kept for them in `storage`.
    private(set) var count = 0
    private var byteCount = 0
    /// STUN payloads decoded on the reading thread (`BatchEntry.decodedIndex` points here). Kept apart so that
    /// the many other payloads do not copy a large optional each way.
    var decoded: [DecodedSTUN] = []
    /// How many of `decoded` belong to this batch: the rest are kept from earlier batches so that their
    /// attribute lists' storage is decoded into again, not allocated and freed per message.
    var decodedCount = 0
    /// The reader has nothing more after this batch.
    var isLast = false
    /// Whether the reader decodes this batch's STUN messages: only when the analyser is the slower side
    /// (batches are piling up for it), so the work goes to whichever thread has time.
    var decodesSTUN = false

    init() {}

    var isFull: Bool { count >= Self.payloadsPerBatch || byteCount >= Self.bytesPerBatch }

    mutating func append(_ payload: ClassifiedPayload, bytes source: borrowing Span<UInt8>) {
        // isFull is asked after each payload, so a record's place is free; the check only keeps a caller that
        // forgot from writing past the storage.
        guard count < storage.entryCapacity else { return }
        let kept = Analyzer.bytesNeeded(payload.kind, count: source.count, first: source.isEmpty ? nil : source[0])
        if kept > 0 {
            storage.reserveBytes(byteCount + kept, keeping: byteCount)
            source.withUnsafeBytes { from in
                if let base = from.baseAddress { (storage.bytes + byteCount).copyMemory(from: base, byteCount: kept) }
            }
            byteCount += kept
        }
        var decodedIndex: Int32 = -1
        var attributesAddress: UInt = 0
        switch payload.kind {
        case .stun where decodesSTUN, .classicSTUN where decodesSTUN:
            decodedIndex = Int32(decodedCount)
            if decodedCount < decoded.count {
                decoded[decodedCount].decode(source)
            } else {
                decoded.append(DecodedSTUN(source))
            }
            // Where its attributes are, for the analyser's prefetch (read there without touching the array).
            attributesAddress = decoded[decodedCount].message.attributes.withUnsafeBufferPointer {
                UInt(bitPattern: $0.baseAddress)
            }
            decodedCount += 1
        default:
            break
        }
        (storage.entries + count).initialize(
            to: BatchEntry(
                payload: payload, length: source.count, end: byteCount, decodedIndex: decodedIndex,
                attributesAddress: attributesAddress))
        count += 1
    }

    mutating func reset() {
        count = 0
        byteCount = 0
        decodedCount = 0
        isLast = false
        decodesSTUN = false
    }

    /// How many payloads ahead of the one handled the analyser's look-ups are prefetched.
    static let prefetchDistance = 4

    /// Gives each payload, in order, to the analyzer. A decoded message is swapped into a local variable
    /// for the call and back after it (passed straight from the array it was copied: retained and released
    /// field by field), so that all are freed together when the batch is emptied.
    mutating func deliver(to analyzer: inout Analyzer, log: inout DiagnosticLog) {
        var decoded = self.decoded
        self.decoded = []
        let allBytes = UnsafeRawBufferPointer(start: storage.bytes, count: byteCount)
        var lent = DecodedSTUN.placeholder
        var start = 0
        let total = min(count, storage.entryCapacity)
        for index in 0..<min(Self.prefetchDistance, total) { prefetch(index, bytes: allBytes, for: &analyzer) }
        for index in 0..<total {
            let ahead = index + Self.prefetchDistance
            if ahead < total { prefetch(ahead, bytes: allBytes, for: &analyzer) }
            // Read through the pointer, field by field: the whole record copied out was a memcpy call.
            let entry = storage.entries + index
            let end = min(max(entry.pointee.end, start), byteCount)
            let slice = UnsafeRawBufferPointer(rebasing: allBytes[start..<end]).bindMemory(to: UInt8.self)
            let stun = Int(entry.pointee.decodedIndex)
            if stun < decodedCount, decoded.indices.contains(stun) {
                swap(&lent, &decoded[stun])
                analyzer.handle(
                    entry.pointee.payload, bytes: slice.span, decoded: lent, contactKeys: entry.pointee.contactKeys, log: &log)
                swap(&lent, &decoded[stun])
            } else {
                analyzer.handle(
                    entry.pointee.payload, bytes: slice.span, length: entry.pointee.length,
                    contactKeys: entry.pointee.contactKeys, log: &log)
            }
            start = end
        }
        self.decoded = decoded
    }

    /// Starts bringing into cache what the analyser will read for a STUN payload `prefetchDistance` places
    /// ahead: its decoded attributes (written on the reading thread's core) and its flow's and transaction's
    /// table entries.
    /// (The analyzer is taken `inout`: passed by value, all 1 640 bytes of it were copied for every call.)
    private func prefetch(_ index: Int, bytes: UnsafeRawBufferPointer, for analyzer: inout Analyzer) {
        let entry = storage.entries + index
        switch entry.pointee.payload.kind {
        case .stun, .classicSTUN: break
        default: return
        }
        if let attributes = UnsafeRawPointer(bitPattern: entry.pointee.attributesAddress) {
            // The array's header (32 bytes before its elements) and the first few attributes.
            for line in 0..<4 { wedio_prefetch(attributes - 32 + 64 * line) }
        }
        // Its bytes start where the payload before it ends (as `deliver` reads them).
        let start = index > 0 ? storage.entries[index - 1].end : 0
        let headerEnd = start + STUNMessage.headerLength
        guard start >= 0, headerEnd <= min(entry.pointee.end, bytes.count) else { return }
        let header = UnsafeRawBufferPointer(rebasing: bytes[start..<headerEnd]).bindMemory(to: UInt8.self)
        entry.pointee.contactKeys = analyzer.prefetchSTUN(flow: entry.pointee.payload.flow, header: header.span)
    }
}

/// One payload of a batch: the payload, its whole length, where its kept bytes end in the batch's bytes, and
/// its decoded message's index (-1: none). Plain data, so that storage holding it needs no deinitialising.
struct BatchEntry: BitwiseCopyable {
    var payload: ClassifiedPayload
    var length: Int
    var end: Int
    var decodedIndex: Int32
    /// The decoded message's attribute storage (0: none), only ever prefetched, never dereferenced.
    var attributesAddress: UInt
    /// Its flow's NAT contact keys, worked out by the analyser's prefetch (nil until then).
    var contactKeys: NATTracker.ContactKeys? = nil
}

/// A batch's memory, allocated once and written in place round after round: appending each payload to four
/// arrays checked each one's uniqueness and capacity, a third of the reader's own work on an RTP packet.
final class BatchStorage: @unchecked Sendable {
    let entries: UnsafeMutablePointer<BatchEntry>
    let entryCapacity: Int
    private(set) var bytes: UnsafeMutableRawPointer
    private(set) var byteCapacity: Int

    init(entries: Int, bytes: Int) {
        self.entries = .allocate(capacity: entries)
        entryCapacity = entries
        self.bytes = .allocate(byteCount: bytes, alignment: 16)
        byteCapacity = bytes
    }

    /// Room for `needed` bytes, keeping the first `keeping` (a batch holds up to its mark plus one payload,
    /// so this grows only for a payload larger than 64 KB: a reassembled TCP frame).
    func reserveBytes(_ needed: Int, keeping: Int) {
        guard needed > byteCapacity else { return }
        let grown = max(needed, byteCapacity * 2)
        let larger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        larger.copyMemory(from: bytes, byteCount: min(keeping, byteCapacity))
        bytes.deallocate()
        bytes = larger
        byteCapacity = grown
    }

    deinit {
        entries.deallocate()
        bytes.deallocate()
    }
}

/// A batch that goes round between a reader and an analyser: made empty, filled, emptied again.
protocol HandoffBatch: Sendable {
    init()
    mutating func reset()
}

extension PayloadBatch: HandoffBatch {}

/// A bounded queue of batches between one reader and one analyser: `depth` batches circulate (each made on
/// first use), so the reader waits when the analyser falls behind (memory stays bounded) and vice versa.
/// Files (payload batches) and live captures (packet batches) go through the same queue.
final class Handoff<Batch: HandoffBatch>: Sendable {
    private let ready = Mutex<[Batch]>([])
    private let spare = Mutex<[Batch]>([])
    private let readyCount = DispatchSemaphore(value: 0)
    private let spareCount: DispatchSemaphore
    /// Batches sent and not yet received: how far the analyser is behind.
    private let waiting = Atomic<Int>(0)

    init(depth: Int) {
        spareCount = DispatchSemaphore(value: depth)
    }

    /// An empty batch for the reader to fill (waits while all are in use), and whether the analyser is the
    /// slower side: the reader had to wait, or `behindFrom` filled batches are already waiting for it.
    func emptyBatch(behindFrom: Int = 2) -> (batch: Batch, analyserBehind: Bool) {
        let waited = spareCount.wait(timeout: .now()) == .timedOut
        if waited { spareCount.wait() }
        let behind = waited || waiting.load(ordering: .relaxed) >= behindFrom
        var batch = spare.withLock { $0.popLast() } ?? Batch()
        // Emptied here, on the reader's thread, not where it was analysed: what the reader allocated is then
        // freed by the thread that allocated it, without taking its heap arena's lock from the other thread, and
        // the analyser (the slower side of a server's capture) is spared the work. (Decoded STUN messages stay,
        // to be decoded into again: `PayloadBatch.decodedCount`.)
        batch.reset()
        return (batch, behind)
    }

    func send(_ batch: consuming Batch) {
        let sent = batch
        ready.withLock { $0.append(sent) }
        waiting.add(1, ordering: .relaxed)
        readyCount.signal()
    }

    /// The next filled batch for the analyser (waits for one).
    func receive() -> Batch {
        readyCount.wait()
        waiting.subtract(1, ordering: .relaxed)
        return ready.withLock { $0.removeFirst() }
    }

    /// Hands a batch back for reuse; the reader empties it when it takes it (`emptyBatch`).
    func recycle(_ batch: consuming Batch) {
        let spared = batch
        spare.withLock { $0.append(spared) }
        spareCount.signal()
    }
}

extension Handoff where Batch == PayloadBatch {
    /// An empty payload batch; when the analyser is behind, the batch asks the reader to decode STUN itself
    /// (`fixed` overrides that: tests check both places give the same result). Asked only when the reader
    /// had to wait, the analyser decoded most messages of a server's capture while the reader sat idle;
    /// with two batches waiting as the mark, the analyser's time on ice-dense went from 1.8 to 1.6 s.
    func emptyBatch(readerDecodesSTUN fixed: Bool?) -> PayloadBatch {
        var (batch, behind) = emptyBatch()
        batch.decodesSTUN = fixed ?? behind
        return batch
    }
}

/// The analyser thread's result, handed back to the reader when the input ends.
final class AnalyzerBox: @unchecked Sendable {
    // Written by the analysing thread just before it leaves `done`; read by the reader after waiting on it.
    var analyzer: Analyzer
    var log = DiagnosticLog()
    let done = DispatchGroup()

    init(_ analyzer: Analyzer) { self.analyzer = analyzer }

    /// The finished analyzer, leaving the box without a reference to it (so the reader's next change to it
    /// does not copy its tables).
    func takeAnalyzer() -> Analyzer {
        let finished = analyzer
        analyzer = Analyzer(options: finished.options)
        return finished
    }

    /// Starts analysing batches from `queue` on another thread until the last one.
    func start(_ queue: Handoff<PayloadBatch>) {
        done.enter()
        let analyzer = self.analyzer
        self.analyzer = Analyzer(options: analyzer.options)  // the thread holds the only copy: no copy-on-write
        DispatchQueue.global(qos: .userInitiated).async { [analyzer] in
            var analyzer = analyzer
            var log = DiagnosticLog()
            while true {
                var batch = queue.receive()
                batch.deliver(to: &analyzer, log: &log)
                let last = batch.isLast
                queue.recycle(batch)
                if last { break }
            }
            self.analyzer = analyzer
            self.log = log
            self.done.leave()
        }
    }
}
