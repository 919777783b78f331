/// A set with a fixed capacity that forgets its oldest insertions first (FIFO), so remembered state
/// stays bounded under floods. Forgotten members are counted.
public struct BoundedSet<Element: Hashable & Sendable>: Sendable {
    private var members: Set<Element> = []
    private var order: [Element] = []
    private var head = 0
    public let capacity: Int
    public private(set) var evictions = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { members.count }

    public func contains(_ element: Element) -> Bool { members.contains(element) }

    public mutating func insert(_ element: Element) {
        // Reserve once, at the first insertion: growing by rehashing under a flood cost more than the hashing.
        if members.isEmpty && order.isEmpty { members.reserveCapacity(min(capacity, 65_536)) }
        guard members.insert(element).inserted else { return }
        if order.count < capacity {
            order.append(element)
        } else {
            members.remove(order[head])
            evictions += 1
            order[head] = element
            head = (head + 1) % capacity
        }
    }
}
