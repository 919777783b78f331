import WeDioBasics
import WeDioDecode
import WeDioSTUN
import WeDioTestSupport

/// Feeds packets to a PacketDecoder and collects what comes out.
struct DecodeHarness {
    struct Output: Equatable {
        var kind: PayloadKind
        var flow: FiveTuple
        var framing: StreamFraming?
        var bytes: [UInt8]
        var packet: Int
    }

    var decoder = PacketDecoder()
    var log = DiagnosticLog()
    var outputs: [Output] = []
    var packets = 0

    mutating func feed(_ frame: [UInt8], link: LinkType = .ethernet, wireLength: Int? = nil, seconds: Int64 = 1_700_000_000) {
        packets += 1
        var collected: [Output] = []
        let number = packets
        decoder.decode(
            link: link, ref: PacketRef(input: 0, packet: number), time: CaptureTime(seconds: seconds),
            wireLength: wireLength ?? frame.count, bytes: frame.span, log: &log
        ) { payload, bytes in
            collected.append(
                Output(
                    kind: payload.kind, flow: payload.flow, framing: payload.framing,
                    bytes: ByteCursor.copy(bytes, 0..<bytes.count), packet: number))
        }
        outputs += collected
    }

    static let client = TransportAddress(ip: .v4(0x0A00_0001), port: 50_000)
    static let server = TransportAddress(ip: .v4(0x0A00_0002), port: 3478)
    static let client6 = TransportAddress(ip: IPAddress("fd00::1")!, port: 50_000)  // safe: literal
    static let server6 = TransportAddress(ip: IPAddress("fd00::2")!, port: 3478)  // safe: literal

    /// A real-shaped Binding request (with SOFTWARE and FINGERPRINT) of roughly `size` bytes.
    static func bindingRequest(id: UInt128 = 1, padding: Int = 0) -> [UInt8] {
        var attributes = [STUNAttribute(type: .software, value: .text("wedio test"))]
        if padding > 0 { attributes.append(STUNAttribute(type: .padding, value: .bytes(Array(repeating: 0, count: padding)))) }
        attributes.append(STUNAttribute(type: .fingerprint, value: .uint32(0)))
        let message = STUNMessage(
            method: .binding, messageClass: .request, transactionID: TransactionID(value: id, isClassic: false),
            attributes: attributes)
        return STUNEncoder.encode(message, fillFingerprint: true)
    }
}
