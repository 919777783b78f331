import WeDioBasics
import WeDioSTUN

/// Follows TURN allocations (RFC 8656, 6062 partly) from the client side of the server: the
/// authentication flow, lifetime and refreshes, permissions, channels and the traffic relayed
/// through them. Requests are remembered by transaction id until answered.
public struct TURNTracker: Sendable {
    struct Pending: Sendable {
        var allocation: Int
        var method: STUNMethod
        var hadCredentials: Bool
        var lifetime: UInt32?
        var peers: [TransportAddress]
        var channel: UInt16?
        var time: CaptureTime
        /// ConnectionBind: the TCP connection it binds (index into the allocation's list) and the data flow.
        var tcpConnection: Int?
        var dataFlow: FiveTuple?
        /// Datagrams for its peer sent before its answer: misses only if it is refused.
        var raced: [PermissionMiss] = []
    }

    /// Unanswered CreatePermission/ChannelBind requests per allocation (a handful at a time).
    private var pendingPermissions: [Int: [TransactionID]] = [:]

    public private(set) var allocations: [TURNAllocation] = []
    private var byClient: [FiveTuple: Int] = [:]
    private var pending: [TransactionID: Pending] = [:]
    public private(set) var dropped = 0
    /// Allocations followed so far (evicted ones included): numbers the next one's id.
    private var followed = 0

    public init() {}

    /// Forgets allocations that were over before `cutoff`: deleted, expired, or refused (a long live
    /// capture); returns how many.
    public mutating func evict(endedBefore cutoff: CaptureTime) -> Int {
        var newIndex: [Int: Int] = [:]
        var kept: [TURNAllocation] = []
        for (index, allocation) in allocations.enumerated() {
            let over = allocation.ended ?? allocation.expires ?? (allocation.created == nil ? allocation.firstRequest : nil)
            if let over, over < cutoff { continue }
            newIndex[index] = kept.count
            kept.append(allocation)
        }
        let removed = allocations.count - kept.count
        guard removed > 0 else { return 0 }
        allocations = kept
        byClient = byClient.compactMapValues { newIndex[$0] }
        connectionsByID = connectionsByID.compactMapValues { entry in
            newIndex[entry.allocation].map { (allocation: $0, connection: entry.connection) }
        }
        dataFlows = dataFlows.compactMapValues { entry in
            newIndex[entry.allocation].map { (allocation: $0, connection: entry.connection) }
        }
        pendingPermissions.removeAll()
        pending = pending.compactMapValues { request in
            newIndex[request.allocation].map { index in
                var moved = request
                moved.allocation = index
                return moved
            }
        }
        return removed
    }

    /// TURN's methods (RFC 8656 §17, RFC 6062 §6.1): Allocate 0x003, Refresh 0x004, Send 0x006, Data 0x007,
    /// CreatePermission 0x008, ChannelBind 0x009, Connect 0x00A, ConnectionBind 0x00B, ConnectionAttempt
    /// 0x00C. Asked for every message: a bit mask, where a `Set` hashed the method through SipHash (150
    /// instructions a message, most of them spent on the Binding checks that are not TURN's).
    static func isTURNMethod(_ method: UInt16) -> Bool {
        method < 16 && (0b0001_1111_1101_1000 as UInt16) >> method & 1 == 1
    }
    /// RFC 6062 CONNECTION-ID → (allocation, TCP connection), for ConnectionBind on a new TCP connection.
    private var connectionsByID: [UInt32: (allocation: Int, connection: Int)] = [:]
    /// Bound data connections (client → server) → (allocation, TCP connection), to count the peer data on them.
    private var dataFlows: [FiveTuple: (allocation: Int, connection: Int)] = [:]
    /// Peer data on data connections whose ConnectionBind was not captured, counted only.
    public private(set) var unattributedTCPDataBytes = 0

    /// Raw peer data on an RFC 6062 data connection: client → server is on its way to the peer.
    public mutating func tcpData(flow: FiveTuple, bytes: Int) {
        let toPeer = dataFlows[flow] != nil
        guard let (index, position) = dataFlows[flow] ?? dataFlows[flow.reversed],
            allocations.indices.contains(index), allocations[index].tcpConnections.indices.contains(position)
        else {
            unattributedTCPDataBytes += bytes
            return
        }
        if toPeer {
            allocations[index].tcpConnections[position].bytesToPeer += bytes
        } else {
            allocations[index].tcpConnections[position].bytesFromPeer += bytes
        }
    }

    /// The allocation a client→server flow belongs to.
    func index(clientFlow: FiveTuple) -> Int? { byClient[clientFlow] }

    public mutating func handle(_ message: STUNMessage, flow: FiveTuple, time: CaptureTime, ref: PacketRef? = nil) {
        guard Self.isTURNMethod(message.method.rawValue) else { return }
        if message.method == .connectionBind || message.method == .connectionAttempt {
            tcpRelay(message, flow: flow, time: time)
            return
        }
        switch message.messageClass {
        case .request:
            let index: Int
            if let known = byClient[flow] {
                index = known
            } else {
                guard message.method == .allocate else { return }  // requests for an allocation we never saw created
                guard allocations.count < Limits.turnAllocations else {
                    dropped += 1
                    return
                }
                index = allocations.count
                byClient[flow] = index
                followed += 1
                allocations.append(
                    TURNAllocation(
                        id: "alloc-\(followed)", client: flow.source, server: flow.destination, transport: flow.transport,
                        firstRequest: time))
            }
            if case .text(let username) = message.value(.username) { allocations[index].username = username }
            if case .text(let realm) = message.value(.realm) { allocations[index].realm = realm }
            if case .requestedTransport(let proto) = message.value(.requestedTransport) {
                allocations[index].requestedTransport = proto
            }
            if message.method == .allocate {
                for attribute in message.attributes
                where attribute.type == .requestedAddressFamily || attribute.type == .additionalAddressFamily {
                    if case .addressFamily(let family) = attribute.value, !allocations[index].requestedFamilies.contains(family) {
                        allocations[index].requestedFamilies.append(family)
                    }
                }
                if case .evenPort(let reserve) = message.value(.evenPort) { allocations[index].evenPort = reserve }
                if case .uint64(let token) = message.value(.reservationToken) { allocations[index].usedReservationToken = token }
            }
            var lifetime: UInt32?
            if case .uint32(let value) = message.value(.lifetime) { lifetime = value }
            var channel: UInt16?
            if case .channelNumber(let number) = message.value(.channelNumber) { channel = number }
            let peers = message.attributes.compactMap { attribute -> TransportAddress? in
                guard attribute.type == .xorPeerAddress, case .xorAddress(let address) = attribute.value else { return nil }
                return address
            }
            if pending.count > Limits.pendingRequests {
                pending.removeAll()
                pendingPermissions.removeAll()
            }
            if message.method == .createPermission || message.method == .channelBind {
                var waiting = pendingPermissions[index] ?? []
                if waiting.count >= 16 { waiting.removeFirst() }
                waiting.append(message.transactionID)
                pendingPermissions[index] = waiting
            }
            if message.method == .connect, let peer = peers.first {
                if allocations[index].tcpConnections.count < Limits.tcpConnectionsPerAllocation {
                    allocations[index].tcpConnections.append(TURNTCPConnection(peer: peer, initiator: .client, requested: time))
                } else {
                    dropped += 1
                }
            }
            pending[message.transactionID] = Pending(
                allocation: index, method: message.method,
                hadCredentials: message.value(.messageIntegrity) != nil || message.value(.messageIntegritySHA256) != nil,
                lifetime: lifetime, peers: peers, channel: channel, time: time)
        case .successResponse, .errorResponse:
            guard let request = pending.removeValue(forKey: message.transactionID) else { return }
            if request.method == .createPermission || request.method == .channelBind {
                pendingPermissions[request.allocation]?.removeAll { $0 == message.transactionID }
                if message.messageClass == .successResponse {
                    allocations[request.allocation].sentBeforePermissionAnswer += request.raced.count
                } else {
                    for miss in request.raced { recordMiss(request.allocation, miss) }
                }
            }
            answer(request, message, time: time)
        case .indication:
            guard let index = byClient[flow] ?? byClient[flow.reversed] else { return }
            guard case .xorAddress(let peer) = message.value(.xorPeerAddress), let data = message.attribute(.data) else {
                return
            }
            let toPeer = byClient[flow] != nil
            if toPeer && message.method == .send && !hasPermission(index, peer.ip, at: time) {
                let miss = PermissionMiss(time: time, ref: ref, peer: peer, channel: nil)
                if !race(index, miss, covers: { $0.peers.contains { $0.ip == peer.ip } }) { recordMiss(index, miss) }
            }
            count(index, peer: peer, bytes: data.length, toPeer: toPeer)
        }
    }

    private mutating func answer(_ request: Pending, _ message: STUNMessage, time: CaptureTime) {
        let index = request.allocation
        let success = message.messageClass == .successResponse
        var granted: UInt32?
        if case .uint32(let value) = message.value(.lifetime) { granted = value }
        switch request.method {
        case .allocate:
            if success {
                allocations[index].created = time
                allocations[index].relayedAddresses = message.attributes.compactMap {
                    guard $0.type == .xorRelayedAddress, case .xorAddress(let address) = $0.value else { return nil }
                    return address
                }
                if case .xorAddress(let mapped) = message.value(.xorMappedAddress) { allocations[index].mappedAddress = mapped }
                if case .uint64(let token) = message.value(.reservationToken) { allocations[index].reservationToken = token }
                if case .addressErrorCode(let family, let code, _) = message.value(.addressErrorCode) {
                    allocations[index].addressErrors.append((family: family, code: code))
                }
                allocations[index].lifetimeSeconds = granted
                allocations[index].expires = time.adding(milliseconds: Int64(granted ?? 600) * 1000)
            } else if case .errorCode(let code, _) = message.value(.errorCode) {
                allocations[index].allocateErrors.append(code)
                if code == 401 && request.hadCredentials { allocations[index].credentialsRefused += 1 }
                if case .text(let realm) = message.value(.realm) { allocations[index].realm = realm }
            }
        case .refresh:
            allocations[index].refreshes.append((time: time, asked: request.lifetime, granted: success ? granted : nil))
            if success {
                if request.lifetime == 0 || granted == 0 {
                    allocations[index].end = .deleted
                    allocations[index].ended = time
                } else {
                    allocations[index].expires = time.adding(milliseconds: Int64(granted ?? 600) * 1000)
                }
            }
        case .createPermission:
            guard success else { return }
            for peer in request.peers { permit(index, peer.ip, by: .createPermission, at: time) }
        case .channelBind:
            guard success, let number = request.channel, let peer = request.peers.first else { return }
            permit(index, peer.ip, by: .channelBind, at: time)
            if let existing = allocations[index].channels.firstIndex(where: { $0.number == number }) {
                allocations[index].channels[existing].peer = peer
                allocations[index].channels[existing].lastRefreshed = time
            } else {
                allocations[index].channels.append(TURNChannel(number: number, peer: peer, bound: time, lastRefreshed: time))
            }
        case .connect:
            // The connection this Connect opened is the last one to its first peer still unanswered.
            guard let peer = request.peers.first,
                let position = allocations[index].tcpConnections.lastIndex(where: {
                    $0.peer == peer && $0.initiator == .client && $0.established == nil && $0.errorCode == nil
                })
            else { return }
            if success {
                allocations[index].tcpConnections[position].established = time
                if case .uint32(let id) = message.value(.connectionID) {
                    allocations[index].tcpConnections[position].connectionID = id
                    connectionsByID[id] = (allocation: index, connection: position)
                }
            } else if case .errorCode(let code, _) = message.value(.errorCode) {
                allocations[index].tcpConnections[position].errorCode = code
            }
        case .connectionBind:
            guard let position = request.tcpConnection, allocations[index].tcpConnections.indices.contains(position) else { return }
            if success {
                allocations[index].tcpConnections[position].dataConnection = request.dataFlow
                allocations[index].tcpConnections[position].bound = time
                if let flow = request.dataFlow, dataFlows.count < Limits.tcpFlows {
                    dataFlows[flow] = (allocation: index, connection: position)
                }
            } else if case .errorCode(let code, _) = message.value(.errorCode) {
                allocations[index].tcpConnections[position].bindErrorCode = code
            }
        default:
            break
        }
    }

    /// RFC 6062: ConnectionAttempt (server → client on the control connection: a peer connected to the
    /// relayed address) and ConnectionBind (client → server on a new TCP connection, naming CONNECTION-ID).
    private mutating func tcpRelay(_ message: STUNMessage, flow: FiveTuple, time: CaptureTime) {
        switch (message.method, message.messageClass) {
        case (.connectionAttempt, .indication), (.connectionAttempt, .request):
            // RFC 6062 §4.4 sends it as a request the client answers; some servers use an indication.
            guard let index = byClient[flow.reversed], case .xorAddress(let peer) = message.value(.xorPeerAddress) else {
                return
            }
            guard allocations[index].tcpConnections.count < Limits.tcpConnectionsPerAllocation else {
                dropped += 1
                return
            }
            var connection = TURNTCPConnection(peer: peer, initiator: .peer, requested: time, established: time)
            if case .uint32(let id) = message.value(.connectionID) {
                connection.connectionID = id
                connectionsByID[id] = (allocation: index, connection: allocations[index].tcpConnections.count)
            }
            allocations[index].tcpConnections.append(connection)
        case (.connectionBind, .request):
            guard case .uint32(let id) = message.value(.connectionID), let target = connectionsByID[id] else { return }
            pending[message.transactionID] = Pending(
                allocation: target.allocation, method: .connectionBind, hadCredentials: message.value(.messageIntegrity) != nil,
                lifetime: nil, peers: [], channel: nil, time: time, tcpConnection: target.connection, dataFlow: flow)
        case (.connectionBind, .successResponse), (.connectionBind, .errorResponse):
            guard let request = pending.removeValue(forKey: message.transactionID) else { return }
            if request.method == .createPermission || request.method == .channelBind {
                pendingPermissions[request.allocation]?.removeAll { $0 == message.transactionID }
                if message.messageClass == .successResponse {
                    allocations[request.allocation].sentBeforePermissionAnswer += request.raced.count
                } else {
                    for miss in request.raced { recordMiss(request.allocation, miss) }
                }
            }
            answer(request, message, time: time)
        default:
            break
        }
    }

    private mutating func permit(_ index: Int, _ peer: IPAddress, by method: STUNMethod, at time: CaptureTime) {
        if let existing = allocations[index].permissions.firstIndex(where: { $0.peer == peer }) {
            allocations[index].permissions[existing].lastRefreshed = time
            allocations[index].permissions[existing].refreshes += 1
        } else {
            allocations[index].permissions.append(
                TURNPermission(peer: peer, installedBy: method, installed: time, lastRefreshed: time))
        }
    }

    static let missesKept = 8

    /// A datagram sent while a request that would allow it awaits its answer: held on that request, decided
    /// by its answer (the server handles requests and data in the order they arrive).
    private mutating func race(_ index: Int, _ miss: PermissionMiss, covers: (Pending) -> Bool) -> Bool {
        guard let waiting = pendingPermissions[index] else { return false }
        for id in waiting.reversed() {
            guard var request = pending[id], request.time <= miss.time, covers(request) else { continue }
            if request.raced.count < 1_024 { request.raced.append(miss) } else { allocations[index].sentBeforePermissionAnswer += 1 }
            pending[id] = request
            return true
        }
        return false
    }

    private mutating func recordMiss(_ index: Int, _ miss: PermissionMiss) {
        if miss.channel != nil {
            allocations[index].unboundChannelData += 1
        } else {
            allocations[index].sendsWithoutPermission += 1
        }
        if allocations[index].permissionMisses.count < Self.missesKept { allocations[index].permissionMisses.append(miss) }
    }

    private func hasPermission(_ index: Int, _ peer: IPAddress, at time: CaptureTime) -> Bool {
        allocations[index].permissions.contains { $0.peer == peer && time <= $0.expires }
    }

    private mutating func count(_ index: Int, peer: TransportAddress, bytes: Int, toPeer: Bool) {
        var counters = allocations[index].relayed[peer] ?? RelayedCounters()
        if toPeer {
            counters.packetsToPeer += 1
            counters.bytesToPeer += bytes
        } else {
            counters.packetsFromPeer += 1
            counters.bytesFromPeer += bytes
        }
        allocations[index].relayed[peer] = counters
    }

    /// Resolves ChannelData on a flow to its allocation and peer (the binding in force at that time),
    /// counting it; returns (relayed address, peer, toward the peer) for the inner payload's analysis.
    public mutating func channelData(
        channel: UInt16, length: Int, flow: FiveTuple, time: CaptureTime, ref: PacketRef? = nil
    ) -> (relayed: TransportAddress?, peer: TransportAddress, toPeer: Bool)? {
        guard !allocations.isEmpty else { return nil }  // per-packet path: no hashing when there is no allocation
        let toPeer = byClient[flow] != nil
        guard let index = byClient[flow] ?? byClient[flow.reversed] else { return nil }
        guard let binding = allocations[index].channels.first(where: { $0.number == channel && time <= $0.expires }) else {
            let miss = PermissionMiss(time: time, ref: ref, peer: nil, channel: channel)
            if !(toPeer && race(index, miss, covers: { $0.method == .channelBind && $0.channel == channel })) {
                recordMiss(index, miss)
            }
            return nil
        }
        count(index, peer: binding.peer, bytes: length, toPeer: toPeer)
        return (allocations[index].relayedAddresses.first, binding.peer, toPeer)
    }

    /// The relayed address of the allocation a flow belongs to (Data/Send indications' inner checks).
    public func relayedAddress(flow: FiveTuple) -> (relayed: TransportAddress?, toPeer: Bool)? {
        if let index = byClient[flow] { return (allocations[index].relayedAddresses.first, true) }
        if let index = byClient[flow.reversed] { return (allocations[index].relayedAddresses.first, false) }
        return nil
    }

    /// Decides how each allocation ended, at the end of the capture.
    public mutating func finish(at end: CaptureTime) {
        for index in allocations.indices where allocations[index].end == .alive {
            if allocations[index].created == nil {
                allocations[index].end = .failed
            } else if let expires = allocations[index].expires, expires < end {
                allocations[index].end = .expired
                allocations[index].ended = expires
            }
        }
    }
}
