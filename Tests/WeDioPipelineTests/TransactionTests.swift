import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// STUN transactions: requests matched to responses by id, retransmissions against RFC 8489's
/// schedule, timeouts and indications (issue 5 §1).
@Suite("STUN transactions")
struct TransactionTests {
    static func transactions(_ relative: String) -> TransactionTracker {
        Pipeline().analyze([InputSpec(path: Fixtures.path(relative))]).transactions
    }

    @Test("coturn's exchanges: 20 requests, all answered (18 success, 2 × 401), no orphans")
    func coturnExchanges() {
        let tracker = Self.transactions("link/ethernet-lo.pcap")
        #expect(tracker.transactions.count == 20)
        #expect(tracker.outcomeCounts == [.success: 18, .error: 2])
        #expect(tracker.orphanResponses == 0)
        let errors = tracker.transactions.filter { $0.outcome == .error }
        #expect(errors.allSatisfy { $0.method == .allocate && $0.errorCode == 401 && $0.errorReason == "Unauthorized" })
        let byMethod = Dictionary(grouping: tracker.transactions, by: \.method.name).mapValues(\.count)
        #expect(byMethod == ["Binding": 6, "Allocate": 4, "Refresh": 4, "CreatePermission": 1, "ChannelBind": 5])
        // Loopback: every answer within a few milliseconds, no retransmission.
        #expect(tracker.transactions.allSatisfy { ($0.rttMilliseconds ?? 99) < 20 && $0.retransmissions == 0 })
    }

    @Test("Total failure: every check to the peer retransmits on RFC 8489's schedule and times out")
    func totalFailure() throws {
        let tracker = Self.transactions("ice/total-failure/a-inside.pcap")
        let checks = tracker.transactions.filter { $0.method == .binding && $0.server.port != 3478 }
        #expect(!checks.isEmpty)
        for check in checks {
            #expect(check.outcome == .timeout)
            #expect(check.retransmissions >= 3)
            #expect(check.followsRetransmissionSchedule, "\(check.retransmissionIntervalsMilliseconds)")
            let first = try #require(check.retransmissionIntervalsMilliseconds.first)
            #expect(first >= 450 && first <= 700)  // aioice: RTO 500 ms, doubling
        }
        let server = tracker.transactions.filter { $0.server.port == 3478 }
        #expect(server.count == 1)
        #expect(server.first?.outcome == .success)
    }

    @Test("Send and Data indications are transactions of their own with outcome indication")
    func indications() {
        let tracker = Self.transactions("ice/turn-indications/a-inside.pcap")
        let indications = tracker.transactions.filter { $0.outcome == .indication }
        #expect(indications.count == 10)
        #expect(Set(indications.map(\.method)) == [.send, .data])
    }

    static func message(_ id: UInt128, _ messageClass: STUNClass, method: STUNMethod = .binding, error: Int? = nil) -> STUNMessage {
        var message = STUNMessage(method: method, messageClass: messageClass, transactionID: TransactionID(value: id, isClassic: false))
        if let error { message.attributes = [STUNAttribute(type: .errorCode, value: .errorCode(code: error, reason: "x"))] }
        return message
    }

    static let client = TransportAddress(ip: .v4(0x0A00_0001), port: 5000)
    static let server = TransportAddress(ip: .v4(0xC000_020A), port: 3478)
    static let outbound = FiveTuple(source: client, destination: server, transport: .udp)
    static let inbound = outbound.reversed

    static func at(_ milliseconds: Int64) -> CaptureTime { CaptureTime(nanoseconds: 1_700_000_000_000_000_000 + milliseconds * 1_000_000) }

    @Test("Retransmissions, a response from a changed 5-tuple, duplicates and orphans")
    func synthetic() throws {
        var tracker = TransactionTracker()
        let ref = PacketRef(input: 0, packet: 1)
        for milliseconds: Int64 in [0, 500, 1500] {
            tracker.handle(Self.message(1, .request), flow: Self.outbound, time: Self.at(milliseconds), ref: ref, carrier: .direct, integrity: .absent)
        }
        // Answered from another address (a NAT in between): still the same transaction.
        let natted = FiveTuple(source: Self.server, destination: TransportAddress(ip: .v4(0xCB00_7102), port: 40000), transport: .udp)
        tracker.handle(Self.message(1, .successResponse), flow: natted, time: Self.at(1520), ref: ref, carrier: .direct, integrity: .absent)
        tracker.handle(Self.message(1, .successResponse), flow: natted, time: Self.at(1530), ref: ref, carrier: .direct, integrity: .absent)
        tracker.handle(Self.message(2, .errorResponse), flow: Self.inbound, time: Self.at(1600), ref: ref, carrier: .direct, integrity: .absent)
        tracker.handle(Self.message(3, .request, method: .allocate), flow: Self.outbound, time: Self.at(2000), ref: ref, carrier: .direct, integrity: .absent)
        tracker.handle(Self.message(3, .errorResponse, method: .allocate, error: 438), flow: Self.inbound, time: Self.at(2010), ref: ref, carrier: .direct, integrity: .absent)
        tracker.handle(Self.message(4, .request), flow: Self.outbound, time: Self.at(3000), ref: ref, carrier: .direct, integrity: .absent)
        tracker.finish(at: Self.at(5000))
        let first = tracker.transactions[0]
        #expect(first.retransmissions == 2)
        #expect(first.retransmissionIntervalsMilliseconds == [500, 1000])
        #expect(first.followsRetransmissionSchedule)
        #expect(first.rttMilliseconds == 1520)
        #expect(first.lastTransmissionRTTMilliseconds == 20)
        #expect(first.responseFlow == natted)
        #expect(first.duplicateResponses == 1)
        #expect(tracker.orphanResponses == 1)
        #expect(tracker.transactions[1].errorCode == 438)
        #expect(tracker.transactions[2].outcome == .timeout)
        #expect(tracker.outcomeCounts == [.success: 1, .error: 1, .timeout: 1])
    }

    @Test("A sender faster than the RFC's schedule is flagged")
    func tooFast() {
        var tracker = TransactionTracker()
        let ref = PacketRef(input: 0, packet: 1)
        for milliseconds: Int64 in [0, 100, 200] {
            tracker.handle(Self.message(9, .request), flow: Self.outbound, time: Self.at(milliseconds), ref: ref, carrier: .direct, integrity: .absent)
        }
        #expect(tracker.transactions[0].followsRetransmissionSchedule == false)
    }

    @Test("Matching survives slot reuse: ids that differ in one bit, the same low bits, classic and modern ids")
    func matchingUnderReuse() {
        var tracker = TransactionTracker()
        let ref = PacketRef(input: 0, packet: 1)
        // Ids equal in their low 64 bits and differing above, then ids one bit apart: a weak hash would pile
        // them up. Every fifth is answered right away, the rest time out; the ring wraps several times.
        let total = Limits.transactions * 3
        var answered = 0
        for index in 0..<total {
            let id = index % 2 == 0 ? UInt128(index) << 64 | 0xABCD : UInt128(1) << UInt128(index % 96)  ^ UInt128(index)
            tracker.handle(Self.message(id, .request), flow: Self.outbound, time: Self.at(Int64(index)), ref: ref, carrier: .direct, integrity: .absent)
            if index % 5 == 0 {
                let matched = tracker.handle(Self.message(id, .successResponse), flow: Self.outbound.reversed, time: Self.at(Int64(index)), ref: ref, carrier: .direct, integrity: .absent)
                #expect(matched?.id.value == id)
                answered += 1
            }
        }
        tracker.finish(at: Self.at(Int64(total)))
        #expect(tracker.summary().success == answered)
        #expect(tracker.orphanResponses == 0)
        // A response to an id that was dropped long ago is an orphan, not matched to whatever holds its slot now.
        tracker.handle(Self.message(UInt128(Limits.transactions) << 64 | 0xABCD, .successResponse), flow: Self.outbound.reversed, time: Self.at(Int64(total + 1)), ref: ref, carrier: .direct, integrity: .absent)
        #expect(tracker.orphanResponses == 1)
    }

    @Test("A flood of random ids stays under the cap; what was dropped is counted")
    func flood() {
        var tracker = TransactionTracker()
        let ref = PacketRef(input: 0, packet: 1)
        let total = Limits.transactions + 1_000
        for id in 0..<total {
            tracker.handle(Self.message(UInt128(id), .request), flow: Self.outbound, time: Self.at(Int64(id)), ref: ref, carrier: .direct, integrity: .absent)
        }
        tracker.finish(at: Self.at(Int64(total)))
        #expect(tracker.transactions.count == Limits.transactions)
        #expect(tracker.evicted + tracker.transactions.count == total)
        #expect(tracker.outcomeCounts[.timeout] == total)
        // The first half of the cap is the capture's start, the rest the latest, in order.
        let kept = tracker.transactions.map { Int($0.id.value) }
        #expect(Array(kept.prefix(TransactionTracker.headCapacity)) == Array(0..<TransactionTracker.headCapacity))
        #expect(Array(kept.suffix(TransactionTracker.ringCapacity)) == Array((total - TransactionTracker.ringCapacity)..<total))
        // A response to a kept request still finds it; one to a dropped request is an orphan.
        tracker.handle(Self.message(UInt128(total - 1), .successResponse), flow: Self.outbound.reversed, time: Self.at(Int64(total + 1)), ref: ref, carrier: .direct, integrity: .absent)
        tracker.handle(Self.message(UInt128(TransactionTracker.headCapacity + 5), .successResponse), flow: Self.outbound.reversed, time: Self.at(Int64(total + 2)), ref: ref, carrier: .direct, integrity: .absent)
        #expect(tracker.transactions.last?.outcome == .success)
        #expect(tracker.orphanResponses == 1)
        #expect(tracker.summary().success == 1)
    }
}
