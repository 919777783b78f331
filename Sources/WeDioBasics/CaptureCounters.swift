/// A live capture's kernel counters (`pcap_stats`), cumulative since the capture started.
public struct CaptureCounters: Sendable, Hashable {
    /// Packets that passed the filter, delivered or not (Linux adds the kernel's drops in).
    public var received: Int
    /// Packets the kernel dropped because the capture buffer was full: wedio never saw them.
    public var droppedByKernel: Int
    /// Packets the interface or its driver dropped (not all drivers count them).
    public var droppedByInterface: Int

    public init(received: Int = 0, droppedByKernel: Int = 0, droppedByInterface: Int = 0) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
    }

    public var dropped: Int { droppedByKernel + droppedByInterface }
}

/// An interval of capture time in which packets were lost: between two readings of the counters, the second
/// of which showed more drops. Counters are read about once a second, so a window is about a second long.
public struct CaptureDropWindow: Sendable, Hashable {
    public var start: CaptureTime
    public var end: CaptureTime
    public var droppedByKernel: Int
    public var droppedByInterface: Int

    public init(start: CaptureTime, end: CaptureTime, droppedByKernel: Int, droppedByInterface: Int) {
        self.start = start
        self.end = end
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
    }

    public var dropped: Int { droppedByKernel + droppedByInterface }

    public func overlaps(_ from: CaptureTime, _ to: CaptureTime) -> Bool { from <= end && start <= to }
}
