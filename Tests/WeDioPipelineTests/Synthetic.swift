import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// Builds a capture of STUN messages between given addresses at given times (seconds from an epoch),
/// for behaviour the lab's real stacks do not produce on demand.
struct SyntheticCapture {
    private var writer = PcapWriter(linkType: 1)
    private var nextID: UInt128 = 1

    var bytes: [UInt8] { writer.bytes }

    mutating func newID() -> TransactionID {
        defer { nextID += 1 }
        return TransactionID(value: 0xAB00_0000 + nextID, isClassic: false)
    }

    mutating func add(
        _ method: STUNMethod, _ messageClass: STUNClass, id: TransactionID, from: String, to: String, at seconds: Double,
        _ attributes: [STUNAttribute] = [], key: STUNKey? = nil, corruptFingerprint: Bool = false
    ) {
        guard let source = TransportAddress(from), let destination = TransportAddress(to) else { return }
        var message = STUNMessage(
            method: method, messageClass: messageClass, transactionID: id,
            attributes: attributes + [STUNAttribute(type: .fingerprint, value: .uint32(0))])
        var encoded = STUNEncoder.encode(message, key: key, fillFingerprint: true)
        if corruptFingerprint, let last = encoded.indices.last { encoded[last] ^= 0xFF }
        message.attributes = []
        let whole = seconds.rounded(.down)
        writer.add(
            PacketBuilder.udpFrame(from: source, to: destination, payload: encoded),
            seconds: UInt32(1_700_000_000 + Int(whole)), fraction: UInt32(((seconds - whole) * 1_000_000).rounded()))
    }

    /// A Binding request from `client` to `server` (with `attributes`), answered `after` seconds later with
    /// `mapped` as XOR-MAPPED-ADDRESS.
    mutating func answeredBinding(
        from client: String, to server: String, mapped: String, at seconds: Double, after delay: Double = 0.01,
        _ attributes: [STUNAttribute] = []
    ) {
        let id = newID()
        add(.binding, .request, id: id, from: client, to: server, at: seconds, attributes)
        add(.binding, .successResponse, id: id, from: server, to: client, at: seconds + delay, [Self.address(.xorMappedAddress, mapped)])
    }

    /// Adds a frame built elsewhere (TCP segments) at `seconds`.
    mutating func addFrame(_ frame: [UInt8], at seconds: Double) {
        let whole = seconds.rounded(.down)
        writer.add(frame, seconds: UInt32(1_700_000_000 + Int(whole)), fraction: UInt32(((seconds - whole) * 1_000_000).rounded()))
    }

    /// `requests` ICE checks with one USERNAME from ever-new ports, every third answered, with RTP on the
    /// answered flows: a flood that crosses every cap of the trackers.
    static func flood(requests: Int) -> SyntheticCapture {
        var capture = SyntheticCapture()
        for index in 0..<requests {
            let client = "10.9.\(index / 250 % 250).\(index % 250 + 1):\(1_024 + index % 60_000)"
            let time = Double(index) * 0.0002
            if index % 3 == 0 {
                capture.answeredBinding(
                    from: client, to: "192.0.2.1:3478", mapped: "203.0.113.5:\(1_024 + index % 60_000)", at: time,
                    after: 0.00005, check(local: "abcd", remote: "efgh"))
                capture.addFrame(
                    PacketBuilder.udpFrame(
                        from: TransportAddress(client) ?? TransportAddress(ip: .v4(0), port: 0),
                        to: TransportAddress(ip: .v4(0xC000_0201), port: 3478),
                        payload: [0x80, 0x60, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 7] + [UInt8](repeating: 0, count: 100)),
                    at: time + 0.0001)
            } else {
                capture.add(.binding, .request, id: capture.newID(), from: client, to: "192.0.2.1:3478", at: time,
                    check(local: "abcd", remote: "efgh"))
            }
        }
        return capture
    }

    static func text(_ type: AttributeType, _ value: String) -> STUNAttribute { STUNAttribute(type: type, value: .text(value)) }
    static func address(_ type: AttributeType, _ value: String) -> STUNAttribute {
        STUNAttribute(type: type, value: .xorAddress(TransportAddress(value) ?? TransportAddress(ip: .v4(0), port: 0)))
    }
    static func error(_ code: Int, _ reason: String) -> STUNAttribute {
        STUNAttribute(type: .errorCode, value: .errorCode(code: code, reason: reason))
    }
    static let integrity = STUNAttribute(type: .messageIntegrity, value: .bytes([UInt8](repeating: 0, count: 20)))

    /// An ICE check from `from` (ufrag `local`) to `to` (ufrag `remote`), controlling, optionally nominating.
    static func check(local: String, remote: String, nominate: Bool = false) -> [STUNAttribute] {
        var attributes = [
            text(.username, "\(remote):\(local)"), STUNAttribute(type: .priority, value: .uint32(1_862_270_975)),
            STUNAttribute(type: .iceControlling, value: .uint64(42)),
        ]
        if nominate { attributes.append(STUNAttribute(type: .useCandidate, value: .empty)) }
        return attributes
    }
}
