import Testing
import WeDioBasics
import WeDioDecode
import WeDioTestSupport

@Suite("Link and IP decoding")
struct LinkAndIPTests {
    static let stun = DecodeHarness.bindingRequest()
    static var ipv4Packet: [UInt8] {
        let udp = PacketBuilder.udp(source: DecodeHarness.client, destination: DecodeHarness.server, payload: stun)
        return PacketBuilder.ipv4(source: DecodeHarness.client.ip, destination: DecodeHarness.server.ip, protocol: 17, payload: udp)
    }
    static var ipv6Packet: [UInt8] {
        let udp = PacketBuilder.udp(source: DecodeHarness.client6, destination: DecodeHarness.server6, payload: stun)
        return PacketBuilder.ipv6(source: DecodeHarness.client6.ip, destination: DecodeHarness.server6.ip, protocol: 17, payload: udp)
    }

    static func decodeOne(_ frame: [UInt8], link: LinkType) -> DecodeHarness {
        var harness = DecodeHarness()
        harness.feed(frame, link: link)
        return harness
    }

    @Test(
        "Each link type finds the STUN message",
        arguments: [
            ("EN10MB", LinkType.ethernet, PacketBuilder.ethernet(ipv4Packet, etherType: 0x0800)),
            ("802.1Q", .ethernet, PacketBuilder.ethernet(ipv4Packet, etherType: 0x0800, vlanTags: [100])),
            ("QinQ 802.1ad", .ethernet, PacketBuilder.ethernet(ipv4Packet, etherType: 0x0800, vlanTags: [200, 100], outerTagType: 0x88A8)),
            ("QinQ 0x9100", .ethernet, PacketBuilder.ethernet(ipv6Packet, etherType: 0x86DD, vlanTags: [200, 100], outerTagType: 0x9100)),
            ("LINUX_SLL", .linuxSLL, [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00] + ipv4Packet),
            ("LINUX_SLL2", .linuxSLL2, [0x86, 0xDD, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0] + ipv6Packet),
            ("NULL little-endian", .null, [2, 0, 0, 0] + ipv4Packet),
            ("NULL big-endian IPv6 (macOS 30)", .null, [0, 0, 0, 30] + ipv6Packet),
            ("LOOP", .loop, [0, 0, 0, 24] + ipv6Packet),
            ("RAW v4", .raw, ipv4Packet),
            ("RAW v6", .raw, ipv6Packet),
            ("IPV4", .ipv4, ipv4Packet),
            ("IPV6", .ipv6, ipv6Packet),
        ])
    func linkTypes(name: String, link: LinkType, frame: [UInt8]) {
        let harness = Self.decodeOne(frame, link: link)
        #expect(harness.outputs.map(\.kind) == [.stun], "\(name)")
        #expect(harness.outputs.first?.bytes == Self.stun, "\(name)")
        #expect(harness.log.total == 0, "\(name): \(harness.log.samples)")
    }

    @Test("IPv4 options are skipped by IHL")
    func ipv4Options() {
        let udp = PacketBuilder.udp(source: DecodeHarness.client, destination: DecodeHarness.server, payload: Self.stun)
        let packet = PacketBuilder.ipv4(
            source: DecodeHarness.client.ip, destination: DecodeHarness.server.ip, protocol: 17, payload: udp,
            options: [0x94, 0x04, 0, 0])  // Router Alert
        let harness = Self.decodeOne(PacketBuilder.ethernet(packet, etherType: 0x0800), link: .ethernet)
        #expect(harness.outputs.map(\.kind) == [.stun])
    }

    @Test("IPv6 extension headers are walked (hop-by-hop, destination options, routing)")
    func ipv6ExtensionHeaders() {
        let udp = PacketBuilder.udp(source: DecodeHarness.client6, destination: DecodeHarness.server6, payload: Self.stun)
        let options: [UInt8] = [0, 0, 1, 4, 0, 0, 0, 0]  // next header, length 0, PadN
        let packet = PacketBuilder.ipv6(
            source: DecodeHarness.client6.ip, destination: DecodeHarness.server6.ip, protocol: 17, payload: udp,
            extensionHeaders: [(0, options), (60, options), (43, [0, 0, 0, 0, 0, 0, 0, 0])])
        let harness = Self.decodeOne(packet, link: .ipv6)
        #expect(harness.outputs.map(\.kind) == [.stun])
        #expect(harness.outputs.first?.flow.source == DecodeHarness.client6)
    }

    @Test("An endless IPv6 extension-header chain stops at the cap as malformed")
    func ipv6HeaderChainCap() {
        let options: [UInt8] = [0, 0, 1, 4, 0, 0, 0, 0]
        let chain = Array(repeating: (UInt8(60), options), count: Limits.ipv6ExtensionHeaders + 2)
        let packet = PacketBuilder.ipv6(
            source: DecodeHarness.client6.ip, destination: DecodeHarness.server6.ip, protocol: 17, payload: [],
            extensionHeaders: chain.map { (type: $0.0, bytes: $0.1) })
        let harness = Self.decodeOne(packet, link: .ipv6)
        #expect(harness.outputs.isEmpty)
        #expect(harness.log.count(.malformedIP) == 1)
    }

    @Test("Snaplen cuts are truncated, lying lengths are malformed (never the other way round)")
    func truncatedVersusMalformed() {
        let frame = PacketBuilder.ethernet(Self.ipv4Packet, etherType: 0x0800)
        var harness = DecodeHarness()
        harness.feed(Array(frame.prefix(40)), wireLength: frame.count)  // the capture cut it inside UDP
        harness.feed(Array(frame.prefix(20)), wireLength: frame.count)  // cut inside the IP header
        #expect(harness.log.count(.truncated) == 2)
        #expect(harness.decoder.counters.truncated == 2)
        var lying = Self.ipv4Packet
        lying[2] = 0x0F  // total length 0x0F..: more than the packet holds, though nothing was cut
        harness.feed(PacketBuilder.ethernet(lying, etherType: 0x0800))
        #expect(harness.log.count(.malformedIP) == 1)
        #expect(harness.decoder.counters.malformed == 1)
    }

    @Test("Unknown link types and non-IP frames are counted, not fatal")
    func unknownLinkTypes() {
        var harness = DecodeHarness()
        harness.feed([1, 2, 3, 4], link: .other(147))
        harness.feed(PacketBuilder.ethernet([0, 1, 8, 0, 6, 4, 0, 1], etherType: 0x0806))  // ARP
        #expect(harness.log.count(.unsupportedLinkType) == 1)
        #expect(harness.decoder.counters.nonIP == 1)
        #expect(harness.outputs.isEmpty)
    }
}
