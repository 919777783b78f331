import Testing
import WeDio
import WeDioAnalysis
import WeDioTestSupport

/// Every public corpus capture opens and yields the packet, UDP and TCP counts tshark gives.
@Suite("Public corpus packet counts", .enabled(if: Fixtures.corpusIsPresent, "../shared/corpus/public is absent"))
struct CorpusCountTests {
    /// (frames, UDP packets, TCP segments) per file, from TShark 4.0.17:
    ///   tshark -n -r FILE | wc -l
    ///   tshark -n -r FILE -Y "udp && !icmp && !icmpv6" | wc -l
    ///   tshark -n -r FILE -Y "tcp && !icmp && !icmpv6" | wc -l
    /// (ICMP errors quote a UDP/TCP header that tshark's `udp` filter also matches; they carry no datagram.)
    static let expected: [String: (packets: Int, udp: Int, tcp: Int)] = [
        "Malcolm-Test-Artifacts__STUN.pcap": (162, 153, 9),
        "arkime__stun.pcap": (8, 5, 3),
        "arkime__turn.pcap": (27, 0, 27),
        "mercury__stun.pcap": (4, 4, 0),
        "mercury__stun_classic.pcap": (2, 2, 0),
        "nDPI__adult_content.pcap": (25, 25, 0),
        "nDPI__geforcenow.pcapng": (108, 54, 54),
        "nDPI__hangout.pcap": (19, 19, 0),
        "nDPI__lru_ipv6_caches.pcapng": (88, 79, 9),
        "nDPI__skype-conference-call.pcap": (200, 200, 0),
        "nDPI__stun.pcap": (201, 165, 35),
        "nDPI__stun_classic.pcap": (22, 22, 0),
        "nDPI__stun_dtls_rtp.pcapng": (102, 39, 63),
        "nDPI__stun_dtls_rtp_unidir.pcapng": (43, 43, 0),
        "nDPI__stun_dtls_unidirectional_client.pcap": (6, 6, 0),
        "nDPI__stun_dtls_unidirectional_server.pcap": (6, 6, 0),
        "nDPI__stun_google_meet.pcapng": (362, 362, 0),
        "nDPI__stun_msteams_unidir.pcapng": (12, 12, 0),
        "nDPI__stun_signal.pcapng": (460, 407, 0),
        "nDPI__stun_tcp_multiple_msgs_same_pkt.pcap": (5, 0, 5),
        "nDPI__stun_wa_call.pcapng": (591, 590, 0),
        "nDPI__stun_zoom.pcapng": (70, 70, 0),
        "nDPI__teams.pcap": (1540, 179, 1317),
        "nDPI__telegram_videocall.pcapng": (889, 232, 644),
        "nDPI__viber.pcap": (466, 131, 327),
        "nDPI__wa_video.pcap": (781, 648, 133),
        "nDPI__wa_voice.pcap": (736, 298, 432),
        "nDPI__whatsapp_login_call.pcap": (1253, 832, 409),
        "nDPI__whatsapp_voice_and_message.pcap": (261, 44, 217),
        "nDPI__zoom.pcap": (781, 318, 457),
        "nDPI__zoom_p2p.pcapng": (763, 710, 0),
        "peafowl__hangout.pcap": (100, 100, 0),
        "peafowl__whatsapp.pcap": (233, 67, 161),
        "tea__h5-play-stun.pcapng": (12, 12, 0),
        "zeek-spicy-stun__stun-attribute-length-ffff.pcap": (2, 2, 0),
        "zeek-spicy-stun__stun-ice-testcall.pcap": (108, 108, 0),
        "zeek-spicy-stun__stun-malformed-error.pcap": (2, 2, 0),
        "zeek__webrtc-stun.pcap": (14, 14, 0),
    ]

    @Test("Counts equal tshark's", arguments: expected.keys.sorted())
    func counts(file: String) throws {
        let counts = try #require(Self.expected[file])
        let result = Pipeline().analyze([InputSpec(path: Fixtures.corpus(file))])
        let input = try #require(result.inputs.first)
        #expect(input.status == .complete, "\(input.failure ?? "")")
        #expect(input.packets == counts.packets)
        #expect(result.statistics.udpPackets == counts.udp)
        #expect(result.statistics.tcpSegments == counts.tcp)
    }

    @Test("Every corpus file is listed here")
    func everyFileListed() {
        #expect(Set(Fixtures.corpusFiles) == Set(Self.expected.keys))
    }
}
