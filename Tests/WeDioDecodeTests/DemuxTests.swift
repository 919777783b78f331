import Testing
import WeDioBasics
import WeDioDecode
import WeDioSTUN
import WeDioTestSupport

@Suite("RFC 7983 demultiplexing")
struct DemuxTests {
    static let flow = FiveTuple(source: DecodeHarness.client, destination: DecodeHarness.server, transport: .udp)
    static let otherFlow = FiveTuple(
        source: TransportAddress(ip: .v4(0x0A00_0003), port: 40_000), destination: TransportAddress(ip: .v4(0x0A00_0004), port: 40_001),
        transport: .udp)

    @Test("First-byte ranges: STUN 0–3, ZRTP 16–19, DTLS 20–63, ChannelData 64–79, RTP/RTCP 128–191")
    func ranges() {
        var demux = Demultiplexer()
        #expect(demux.classify(DecodeHarness.bindingRequest().span, flow: Self.flow) == .stun)
        let zrtp: [UInt8] = [0x10, 0, 0, 0, 0x5A, 0x52, 0x54, 0x50, 0, 0, 0, 0]
        #expect(demux.classify(zrtp.span, flow: Self.flow) == .zrtp)
        let dtls: [UInt8] = [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0]
        #expect(demux.classify(dtls.span, flow: Self.flow) == .dtls)
        let channel = STUNEncoder.channelData(channel: 0x4000, data: [1, 2, 3], padded: false)
        #expect(demux.classify(channel.span, flow: Self.flow) == .channelData(channel: 0x4000))
        let rtp: [UInt8] = [0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xAA]
        #expect(demux.classify(rtp.span, flow: Self.flow) == .rtp)
        let rtcp: [UInt8] = [0x80, 200, 0, 6, 0, 0, 0, 1]
        #expect(demux.classify(rtcp.span, flow: Self.flow) == .rtcp)
        #expect(demux.classify([0xFF, 1, 2, 3].span, flow: Self.flow) == .unknown)
    }

    @Test("ChannelData is believed only on flows that carried STUN (QUIC short headers share 64–127)")
    func channelDataNeedsSTUNFlow() {
        var demux = Demultiplexer()
        let channel = STUNEncoder.channelData(channel: 0x4000, data: [1, 2, 3, 4], padded: false)
        #expect(demux.classify(channel.span, flow: Self.otherFlow) == .unknown)
        _ = demux.classify(DecodeHarness.bindingRequest().span, flow: Self.otherFlow.reversed)
        #expect(demux.classify(channel.span, flow: Self.otherFlow) == .channelData(channel: 0x4000))
        // A wrong length is not ChannelData even on a STUN flow.
        #expect(demux.classify((channel + [0, 0, 0, 0, 0]).span, flow: Self.otherFlow) == .unknown)
    }

    @Test("A million distinct STUN flows: the flow cache stays at its fixed size and counts what it forgot")
    func millionFlows() {
        var demux = Demultiplexer()
        let request = DecodeHarness.bindingRequest()
        var classified = 0
        for index in 0..<1_000_000 {
            let flow = FiveTuple(
                source: TransportAddress(ip: .v4(0x0A00_0000 | UInt32(index >> 16)), port: UInt16(truncatingIfNeeded: index)),
                destination: DecodeHarness.server, transport: .udp)
            if demux.classify(request.span, flow: flow) == .stun { classified += 1 }
        }
        #expect(classified == 1_000_000)
        // Every slot ends up filled; each flow past them replaced one.
        #expect(demux.evictions >= 1_000_000 - Limits.stunFlows)
        #expect(demux.evictions < 1_000_000 - Limits.stunFlows + 1_000)
    }

    @Test("Pins written a few packets late answer exactly as a cache written at once: ChannelData verdicts and evictions")
    func deferredPinsMatchImmediateInserts() {
        // The oracle is a plain FlowCache of the same size, each STUN flow inserted when seen. 300 000 flows
        // in 2 000 000 packets overflow its sets, so which flows are forgotten, and when, must agree too.
        var demux = Demultiplexer()
        var reference = FlowCache(capacity: Limits.stunFlows)
        var random = SeededGenerator(seed: 7_983)
        let request = DecodeHarness.bindingRequest()
        let channel = STUNEncoder.channelData(channel: 0x4001, data: [1, 2, 3, 4], padded: false)
        var disagreements = 0
        var channelData = 0
        for _ in 0..<2_000_000 {
            let index = Int.random(in: 0..<300_000, using: &random)
            let flow = FiveTuple(
                source: TransportAddress(ip: .v4(0x0A00_0000 | UInt32(index >> 16)), port: UInt16(truncatingIfNeeded: index)),
                destination: DecodeHarness.server, transport: .udp)
            if Int.random(in: 0..<4, using: &random) == 0 {
                let believed = demux.classify(channel.span, flow: flow) == .channelData(channel: 0x4001)
                if believed != reference.contains(flow) { disagreements += 1 }
                if believed { channelData += 1 }
            } else {
                _ = demux.classify(request.span, flow: flow)
                reference.insert(flow)
            }
        }
        #expect(disagreements == 0)
        #expect(channelData > 100_000)  // both verdicts were exercised
        #expect(reference.replacements > 100_000)
        #expect(demux.evictions == reference.replacements)
    }

    @Test("A full set of the flow cache forgets the flow pinned longest ago, not one that keeps carrying STUN")
    func leastRecentlyPinned() {
        // Capacity 4: one set, so every flow competes for the same four slots.
        var cache = FlowCache(capacity: 4)
        let flows = (0..<6).map { index in
            FiveTuple(
                source: TransportAddress(ip: .v4(0x0A00_0001), port: UInt16(5_000 + index)), destination: DecodeHarness.server,
                transport: .udp)
        }
        for flow in flows[0..<4] { cache.insert(flow) }
        #expect(flows[0..<4].allSatisfy { cache.contains($0) })
        cache.insert(flows[0])  // flow 0 carries STUN again: now flow 1 is the oldest
        cache.insert(flows[4])
        #expect(cache.contains(flows[0]) && !cache.contains(flows[1]) && cache.contains(flows[4]))
        #expect(cache.contains(flows[0].reversed))  // either direction
        cache.insert(flows[5])  // flow 2 goes next
        #expect(!cache.contains(flows[2]) && cache.contains(flows[3]) && cache.contains(flows[5]))
        #expect(cache.count == 4)
        #expect(cache.replacements == 2)
    }

    @Test("A flow cache with values: each value moves with its flow, a new flow starts at 0, a forgotten one takes its value along")
    func valuesFollowTheirFlows() {
        var cache = FlowCache(capacity: 4, values: true)
        let flows = (0..<6).map { index in
            FiveTuple(
                source: TransportAddress(ip: .v4(0x0A00_0001), port: UInt16(5_000 + index)), destination: DecodeHarness.server,
                transport: .udp)
        }
        for (index, flow) in flows[0..<4].enumerated() {
            let (known, place) = cache.insertPlacing(flow)
            #expect(!known && cache.value(at: place) == 0)
            cache.setValue(UInt64(100 + index), at: place)
        }
        // The set is now 3, 2, 1, 0 (latest first); each refresh below moves a different position to the front.
        for index in [1, 2, 0, 3, 3, 1] {
            let (known, place) = cache.insertPlacing(flows[index].reversed)
            #expect(known && cache.value(at: place) == UInt64(100 + index))
        }
        // Order 1, 3, 0, 2: flow 2 is the oldest and goes; flow 4 starts at 0.
        let (known, place) = cache.insertPlacing(flows[4])
        #expect(!known && cache.value(at: place) == 0)
        cache.setValue(104, at: place)
        for index in [0, 1, 3, 4] {
            let place = cache.insertPlacing(flows[index]).place
            #expect(cache.value(at: place) == UInt64(100 + index))
        }
        let again = cache.insertPlacing(flows[2])
        #expect(!again.known && cache.value(at: again.place) == 0)
        // A cache made without values keeps none.
        var plain = FlowCache(capacity: 4)
        let plainPlace = plain.insertPlacing(flows[5]).place
        plain.setValue(7, at: plainPlace)
        #expect(plain.value(at: plainPlace) == 0 && plain.contains(flows[5]))
    }

    @Test("Classic STUN: on port 3478, as an answer to a classic request, or passing the strict test")
    func classic() {
        var demux = Demultiplexer()
        let id = TransactionID(value: 0xDEAD_BEEF_0000_0000_0000_0000_0000_0001, isClassic: true)
        let request = STUNEncoder.encode(STUNMessage(method: .binding, messageClass: .request, transactionID: id))
        let response = STUNEncoder.encode(
            STUNMessage(
                method: .binding, messageClass: .successResponse, transactionID: id,
                attributes: [STUNAttribute(type: .mappedAddress, value: .address(DecodeHarness.client))]))
        #expect(demux.classify(request.span, flow: Self.flow) == .classicSTUN)
        #expect(demux.classify(response.span, flow: Self.otherFlow) == .classicSTUN)
        // An unanswered-looking response off 3478 with no request seen is not believed.
        var fresh = Demultiplexer()
        #expect(fresh.classify(response.span, flow: Self.otherFlow) == .unknown)
        // A request off 3478 with only RFC 3489 attributes passes the strict test.
        let strictRequest = STUNEncoder.encode(
            STUNMessage(
                method: .binding, messageClass: .request, transactionID: id,
                attributes: [STUNAttribute(type: .changeRequest, value: .changeRequest(changeIP: false, changePort: true))]))
        #expect(fresh.classify(strictRequest.span, flow: Self.otherFlow) == .classicSTUN)
    }
}
