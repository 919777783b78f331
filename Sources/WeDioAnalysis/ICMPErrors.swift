import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// An ICMP or ICMPv6 error that quoted a UDP datagram: who reported what about which flow, and the STUN
/// transaction it quoted when the router quoted its header.
public struct ICMPReport: Sendable, Hashable {
    public var time: CaptureTime
    public var ref: PacketRef
    public var kind: ICMPErrorKind
    /// The quoted datagram's flow: the sender of the request that failed, and where it was going.
    public var quoted: FiveTuple
    public var transactionID: TransactionID?
    public var method: STUNMethod?
    /// The quoted STUN message's class: an answer quoted means the requester no longer listened.
    public var quotedClass: STUNClass?
    public var vantage = ""
    /// The transaction it answered: by the quoted STUN id, or else the latest request on the quoted flow.
    public var transaction: TransactionID?
    public var tiedBy: String?
    public var purpose: RequestPurpose?
}

enum ICMPTies {
    /// Ties each report to the transaction it answered, at the same vantage point.
    static func tie(_ reports: inout [ICMPReport], to transactions: [STUNTransaction]) {
        guard !reports.isEmpty else { return }
        struct FlowKey: Hashable {
            var vantage: String
            var client: TransportAddress
            var server: TransportAddress
        }
        struct IDKey: Hashable {
            var vantage: String
            var id: TransactionID
        }
        var byFlow: [FlowKey: [Int]] = [:]
        var byID: [IDKey: Int] = [:]
        // Relayed checks too: the datagram a TURN server relays is the check itself, on the relayed 5-tuple.
        for (index, transaction) in transactions.enumerated() {
            byFlow[FlowKey(vantage: transaction.vantage, client: transaction.client, server: transaction.server), default: []].append(index)
            byID[IDKey(vantage: transaction.vantage, id: transaction.id)] = index
        }
        for index in reports.indices {
            let report = reports[index]
            var tied: Int?
            if let id = report.transactionID, let found = byID[IDKey(vantage: report.vantage, id: id)] {
                tied = found
                reports[index].tiedBy = "id"
            } else if let candidates = byFlow[FlowKey(vantage: report.vantage, client: report.quoted.source, server: report.quoted.destination)] {
                tied = candidates.last { transactions[$0].requestTime <= report.time }
                if tied != nil { reports[index].tiedBy = "flow" }
            }
            if let tied {
                reports[index].transaction = transactions[tied].id
                reports[index].method = transactions[tied].method
                reports[index].purpose = transactions[tied].purpose
            }
        }
    }
}

/// The ICMP errors of one vantage point, bounded.
public struct ICMPErrorTable: Sendable {
    public private(set) var reports: [ICMPReport] = []
    public private(set) var dropped = 0
    static let kept = 4_096

    public init() {}

    mutating func record(_ kind: ICMPErrorKind, quoted: FiveTuple, bytes: borrowing Span<UInt8>, time: CaptureTime, ref: PacketRef) {
        guard reports.count < Self.kept else {
            dropped += 1
            return
        }
        var report = ICMPReport(time: time, ref: ref, kind: kind, quoted: quoted)
        // A quoted STUN header: type, length, cookie, id (RFC 8489 §5); classic RFC 3489 has a 16-byte id.
        if bytes.count >= 20, let type = ByteCursor.getUInt16(bytes, at: 0), type & 0xC000 == 0,
            let cookie = ByteCursor.getUInt32(bytes, at: 4)
        {
            var id: [UInt8] = []
            let range = cookie == 0x2112_A442 ? 8..<20 : 4..<20
            for offset in range { if let byte = ByteCursor.getUInt8(bytes, at: offset) { id.append(byte) } }
            report.transactionID = TransactionID(bytes: id)
            (report.method, report.quotedClass) = MessageType.split(type)
        }
        reports.append(report)
    }
}
