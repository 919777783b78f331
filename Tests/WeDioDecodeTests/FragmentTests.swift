import Testing
import WeDioBasics
import WeDioDecode
import WeDioTestSupport

@Suite("IP fragment reassembly")
struct FragmentTests {
    /// A STUN message big enough to need fragments, and its UDP datagram.
    static let stun = DecodeHarness.bindingRequest(id: 7, padding: 3000)
    static let datagram = PacketBuilder.udp(source: DecodeHarness.client, destination: DecodeHarness.server, payload: stun)

    static func ipv4Fragments(size: Int = 1480, identification: UInt16 = 42) -> [[UInt8]] {
        stride(from: 0, to: datagram.count, by: size).map { offset in
            let end = min(offset + size, datagram.count)
            let packet = PacketBuilder.ipv4(
                source: DecodeHarness.client.ip, destination: DecodeHarness.server.ip, protocol: 17,
                payload: Array(datagram[offset..<end]), identification: identification, fragmentOffset: offset,
                moreFragments: end < datagram.count)
            return PacketBuilder.ethernet(packet, etherType: 0x0800)
        }
    }

    @Test("IPv4 fragments in order reassemble into one STUN message (RFC 791)")
    func inOrder() {
        var harness = DecodeHarness()
        for fragment in Self.ipv4Fragments() { harness.feed(fragment) }
        #expect(harness.outputs.map(\.kind) == [.stun])
        #expect(harness.outputs.first?.bytes == Self.stun)
        #expect(harness.outputs.first?.packet == 3)
        #expect(harness.decoder.counters.ipFragments == 3)
        #expect(harness.decoder.counters.reassembledDatagrams == 1)
        #expect(harness.decoder.counters.udp == 1)
    }

    @Test("IPv4 fragments out of order and duplicated still reassemble once")
    func outOfOrder() {
        var harness = DecodeHarness()
        let fragments = Self.ipv4Fragments()
        for index in [2, 0, 0, 1] { harness.feed(fragments[index]) }
        #expect(harness.outputs.map(\.kind) == [.stun])
        #expect(harness.outputs.first?.bytes == Self.stun)
        #expect(harness.decoder.fragments.overlaps == 1)
    }

    @Test("Overlapping fragments keep the first bytes and are reported")
    func overlapping() {
        var harness = DecodeHarness()
        var fragments = Self.ipv4Fragments(size: 1480)
        // A second copy of the middle fragment with different bytes must not replace the first.
        var forged = PacketBuilder.ipv4(
            source: DecodeHarness.client.ip, destination: DecodeHarness.server.ip, protocol: 17,
            payload: Array(repeating: 0xEE, count: 1480), identification: 42, fragmentOffset: 1480, moreFragments: true)
        forged = PacketBuilder.ethernet(forged, etherType: 0x0800)
        fragments.insert(forged, at: 2)
        for fragment in fragments { harness.feed(fragment) }
        #expect(harness.outputs.first?.bytes == Self.stun)
        #expect(harness.log.count(.fragmentOverlap) == 1)
    }

    @Test("IPv6 fragments reassemble (RFC 8200 §4.5)")
    func ipv6() {
        let stun = DecodeHarness.bindingRequest(id: 9, padding: 2000)
        let udp = PacketBuilder.udp(source: DecodeHarness.client6, destination: DecodeHarness.server6, payload: stun)
        var harness = DecodeHarness()
        for offset in stride(from: 0, to: udp.count, by: 1232) {
            let end = min(offset + 1232, udp.count)
            let header = PacketBuilder.ipv6FragmentHeader(offset: offset, more: end < udp.count, identification: 0xABCD)
            let packet = PacketBuilder.ipv6(
                source: DecodeHarness.client6.ip, destination: DecodeHarness.server6.ip, protocol: 17,
                payload: Array(udp[offset..<end]), extensionHeaders: [header])
            harness.feed(packet, link: .ipv6)
        }
        #expect(harness.outputs.map(\.kind) == [.stun])
        #expect(harness.outputs.first?.bytes == stun)
    }

    @Test("An incomplete datagram expires after the timeout and the next one still works")
    func timeout() {
        var harness = DecodeHarness()
        let fragments = Self.ipv4Fragments()
        harness.feed(fragments[0], seconds: 1_700_000_000)
        harness.feed(Self.ipv4Fragments(identification: 43)[0], seconds: 1_700_000_100)
        #expect(harness.decoder.fragments.timedOut == 1)
        #expect(harness.decoder.fragments.datagramsInFlight == 1)
    }

    @Test("A flood of first fragments stays within the in-flight cap")
    func flood() {
        var harness = DecodeHarness()
        for identification in 0..<UInt16(Limits.fragmentDatagramsInFlight + 200) {
            harness.feed(Self.ipv4Fragments(identification: identification)[0])
        }
        #expect(harness.decoder.fragments.datagramsInFlight <= Limits.fragmentDatagramsInFlight)
        #expect(harness.decoder.fragments.evicted == 200)
    }

    @Test("A long capture of datagrams dropped part-way: the bytes they held are given back, so reassembly never stops")
    func droppedDatagramsFreeTheirBytes() {
        var harness = DecodeHarness()
        // 12 000 datagrams whose first fragment is held, then a fragment reaching past 65 535 bytes drops them:
        // 17 MB in all, more than the 16 MiB of buffers if the dropped bytes stayed counted.
        for index in 0..<12_000 {
            let identification = UInt16(index % 60_000)
            harness.feed(Self.ipv4Fragments(identification: identification)[0])
            let beyond = PacketBuilder.ipv4(
                source: DecodeHarness.client.ip, destination: DecodeHarness.server.ip, protocol: 17,
                payload: Array(repeating: 0, count: 1_480), identification: identification, fragmentOffset: 64_800,
                moreFragments: true)
            harness.feed(PacketBuilder.ethernet(beyond, etherType: 0x0800))
        }
        #expect(harness.decoder.fragments.datagramsInFlight == 0)
        #expect(harness.decoder.fragments.bytesInFlight == 0)
        #expect(harness.decoder.fragments.evicted == 0)
        // A datagram after all that still reassembles.
        for fragment in Self.ipv4Fragments(identification: 60_001) { harness.feed(fragment) }
        #expect(harness.outputs.map(\.kind) == [.stun])
        #expect(harness.outputs.first?.bytes == Self.stun)
    }
}
