import Testing
import WeDio
@testable import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// TURN allocations from the lab's captures (issue 6); counts cross-checked with tshark
/// (`-Y stun.channel -T fields -e ip.src -e stun.length`, and the DATA lengths of indications).
@Suite("TURN allocations")
struct TURNTests {
    static func allocations(_ relative: String) -> [TURNAllocation] {
        Pipeline().analyze([InputSpec(path: Fixtures.path(relative))]).turnAllocations
    }

    @Test("TURN's methods are exactly Allocate, Refresh, Send, Data, CreatePermission, ChannelBind and RFC 6062's three")
    func turnMethods() {
        let named: [STUNMethod] = [.allocate, .refresh, .send, .data, .createPermission, .channelBind, .connect, .connectionBind, .connectionAttempt]
        let recognised = (0..<0x1000).filter { TURNTracker.isTURNMethod(UInt16($0)) }
        #expect(recognised == named.map { Int($0.rawValue) }.sorted())
        #expect(recognised == [0x003, 0x004, 0x006, 0x007, 0x008, 0x009, 0x00A, 0x00B, 0x00C])
    }

    @Test("Relay scenario: 401 challenge, then the allocation, four channels, relayed bytes, deleted at close")
    func relay() throws {
        let allocations = Self.allocations("ice/relay-turn/a-inside.pcap")
        #expect(allocations.count == 1)
        let allocation = try #require(allocations.first)
        #expect(allocation.username == "alice")
        #expect(allocation.realm == "wedio.test")
        #expect(allocation.allocateErrors == [401])
        #expect(allocation.credentialsRefused == 0)
        #expect(allocation.relayedAddresses.map(\.description) == ["192.0.2.10:49336"])
        #expect(allocation.mappedAddress?.ip == IPAddress("198.51.100.2"))
        #expect(allocation.requestedTransport == 17)
        #expect(allocation.lifetimeSeconds == 600)
        #expect(allocation.end == .deleted)
        #expect(allocation.channels.map(\.number) == [0x4000, 0x4001, 0x4002, 0x4003])
        #expect(allocation.channels.last?.peer.description == "203.0.113.2:23696")
        #expect(Set(allocation.permissions.map(\.peer.description)) == ["10.2.0.2", "203.0.113.2", "192.0.2.10"])
        #expect(allocation.permissions.allSatisfy { $0.installedBy == .channelBind })
        let totals = allocation.totals
        // tshark: 8 ChannelData / 474 data bytes from the client; 4 / 106 from the server plus one Data indication of 88.
        #expect(totals.packetsToPeer == 8 && totals.bytesToPeer == 474)
        #expect(totals.packetsFromPeer == 5 && totals.bytesFromPeer == 194)
        #expect(allocation.unboundChannelData == 0 && allocation.sendsWithoutPermission == 0)
    }

    @Test("Wrong password: 401, then 401 again to the authenticated request: failed, credentials refused")
    func wrongPassword() throws {
        let allocation = try #require(Self.allocations("ice/turn-wrong-password/a-inside.pcap").first)
        #expect(allocation.allocateErrors == [401, 401])
        #expect(allocation.credentialsRefused == 1)
        #expect(allocation.end == .failed)
        #expect(allocation.relayedAddresses.isEmpty)
    }

    @Test("coturn's client: CreatePermission then five Send and five Data indications of 100 bytes; Refresh 0 deletes")
    func indications() throws {
        let allocations = Self.allocations("ice/turn-indications/a-inside.pcap")
        #expect(allocations.map(\.end) == [.alive, .deleted])
        let allocation = try #require(allocations.last)
        #expect(allocation.permissions.map(\.peer.description) == ["192.0.2.11"])
        #expect(allocation.permissions.first?.installedBy == .createPermission)
        let peer = try #require(TransportAddress("192.0.2.11:3480"))
        #expect(allocation.relayed[peer] == RelayedCounters(packetsToPeer: 5, bytesToPeer: 500, packetsFromPeer: 5, bytesFromPeer: 500))
        #expect(allocation.refreshes.last?.asked == 0)
    }

    @Test("TURN over TCP: the allocation on the TCP stream, with its channels")
    func overTCP() throws {
        let allocation = try #require(Self.allocations("ice/turn-tcp/a-inside.pcap").first)
        #expect(allocation.transport == .tcp)
        #expect(allocation.created != nil)
        #expect(!allocation.channels.isEmpty)
        #expect(allocation.totals.packetsToPeer > 0)
    }

    @Test("Synthetic: an allocation that outlives its lifetime with no Refresh expired; Send without permission is flagged")
    func expiryAndPermission() throws {
        var tracker = TURNTracker()
        let client = TransportAddress(ip: .v4(0x0A00_0001), port: 5000)
        let server = TransportAddress(ip: .v4(0xC000_020A), port: 3478)
        let flow = FiveTuple(source: client, destination: server, transport: .udp)
        let relayed = TransportAddress(ip: .v4(0xC000_020A), port: 50000)
        let peer = TransportAddress(ip: .v4(0xCB00_7101), port: 9)
        func time(_ seconds: Int64) -> CaptureTime { CaptureTime(seconds: 1_700_000_000 + seconds) }
        let id = TransactionID(value: 1, isClassic: false)
        tracker.handle(STUNMessage(method: .allocate, messageClass: .request, transactionID: id), flow: flow, time: time(0))
        tracker.handle(
            STUNMessage(
                method: .allocate, messageClass: .successResponse, transactionID: id,
                attributes: [
                    STUNAttribute(type: .xorRelayedAddress, value: .xorAddress(relayed)),
                    STUNAttribute(type: .lifetime, value: .uint32(60)),
                ]), flow: flow.reversed, time: time(0))
        tracker.handle(
            STUNMessage(
                method: .send, messageClass: .indication, transactionID: TransactionID(value: 2, isClassic: false),
                attributes: [
                    STUNAttribute(type: .xorPeerAddress, value: .xorAddress(peer)), STUNAttribute(type: .data, value: .bytes([1, 2, 3]), length: 3),
                ]), flow: flow, time: time(1))
        tracker.finish(at: time(120))
        let allocation = try #require(tracker.allocations.first)
        #expect(allocation.end == .expired)
        #expect(allocation.ended == time(60))
        #expect(allocation.sendsWithoutPermission == 1)
    }
}
