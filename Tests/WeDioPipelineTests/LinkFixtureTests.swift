import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// Real coturn traffic (fixtures/lab/make-link-fixtures.sh) read through libpcap in every link type.
@Suite("Link-type fixtures through libpcap")
struct LinkFixtureTests {
    static func analyze(_ relative: String) -> AnalysisResult {
        Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true)).analyze([InputSpec(path: Fixtures.path(relative))])
    }

    static func ids(_ result: AnalysisResult, where include: (MessageRecord) -> Bool = { _ in true }) -> [String] {
        result.messages.filter { $0.carrier == .direct && include($0) }.map(\.message.transactionID.hex)
    }

    static let reference = analyze("link/ethernet-lo.pcap")

    @Test(
        "Every link type yields the same STUN messages as the Ethernet capture",
        arguments: [
            ("link/ethernet-lo.pcap", "EN10MB", 4), ("link/linux-sll.pcap", "LINUX_SLL", 4),
            ("link/linux-sll2.pcap", "LINUX_SLL2", 4), ("link/null.pcap", "NULL", 4), ("link/loop.pcap", "LOOP", 4),
            ("link/raw.pcap", "RAW", 4), ("link/vlan-8021q.pcap", "EN10MB", 4), ("link/vlan-qinq.pcap", "EN10MB", 4),
            ("link/ipv4.pcap", "IPV4", 1), ("link/ipv6.pcap", "IPV6", 2),
        ])
    func sameMessages(path: String, linkType: String, families: Int) {
        let result = Self.analyze(path)
        #expect(result.inputs.first?.linkType == linkType)
        #expect(result.inputs.first?.status == .complete)
        #expect(result.inputs.first?.errors.isEmpty == true, "\(result.inputs.first?.errorSamples ?? [])")
        let filter: (MessageRecord) -> Bool =
            switch families {
            case 1: { $0.flow.source.ip.isIPv4 }
            case 2: { !$0.flow.source.ip.isIPv4 }
            default: { _ in true }
            }
        #expect(Self.ids(result) == Self.ids(Self.reference, where: filter))
        #expect(result.statistics.stunMessages == Self.ids(result).count)
    }

    @Test("The Ethernet capture holds what coturn's tools sent: RFC 5780 Binding, TURN auth, ChannelBind, ChannelData")
    func referenceContents() {
        let stats = Self.reference.statistics
        #expect(stats.packets == 52)
        #expect(stats.stunMessages == 40)  // tshark -Y stun.type: 40 frames
        #expect(stats.channelData == 6)  // tshark -Y stun.channel: 6 frames
        #expect(stats.malformed == 0)
        #expect(stats.fingerprintFailures == 0)
        let counts = Self.reference.methodCounts
        #expect(counts["Binding request"] == 6)
        #expect(counts["Binding success"] == 6)
        #expect(counts["Allocate error"] == 2)
        #expect(counts["Allocate success"] == 2)
        let allocateError = Self.reference.messages.first { $0.message.method == .allocate && $0.message.messageClass == .errorResponse }
        #expect(allocateError?.message.value(.errorCode) == .errorCode(code: 401, reason: "Unauthorized"))
        #expect(allocateError?.message.value(.realm) == .text("wedio.test"))
    }

    @Test("Long-term credentials verify coturn's authenticated requests and their responses")
    func longTermIntegrity() {
        var store = CredentialStore()
        store.addTURN(username: "alice", password: "wonderland")
        let result = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true, credentials: store))
            .analyze([InputSpec(path: Fixtures.path("link/ethernet-lo.pcap"))])
        let authenticated = result.messages.filter { $0.message.value(.username) == .text("alice") }
        #expect(authenticated.count >= 8)
        #expect(authenticated.allSatisfy { $0.integrity == .verified })
        let answered = result.messages.filter { $0.message.messageClass == .successResponse && $0.message.method != .binding }
        #expect(!answered.isEmpty)
        #expect(answered.allSatisfy { $0.integrity == .verified })
        #expect(result.statistics.integrityFailures == 0)
        var wrong = CredentialStore()
        wrong.addTURN(username: "alice", password: "not-the-password")
        let failing = Pipeline(analyzerOptions: Analyzer.Options(keepMessages: true, credentials: wrong))
            .analyze([InputSpec(path: Fixtures.path("link/ethernet-lo.pcap"))])
        #expect(failing.statistics.integrityFailures == authenticated.count + answered.count)
    }

    @Test("Fragmented IPv4 and IPv6 STUN (MTU 1280) reassembles into the four messages tshark shows")
    func fragments() {
        let result = Self.analyze("fragments/padded-binding-mtu1280.pcap")
        #expect(result.statistics.stunMessages == 4)
        #expect(result.messages.map(\.ref.packet) == [3, 5, 8, 10])
        #expect(result.messages.allSatisfy { $0.fingerprint == .verified || $0.fingerprint == .absent })
        let request = result.messages.first
        if case .bytes(let padding) = request?.message.value(.padding) { #expect(padding.count == 3000) } else {
            Issue.record("PADDING missing")
        }
    }
}
