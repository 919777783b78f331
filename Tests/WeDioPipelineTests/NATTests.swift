import Foundation
import Testing
import WeDio
import WeDioAnalysis
import WeDioBasics
import WeDioSTUN
import WeDioTestSupport

/// NAT mappings and behaviour against what the lab's routers did (conntrack in truth.json) and what the
/// RFC 5780 tool concluded.
@Suite("NAT mappings and behaviour")
struct NATTests {
    /// The conntrack entries of `router` as (internal, destination, external). An entry that an inbound
    /// packet created (a full-cone DNAT) has the outside peer as its original source: its internal address is
    /// then the reply's source, read from the raw line.
    static func conntrack(_ truth: LabTruth, router: String) -> Set<[String]> {
        var entries: Set<[String]> = []
        for entry in truth.conntrack[router] ?? [] {
            if entry.internal.hasPrefix("10.") {
                entries.insert([entry.internal, entry.destination, entry.external])
                continue
            }
            let fields = entry.line.split(separator: " ").compactMap { field -> (String, String)? in
                let parts = field.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }
            let sources = fields.filter { $0.0 == "src" }.map(\.1)
            let sourcePorts = fields.filter { $0.0 == "sport" }.map(\.1)
            guard sources.count == 2, sourcePorts.count == 2 else { continue }
            entries.insert(["\(sources[1]):\(sourcePorts[1])", entry.internal, entry.destination])
        }
        return entries
    }

    static func analyze(_ scenario: String, side: String) -> AnalysisResult {
        Pipeline().analyze([
            InputSpec(path: Fixtures.path("ice/\(scenario)/\(side)-inside.pcap"), vantage: "\(side)-inside"),
            InputSpec(path: Fixtures.path("ice/\(scenario)/\(side)-outside.pcap"), vantage: "\(side)-outside"),
        ])
    }

    static let routerViews: [(String, String)] = [
        ("srflx-eim", "a"), ("srflx-eim", "b"), ("prflx-symmetric", "a"), ("prflx-symmetric", "b"), ("relay-turn", "a"),
        ("relay-turn", "b"), ("turn-tcp", "a"), ("turn-tcp", "b"), ("role-conflict", "a"), ("role-conflict", "b"),
        ("turn-wrong-password", "a"), ("turn-wrong-password", "b"), ("total-failure", "a"), ("total-failure", "b"),
        ("aiortc-call", "a"), ("rfc5780-discovery", "a"), ("turn-indications", "a"),
    ]

    @Test("Inside + outside captures give exactly the router's conntrack mappings", arguments: 0..<routerViews.count)
    func mappingsEqualConntrack(index: Int) throws {
        let (scenario, side) = Self.routerViews[index]
        let truth = try ICEFixtureTests.truth(scenario)
        let result = Self.analyze(scenario, side: side)
        let link = try #require(result.vantageLinks.first)
        #expect(link.inside == "\(side)-inside")
        #expect(link.outside == "\(side)-outside")
        #expect(link.oriented && link.singleNAT)
        let derived = Set(
            result.natMappings.filter { $0.source == .vantageMatch && $0.transport == .udp }.map {
                [$0.internalAddress.description, $0.destination.description, $0.externalAddress.description]
            })
        #expect(derived == Self.conntrack(truth, router: "r\(side)"))
        // Both captures ran on one host clock: the offset is the NAT's forwarding time, well under a millisecond.
        let offset = try #require(link.clockOffsetMilliseconds)
        #expect(abs(offset) < 1)
    }

    @Test("Giving the outside capture first still puts the inside one inside")
    func orientationIndependentOfOrder() throws {
        let result = Pipeline().analyze([
            InputSpec(path: Fixtures.path("ice/srflx-eim/a-outside.pcap"), vantage: "out"),
            InputSpec(path: Fixtures.path("ice/srflx-eim/a-inside.pcap"), vantage: "in"),
        ])
        let link = try #require(result.vantageLinks.first)
        #expect(link.inside == "in" && link.outside == "out")
        #expect(result.vantages.map(\.name) == ["out", "in"])
    }

    @Test("A capture shifted by 5.25 s: the offset is measured and the timelines merge on one clock")
    func clockOffset() throws {
        let shifted = try Self.shiftedCopy(Fixtures.path("ice/srflx-eim/a-outside.pcap"), by: 5_250_000)
        defer { try? FileManager.default.removeItem(atPath: shifted) }
        let result = Pipeline().analyze([
            InputSpec(path: Fixtures.path("ice/srflx-eim/a-inside.pcap"), vantage: "in"), InputSpec(path: shifted, vantage: "out"),
        ])
        let link = try #require(result.vantageLinks.first)
        let offset = try #require(link.clockOffsetMilliseconds)
        #expect(abs(offset - 5_250) < 1)
        #expect(abs((result.vantages.last?.clockOffsetMilliseconds ?? 0) - 5_250) < 1)
        // The same session's first check, seen at both vantage points, lands at (nearly) one instant.
        let starts = result.timeline.events.filter { $0.kind == .iceChecksStarted }
        #expect(starts.count == 2)
        if starts.count == 2 { #expect(abs(starts[1].time.milliseconds(since: starts[0].time)) < 1) }
        let translation = try #require(link.translations.first)
        #expect((translation.delayMilliseconds ?? 99) < 1)
    }

    @Test("RFC 5780 discovery: endpoint-independent mapping, address-and-port-dependent filtering, as natdiscovery said")
    func rfc5780() throws {
        let truth = try ICEFixtureTests.truth("rfc5780-discovery")
        let lines = truth.natDiscovery ?? []
        #expect(lines.contains("NAT with Endpoint Independent Mapping!"))
        #expect(lines.contains("NAT with Address and Port Dependent Filtering!"))
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/rfc5780-discovery/a-inside.pcap"))])
        let behaviour = try #require(result.natBehaviour.first)
        #expect(behaviour.externalIP.description == "198.51.100.2")
        #expect(behaviour.mapping == .endpointIndependent)
        #expect(behaviour.filtering == .addressAndPortDependent)
        #expect(behaviour.fromRFC5780)
        #expect(behaviour.portPreservation == true)
        #expect(behaviour.classicName == "port-restricted cone")
        #expect(result.findings.allSatisfy { $0.severity == .info })
    }

    @Test("Symmetric NAT (MASQUERADE --random-fully): each destination its own random port, seen across vantage points")
    func symmetric() throws {
        let result = Self.analyze("relay-turn", side: "a")
        let behaviour = try #require(result.natBehaviour.first { $0.vantage == "a-inside→a-outside" })
        // A sent to 192.0.2.10:3478 and to 192.0.2.10:49373 (B's relay) and got two external ports.
        #expect(behaviour.mapping == .addressAndPortDependent)
        #expect(behaviour.portPreservation == false)
        #expect(behaviour.portAllocation == "random")
        #expect(behaviour.classicName == "symmetric")
    }

    @Test("Endpoint-independent NAT (MASQUERADE): one external port for every destination, the port preserved")
    func endpointIndependent() throws {
        let result = Self.analyze("srflx-eim", side: "a")
        for behaviour in result.natBehaviour {
            #expect(behaviour.mapping == .endpointIndependent)
            #expect(behaviour.portAllocation == "preserved")
        }
        #expect(result.natBehaviour.count == 2)  // from a-inside alone (STUN server + ICE check), and across both
    }

    @Test("Full-cone side (B in prflx-symmetric): A's check from a new port reached B: not port-dependent filtering")
    func fullCone() throws {
        let result = Pipeline().analyze([InputSpec(path: Fixtures.path("ice/prflx-symmetric/b-inside.pcap"))])
        let behaviour = try #require(result.natBehaviour.first)
        #expect(behaviour.mapping == .endpointIndependent)
        // B had sent to A's IP (another port) first, so the data rule out only address-and-port-dependent filtering.
        #expect(behaviour.filtering == nil)
        #expect(behaviour.filteringEvidence.first?.contains("198.51.100.2:12132 reached 10.2.0.2:50348") == true)
        #expect(behaviour.filteringEvidence.first?.contains("not address-and-port-dependent") == true)
    }

    @Test("A request from an IP the inside host never contacted got in: endpoint-independent filtering")
    func unsolicitedFromNewIP() throws {
        var capture = SyntheticCapture()
        capture.answeredBinding(from: "10.0.0.5:5000", to: "192.0.2.1:3478", mapped: "198.51.100.7:40000", at: 0)
        let check = capture.newID()
        capture.add(
            .binding, .request, id: check, from: "203.0.113.9:7000", to: "10.0.0.5:5000", at: 1,
            SyntheticCapture.check(local: "peer", remote: "mine"))
        let result = Pipeline().analyze(bytes: capture.bytes)
        let behaviour = try #require(result.natBehaviour.first)
        #expect(behaviour.filtering == .endpointIndependent)
        #expect(behaviour.filteringEvidence.first?.contains("203.0.113.9:7000") == true)
    }

    @Test("A's NAT dropped B's early check to A's server-reflexive address (seen outside, never inside)")
    func droppedRequests() throws {
        let result = Self.analyze("prflx-symmetric", side: "a")
        let link = try #require(result.vantageLinks.first)
        let dropped = try #require(link.droppedRequests.first)
        #expect(link.droppedRequests.count == 1)
        #expect(dropped.flow.source.description == "203.0.113.2:50348")
        #expect(dropped.flow.destination.description == "198.51.100.2:29841")
        let finding = try #require(result.findings.first { $0.code == .filteringBlocksPeer })
        #expect(finding.severity == .info)  // the call connected anyway
    }

    @Test("A mapping that changes for the same internal address and destination is a rebinding on the timeline")
    func rebinding() throws {
        var capture = SyntheticCapture()
        for (second, port) in [(0.0, "40000"), (10.0, "40000"), (20.0, "41234")] {
            capture.answeredBinding(from: "10.0.0.5:5000", to: "192.0.2.1:3478", mapped: "198.51.100.7:\(port)", at: second)
        }
        let result = Pipeline().analyze(bytes: capture.bytes)
        let change = try #require(result.mappingChanges.first)
        #expect(result.mappingChanges.count == 1)
        #expect(change.previous.description == "198.51.100.7:40000")
        #expect(change.current.description == "198.51.100.7:41234")
        let event = try #require(result.timeline.events.first { $0.kind == .natRebinding })
        #expect(event.summary.contains("198.51.100.7:41234"))
    }

    @Test("Checks both ways on one 5-tuple keep two mappings apart; an answer from another address keeps its own")
    func bothDirectionsOfOneFlow() throws {
        var capture = SyntheticCapture()
        for step in 0..<6 {
            let time = Double(step)
            capture.answeredBinding(from: "10.0.0.5:5000", to: "10.0.0.9:6000", mapped: "198.51.100.7:40000", at: time)
            // The other side's mapping changes once, half way.
            let port = step < 3 ? "41000" : "41001"
            capture.answeredBinding(from: "10.0.0.9:6000", to: "10.0.0.5:5000", mapped: "203.0.113.4:\(port)", at: time + 0.5)
        }
        // A request answered from another port (as a STUN server's CHANGE-REQUEST answer would be), on the same flow
        // as a mapping seen before.
        let id = capture.newID()
        capture.add(.binding, .request, id: id, from: "10.0.0.5:5000", to: "10.0.0.9:6000", at: 7)
        capture.add(
            .binding, .successResponse, id: id, from: "10.0.0.9:6001", to: "10.0.0.5:5000", at: 7.01,
            [SyntheticCapture.address(.xorMappedAddress, "198.51.100.7:40000")])
        let result = Pipeline().analyze(bytes: capture.bytes)
        let observed = result.natMappings.filter { $0.source == .stunServer || $0.source == .iceCheck }
            .map { "\($0.internalAddress)→\($0.destination) \($0.externalAddress) ×\($0.observations)" }.sorted()
        #expect(
            observed == [
                "10.0.0.5:5000→10.0.0.9:6000 198.51.100.7:40000 ×7", "10.0.0.9:6000→10.0.0.5:5000 203.0.113.4:41001 ×6",
            ])
        #expect(result.mappingChanges.map { "\($0.previous)→\($0.current)" } == ["203.0.113.4:41000→203.0.113.4:41001"])
    }

    /// A copy of a little-endian microsecond pcap with every timestamp moved by `microseconds`.
    static func shiftedCopy(_ path: String, by microseconds: Int) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func read32(_ offset: Int) -> Int {
            Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
        }
        func write32(_ offset: Int, _ value: Int) {
            for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        }
        try #require(read32(0) == 0xA1B2_C3D4)
        var offset = 24
        while offset + 16 <= bytes.count {
            let total = read32(offset) * 1_000_000 + read32(offset + 4) + microseconds
            write32(offset, total / 1_000_000)
            write32(offset + 4, total % 1_000_000)
            offset += 16 + read32(offset + 8)
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("wedio-shifted-\(UUID().uuidString).pcap").path
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        return output
    }
}
