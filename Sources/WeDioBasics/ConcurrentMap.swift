import Dispatch
import Synchronization

/// `(0..<count).map(transform)` worked out on every core, in chunks of `chunk` consecutive indexes, the
/// results in index order. For work that is pure per index (rendering a run of report items): the result
/// is the same as the plain map, whatever the number of cores.
public func concurrentMap<Result: Sendable>(count: Int, chunk: Int, _ transform: @Sendable (Int) -> Result) -> [Result] {
    guard count > chunk, chunk > 0 else { return (0..<count).map(transform) }
    let chunks = (count + chunk - 1) / chunk
    // One lock taken per chunk (not per item), to hand its results over.
    let pieces = Mutex([[Result]](repeating: [], count: chunks))
    DispatchQueue.concurrentPerform(iterations: chunks) { piece in
        let results = (piece * chunk..<min(count, (piece + 1) * chunk)).map(transform)
        pieces.withLock { $0[piece] = results }
    }
    return pieces.withLock { pieces in
        var all: [Result] = []
        all.reserveCapacity(count)
        // Each piece let go once moved: never two copies of every result at once.
        for piece in pieces.indices {
            all.append(contentsOf: pieces[piece])
            pieces[piece] = []
        }
        return all
    }
}
