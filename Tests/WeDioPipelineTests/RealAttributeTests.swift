import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// Typed attributes decoded from real captures, values checked against tshark's fields
/// (`tshark -n -r FILE -Y "stun.att.type==0x…" -T fields -e frame.number -e …`).
@Suite("Attributes from real traffic", .enabled(if: Fixtures.corpusIsPresent, "../shared/corpus/public is absent"))
struct RealAttributeTests {
    static func message(_ file: String, frame: Int) throws -> STUNMessage {
        let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: Fixtures.corpus(file))])
        return try #require(result.messages.first { $0.ref.packet == frame && $0.carrier == .direct }).message
    }

    static func address(_ text: String) throws -> TransportAddress { try #require(TransportAddress(text)) }

    @Test("GOOG-NETWORK-INFO: network id 0, cost 999 (geforcenow frame 43)")
    func googNetworkInfo() throws {
        let message = try Self.message("nDPI__geforcenow.pcapng", frame: 43)
        #expect(message.value(.googNetworkInfo) == .googNetworkInfo(networkID: 0, cost: 999))
    }

    @Test("libwebrtc NOMINATION 0xC001 in an ICE check (Signal frame 103)")
    func nomination() throws {
        let message = try Self.message("nDPI__stun_signal.pcapng", frame: 103)
        #expect(message.value(.nomination) == .nomination(1))
        #expect(message.attribute(.nomination)?.name == "NOMINATION")
    }

    @Test("MS-VERSION 6 and MS-TURN attributes without padding (Teams frame 1238)")
    func msVersion() throws {
        let message = try Self.message("nDPI__teams.pcap", frame: 1238)
        #expect(message.isMSTURN)
        #expect(message.value(.msVersion) == .uint32(6))
        #expect(message.value(.msMagicCookie) == .uint32(0x72C6_4BC6))
    }

    @Test("MS-SERVICE-QUALITY stream type 2, quality 0 (Malcolm frame 156)")
    func msServiceQuality() throws {
        let message = try Self.message("Malcolm-Test-Artifacts__STUN.pcap", frame: 156)
        #expect(message.value(.msServiceQuality) == .msServiceQuality(streamType: 2, quality: 0))
    }

    @Test("RFC 5780 response: MAPPED, XOR-MAPPED, RESPONSE-ORIGIN, OTHER-ADDRESS (mercury frame 2)")
    func rfc5780Response() throws {
        let message = try Self.message("mercury__stun.pcap", frame: 2)
        #expect(message.value(.mappedAddress) == .address(try Self.address("136.56.4.69:52380")))
        #expect(message.value(.xorMappedAddress) == .xorAddress(try Self.address("136.56.4.69:52380")))
        #expect(message.value(.responseOrigin) == .address(try Self.address("3.132.228.249:3478")))
        #expect(message.value(.otherAddress) == .address(try Self.address("3.135.212.85:3479")))
    }

    @Test("CHANGE-REQUEST in an RFC 5780 request (mercury frame 1)")
    func changeRequest() throws {
        let message = try Self.message("mercury__stun.pcap", frame: 1)
        guard case .changeRequest = message.value(.changeRequest) else {
            Issue.record("CHANGE-REQUEST not typed: \(String(describing: message.value(.changeRequest)))")
            return
        }
    }

    @Test("CHANNEL-NUMBER 0x4000 in a ChannelBind (adult_content frame 12)")
    func channelNumber() throws {
        let message = try Self.message("nDPI__adult_content.pcap", frame: 12)
        #expect(message.method == .channelBind)
        #expect(message.value(.channelNumber) == .channelNumber(0x4000))
        guard case .xorAddress = message.value(.xorPeerAddress) else {
            Issue.record("XOR-PEER-ADDRESS not typed")
            return
        }
    }

    @Test("RESERVATION-TOKEN 0x077d6bb4d9d23091 (Malcolm frame 23)")
    func reservationToken() throws {
        let message = try Self.message("Malcolm-Test-Artifacts__STUN.pcap", frame: 23)
        #expect(message.value(.reservationToken) == .uint64(0x077D_6BB4_D9D2_3091))
    }

    @Test("ERROR-CODE 437 with its reason as sent (stun_dtls_rtp_unidir frame 4)")
    func allocationMismatch() throws {
        let message = try Self.message("nDPI__stun_dtls_rtp_unidir.pcapng", frame: 4)
        #expect(message.value(.errorCode) == .errorCode(code: 437, reason: "Mismatched allocation: wrong transaction ID"))
        #expect(STUNErrorCodes.reason(for: 437) == "Allocation Mismatch")
    }

    @Test("GOOG-MISC-INFO as a list of 16-bit values (Google Meet frame 5)")
    func googMiscInfo() throws {
        let message = try Self.message("nDPI__stun_google_meet.pcapng", frame: 5)
        #expect(message.value(.googMiscInfo) == .googMiscInfo([1]))
    }

    @Test("ICE check attributes: USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MI, FINGERPRINT (Zeek WebRTC)")
    func iceCheck() throws {
        let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true))
            .analyze([InputSpec(path: Fixtures.corpus("zeek__webrtc-stun.pcap"))])
        let check = try #require(result.messages.first { $0.message.value(.useCandidate) != nil })
        #expect(check.message.value(.useCandidate) == .empty)
        guard case .uint32 = check.message.value(.priority), case .uint64 = check.message.value(.iceControlling),
            case .text(let username) = check.message.value(.username)
        else {
            Issue.record("ICE attributes not typed")
            return
        }
        #expect(username.contains(":"))
        #expect(check.fingerprint == .verified)
        #expect(check.integrity == .noKey)
    }
}
