import Foundation
import Testing
import WeDioBasics
import WeDioCapture
import WeDioTestSupport

/// A regular file is mapped and read by libpcap through a stdio stream whose buffer is the mapping itself
/// (Sources/CMappedStream): the same packets as libpcap's own read(2), positions that follow the reading (the
/// progress line and the pages given back depend on them), and the end of the file at the end.
@Suite("Mapped capture files")
struct MappedStreamTests {
    struct Packet: Equatable {
        var number: Int
        var time: CaptureTime
        var wireLength: Int
        var bytes: [UInt8]
    }

    static func packets(_ capture: OfflineCapture) throws -> (packets: [Packet], positions: [Int64]) {
        var packets: [Packet] = []
        var positions: [Int64] = []
        _ = try capture.forEach { record, bytes in
            packets.append(
                Packet(
                    number: record.number, time: record.time, wireLength: record.wireLength,
                    bytes: bytes.withUnsafeBufferPointer { Array($0) }))
            positions.append(capture.position)
        }
        return (packets, positions)
    }

    @Test(
        "Mapped and read with read(2): the same packets, byte for byte; the position moves forward with every packet and ends at the file's size",
        arguments: ["link/ethernet-lo.pcap", "link/vlan-qinq.pcap", "ice/relay-turn/a-outside.pcap", "fragments/padded-binding-mtu1280.pcap"])
    func sameAsReadingTheFile(relative: String) throws {
        let path = Fixtures.path(relative)
        let mapped = try OfflineCapture(path: path, mapped: true)
        let plain = try OfflineCapture(path: path, mapped: false)
        let (ours, positions) = try Self.packets(mapped)
        let (theirs, _) = try Self.packets(plain)
        #expect(ours.count > 3)
        #expect(ours == theirs)
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64)
        #expect(mapped.fileSize == size)
        // Each packet's record (16 bytes of header, then its bytes) has been consumed when it is handed out.
        #expect(positions.first == 24 + 16 + Int64(ours.first?.bytes.count ?? 0))
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 })
        #expect(positions.last == size)
    }
}
