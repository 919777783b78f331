import Testing
import WeDioBasics
import WeDioDecode
import WeDioSTUN
import WeDioTestSupport

@Suite("TCP stream reassembly and framing")
struct TCPStreamTests {
    static let client = TransportAddress(ip: .v4(0x0A00_0001), port: 50_001)
    static let server = TransportAddress(ip: .v4(0x0A00_0002), port: 3478)

    static func segment(_ sequence: UInt32, _ payload: [UInt8], flags: UInt8 = 0x18) -> [UInt8] {
        PacketBuilder.tcpFrame(from: client, to: server, sequence: sequence, flags: flags, payload: payload)
    }

    /// Three messages back to back: STUN, padded ChannelData, STUN (RFC 8489 §6.2.2, RFC 8656 §12.5).
    static let first = DecodeHarness.bindingRequest(id: 1)
    static let channel = STUNEncoder.channelData(channel: 0x4001, data: [1, 2, 3, 4, 5], padded: true)
    static let second = DecodeHarness.bindingRequest(id: 2, padding: 100)
    static let stream = first + channel + second

    static func expectMessages(_ harness: DecodeHarness) {
        #expect(harness.outputs.map(\.kind) == [.stun, .channelData(channel: 0x4001), .stun])
        #expect(harness.outputs.map(\.bytes) == [first, Array(channel.prefix(9)), second])
        #expect(harness.outputs.allSatisfy { $0.framing == .stun })
    }

    @Test("Whole stream in one segment, after a SYN")
    func allAtOnce() {
        var harness = DecodeHarness()
        harness.feed(Self.segment(999, [], flags: 0x02))
        harness.feed(Self.segment(1000, Self.stream))
        Self.expectMessages(harness)
    }

    @Test("Drip-fed one byte per segment gives the same messages")
    func dripFed() {
        var harness = DecodeHarness()
        for (index, byte) in Self.stream.enumerated() { harness.feed(Self.segment(1000 + UInt32(index), [byte])) }
        Self.expectMessages(harness)
    }

    @Test("Out-of-order, retransmitted and overlapping segments deliver each message once")
    func outOfOrderAndRetransmitted() {
        var harness = DecodeHarness()
        let stream = Self.stream
        let cuts = [0, 7, 30, 50, 90, stream.count]
        let pieces = (0..<(cuts.count - 1)).map { (UInt32(1000 + cuts[$0]), Array(stream[cuts[$0]..<cuts[$0 + 1]])) }
        harness.feed(Self.segment(999, [], flags: 0x02))
        harness.feed(Self.segment(pieces[0].0, pieces[0].1))
        harness.feed(Self.segment(pieces[2].0, pieces[2].1))  // arrives early
        harness.feed(Self.segment(pieces[1].0, pieces[1].1))
        harness.feed(Self.segment(pieces[1].0, pieces[1].1))  // retransmission
        harness.feed(Self.segment(pieces[4].0, pieces[4].1))  // early again
        // Overlap: bytes 40..<90 when 50 are already there.
        harness.feed(Self.segment(1040, Array(stream[40..<90])))
        harness.feed(Self.segment(pieces[4].0, pieces[4].1))  // retransmission of a held segment
        Self.expectMessages(harness)
        let counters = harness.decoder.streams.counters
        #expect(counters.retransmissions == 2)
        #expect(counters.overlaps == 1)
        #expect(counters.outOfOrder == 2)
    }

    @Test("RFC 4571 framing (ICE-TCP, RFC 6544): 2-byte length prefix, inner STUN classified")
    func rfc4571() {
        var harness = DecodeHarness()
        var stream: [UInt8] = []
        for message in [Self.first, Self.second] {
            stream += [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
        }
        harness.feed(Self.segment(1, Array(stream.prefix(50))))
        harness.feed(Self.segment(51, Array(stream.dropFirst(50))))
        #expect(harness.outputs.map(\.kind) == [.stun, .stun])
        #expect(harness.outputs.map(\.bytes) == [Self.first, Self.second])
        #expect(harness.outputs.allSatisfy { $0.framing == .rfc4571 })
    }

    @Test("A lost segment is a gap: counted, framing resynchronised on the next message")
    func gap() {
        var harness = DecodeHarness()
        harness.feed(Self.segment(1, Self.first))
        // Bytes 1+first.count ..< +100 never arrive; enough held data after the hole forces a skip.
        var sequence = UInt32(1 + Self.first.count + 100)
        harness.feed(Self.segment(sequence, Self.second))
        sequence += UInt32(Self.second.count)
        let filler = Array(repeating: UInt8(0xAB), count: 60_000)
        for _ in 0..<(Limits.tcpOutOfOrderBytesPerFlow / filler.count + 1) {
            harness.feed(Self.segment(sequence, filler))
            sequence += UInt32(filler.count)
        }
        #expect(harness.decoder.streams.counters.gaps == 1)
        #expect(harness.log.count(.tcpGap) == 1)
        #expect(harness.outputs.map(\.bytes) == [Self.first, Self.second])
    }

    @Test("Streams that are not STUN are followed without buffering")
    func notSTUN() {
        var harness = DecodeHarness()
        harness.feed(Self.segment(1, Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8)))
        harness.feed(Self.segment(35, Array(repeating: 0x41, count: 5000)))
        #expect(harness.outputs.isEmpty)
        #expect(harness.decoder.streams.bufferedBytes == 0)
    }

    @Test("TLS streams (TURN over TLS) are counted as TLS bytes, not buffered")
    func tls() {
        var harness = DecodeHarness()
        harness.feed(Self.segment(1, [0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0]))
        harness.feed(Self.segment(11, [0x17, 0x03, 0x03, 0x00, 0x02, 9, 9]))
        #expect(harness.outputs.map(\.kind) == [.tls, .tls])
        #expect(harness.decoder.streams.bufferedBytes == 0)
    }

    @Test("A million-flow flood stays under the tracked-stream cap")
    func manyFlows() {
        var harness = DecodeHarness()
        for port in 0..<(Limits.tcpFlows + 500) {
            let source = TransportAddress(ip: .v4(0x0A00_0000 | UInt32(port >> 16)), port: UInt16(truncatingIfNeeded: port))
            harness.feed(PacketBuilder.tcpFrame(from: source, to: Self.server, sequence: 1, payload: Array(Self.first.prefix(10))))
        }
        #expect(harness.decoder.streams.trackedStreams <= Limits.tcpFlows)
        #expect(harness.decoder.streams.counters.evictedStreams > 0)
    }
}
