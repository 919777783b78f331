import Foundation
import WeDioAnalysis
import WeDioBasics
import WeDioDecode
import WeDioSTUN

/// The JSON report (Schemas/wedio-report.schema.json). Keys are sorted and every list is ordered by
/// first appearance, so the same capture always gives the same bytes. Passwords never appear.
public struct JSONReport: Sendable {
    public static let schemaVersion = "0.6"

    public var toolVersion: String
    /// Adds every decoded STUN message with its attributes (`--messages`).
    public var includeMessages: Bool

    public init(toolVersion: String, includeMessages: Bool) {
        self.toolVersion = toolVersion
        self.includeMessages = includeMessages
    }

    public func render(_ result: AnalysisResult) throws -> String {
        String(decoding: try renderBytes(result), as: UTF8.self)
    }

    /// The report as UTF-8 bytes, ending with a newline.
    public func renderBytes(_ result: AnalysisResult) throws -> [UInt8] {
        var bytes = try ReportJSONEncoder(pretty: true).encode(model(result))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// The same bytes, handed to `sink` a megabyte at a time as they are written (a server's capture makes
    /// tens of megabytes of report; memory then holds one piece of it).
    public func render(_ result: AnalysisResult, sink: @escaping ([UInt8]) throws -> Void) throws {
        try ReportJSONEncoder(pretty: true).encode(model(result), sink: sink)
        try sink([UInt8(ascii: "\n")])
    }

    /// The same report through Foundation's JSONEncoder: the reference the fast encoder is tested against.
    public func renderWithFoundation(_ result: AnalysisResult) throws -> String {
        try Self.foundation(model(result), pretty: true) + "\n"
    }

    /// The NDJSON report line through Foundation's JSONEncoder (tests).
    public func reportLineWithFoundation(_ result: AnalysisResult) throws -> String {
        try Self.foundation(ReportLine(report: model(result)), pretty: false) + "\n"
    }

    private static func foundation(_ value: some Encodable, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private func model(_ result: AnalysisResult) -> Report {
        Report(result, toolVersion: toolVersion, includeMessages: includeMessages)
    }

    /// The last line of the live stream.
    struct ReportLine: Encodable {
        var report: Report
        var type = "report"
    }

    /// The live stream's lines (`wedio sniff --format ndjson`): one JSON object per line, the timeline's
    /// spellings plus `"type": "event"`; the last line is `{"type": "report", "report": {…}}`.
    public static func eventLine(_ event: TimelineEvent, start: CaptureTime?) throws -> String {
        struct Line: Encodable {
            var type = "event"
            var event: Event
            func encode(to encoder: any Encoder) throws {
                try event.encode(to: encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(type, forKey: .type)
            }
            enum Key: String, CodingKey { case type }
        }
        return try compact(Line(event: Event(event, start: start))) + "\n"
    }

    /// A live event with the stable keys that join records of several sniffers (`keys`).
    public static func liveEventLine(_ event: TimelineEvent, start: CaptureTime?) throws -> String {
        struct Line: Encodable {
            var keys: [String: String]
            var kind: String
            var offsetMs: Double
            var refs: [String]
            var summary: String
            var time: String
            var type = "event"
            var vantage: String
        }
        let base = Event(event, start: start)
        return try compact(
            Line(keys: event.keys, kind: base.kind, offsetMs: base.offsetMs, refs: base.refs, summary: base.summary, time: base.time, vantage: base.vantage))
            + "\n"
    }

    /// Events of one kind held back by the live stream's rate limit.
    public static func suppressedLine(kind: TimelineKind, count: Int, first: CaptureTime, last: CaptureTime) throws -> String {
        struct Line: Encodable {
            var count: Int
            var first: String
            var kind: String
            var last: String
            var type = "suppressed"
        }
        return try compact(Line(count: count, first: TimeFormat.rfc3339(first), kind: kind.rawValue, last: TimeFormat.rfc3339(last))) + "\n"
    }

    /// The kernel's counters of a live capture so far.
    public static func statsLine(
        time: CaptureTime, interface: String, packets: Int, counters: CaptureCounters, eventsSuppressed: Int
    ) throws -> String {
        struct Line: Encodable {
            var droppedByInterface: Int
            var droppedByKernel: Int
            var eventsSuppressed: Int
            var interface: String
            var packets: Int
            var received: Int
            var time: String
            var type = "stats"
        }
        return try compact(
            Line(
                droppedByInterface: counters.droppedByInterface, droppedByKernel: counters.droppedByKernel,
                eventsSuppressed: eventsSuppressed, interface: interface, packets: packets, received: counters.received,
                time: TimeFormat.rfc3339(time))) + "\n"
    }

    public func reportLine(_ result: AnalysisResult) throws -> String {
        try Self.compact(ReportLine(report: model(result))) + "\n"
    }

    static func compact(_ value: some Encodable) throws -> String {
        String(decoding: try ReportJSONEncoder(pretty: false).encode(value), as: UTF8.self)
    }

    // MARK: Model (spellings fixed by issue 8)

    /// Properties in key order: the encoder then writes the report straight through, never reordering it.
    /// The long lists are converted element by element as they are written (`Mapped`), not built first.
    struct Report: Encodable {
        var browserViews: [BrowserJSON]
        var calls: Mapped<ICECall, Call>
        var encryptedTurn: [Encrypted]
        var findings: [FindingJSON]
        var iceSessions: Mapped<ICESession, Session>
        var icmpErrors: [ICMP]
        var inputs: [Input]
        var liveWindow: Window?
        var mediaStreams: Mapped<MediaStreamSummary, MediaStreamJSON>
        var mediaStreamsDropped: Int
        var messages: Mapped<MessageRecord, Message>?
        var natBehaviour: [Behaviour]
        var natMappings: Mapped<NATMapping, Mapping>
        var schemaVersion = JSONReport.schemaVersion
        var stats: Stats
        var timeline: Mapped<TimelineEvent, Event>
        var timelineDropped: Int
        var tool: Tool
        var transactions: Mapped<STUNTransaction, Transaction>
        var turnAllocations: [Allocation]
        var vantageLinks: [Link]
        var vantages: [Vantage]
        var verdict: String

        init(_ result: AnalysisResult, toolVersion: String, includeMessages: Bool) {
            tool = Tool(name: "wedio", version: toolVersion)
            inputs = result.inputs.map(Input.init)
            stats = Stats(result.statistics, transactions: result.transactions)
            stats.capped["iceChecksDropped"] = result.iceChecksDropped
            stats.capped["natObservationsDropped"] = result.natObservationsDropped
            stats.capped["timelineEventsDropped"] = result.timeline.dropped
            if includeMessages { stats.capped["messagesDropped"] = result.messagesDropped }
            transactions = Mapped(result.transactions.transactions, Transaction.init)
            iceSessions = Mapped(result.iceSessions, Session.init)
            calls = Mapped(result.calls, Call.init)
            browserViews = result.browserComparisons.map(BrowserJSON.init)
            icmpErrors = result.icmpErrors.map(ICMP.init)
            turnAllocations = result.turnAllocations.map(Allocation.init)
            encryptedTurn = result.encryptedTURN.map(Encrypted.init)
            vantages = result.vantages.map {
                Vantage(name: $0.name, inputs: $0.inputs, clockOffsetMs: $0.clockOffsetMilliseconds)
            }
            vantageLinks = result.vantageLinks.map(Link.init)
            natMappings = Mapped(result.natMappings, Mapping.init)
            mediaStreams = Mapped(result.mediaStreams, MediaStreamJSON.init)
            mediaStreamsDropped = result.mediaStreamsDropped
            natBehaviour = result.natBehaviour.map(Behaviour.init)
            findings = result.findings.map(FindingJSON.init)
            verdict = Verdict.sentence(result)
            let start = result.timeline.start
            timeline = Mapped(result.timeline.events) { Event($0, start: start) }
            timelineDropped = result.timeline.dropped
            messages = includeMessages ? Mapped(result.messages, Message.init) : nil
            liveWindow = result.liveWindow.map(Window.init)
        }
    }

    /// One RTP stream (SSRC, direction, flow): counts, loss and jitter as RFC 3550 defines them.
    struct MediaStreamJSON: DirectJSONObject {
        var bytes, duplicates, expected, lost, markers, packets, reordered, rtcpPackets, gapsDropped: Int
        var clockRate: Int?
        var clockRateSource, codec, session: String?
        var destination, source, transport, ssrc, role, vantage, firstTime, lastTime: String
        var durationMs: Double
        var jitterMs, maxJitterMs, kbps: Double?
        var gaps: [Silence]
        var payloadTypes: [Int]
        var throughTurn: Bool

        init(_ summary: MediaStreamSummary) {
            let stream = summary.stream
            bytes = stream.bytes
            duplicates = stream.duplicates
            expected = stream.expected
            lost = stream.lost
            markers = stream.markers
            packets = stream.packets
            reordered = stream.reordered
            rtcpPackets = summary.rtcpPackets
            gapsDropped = stream.gapsDropped
            clockRate = stream.clockRate
            clockRateSource = stream.clockSource?.rawValue
            codec = stream.codec
            session = summary.session
            source = stream.flow.source.description
            destination = stream.flow.destination.description
            transport = stream.flow.transport.rawValue
            ssrc = JSONReport.hex32(stream.ssrc)
            role = stream.role.rawValue
            vantage = summary.vantage
            firstTime = TimeFormat.rfc3339(stream.firstTime)
            lastTime = TimeFormat.rfc3339(stream.lastTime)
            durationMs = JSONReport.rounded(stream.durationMilliseconds)
            jitterMs = stream.jitterMilliseconds.map(JSONReport.rounded)
            maxJitterMs = stream.maxJitterMilliseconds.map(JSONReport.rounded)
            kbps = stream.kilobitsPerSecond.map(JSONReport.rounded)
            gaps = stream.gaps.map { Silence(start: $0.start, end: $0.end) }
            payloadTypes = stream.payloadTypeList
            throughTurn = stream.throughTURN
        }

        func writeFields(_ writer: inout FieldWriter) throws {
            writer.field("bytes", bytes)
            writer.field("clockRate", clockRate)
            writer.field("clockRateSource", clockRateSource)
            writer.field("codec", codec)
            writer.field("destination", destination)
            writer.field("duplicates", duplicates)
            try writer.field("durationMs", durationMs)
            writer.field("expected", expected)
            writer.field("firstTime", firstTime)
            try writer.encodable("gaps", gaps)
            writer.field("gapsDropped", gapsDropped)
            try writer.field("jitterMs", jitterMs)
            try writer.field("kbps", kbps)
            writer.field("lastTime", lastTime)
            writer.field("lost", lost)
            writer.field("markers", markers)
            try writer.field("maxJitterMs", maxJitterMs)
            writer.field("packets", packets)
            writer.field("payloadTypes", payloadTypes)
            writer.field("reordered", reordered)
            writer.field("role", role)
            writer.field("rtcpPackets", rtcpPackets)
            writer.field("session", session)
            writer.field("source", source)
            writer.field("ssrc", ssrc)
            writer.field("throughTurn", throughTurn)
            writer.field("transport", transport)
            writer.field("vantage", vantage)
        }
    }

    /// An SSRC as eight hex digits, as tshark and webrtc-internals show it.
    public static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// A time without media: a stream's silence, or a stall of one direction of a pair (which says which).
    struct Silence: Encodable {
        var direction: String?
        var durationMs: Double
        var end, start: String

        init(start: CaptureTime, end: CaptureTime, direction: String? = nil) {
            self.direction = direction
            durationMs = JSONReport.rounded(end.milliseconds(since: start))
            self.end = TimeFormat.rfc3339(end)
            self.start = TimeFormat.rfc3339(start)
        }
    }

    /// Three decimals: a report's numbers do not change with the last bits of a double.
    static func rounded(_ value: Double) -> Double { (value * 1_000).rounded() / 1_000 }

    /// `wedio sniff --report-every`: the window this report covers.
    struct Window: Encodable {
        var end: String
        var evicted: [String: Int]
        var inFlight: Int
        var index: Int
        var onDemand: Bool
        var start: String

        init(_ window: LiveWindow) {
            end = TimeFormat.rfc3339(window.end)
            evicted = [
                "transactions": window.evicted.transactions, "iceSessions": window.evicted.iceSessions,
                "turnAllocations": window.evicted.turnAllocations, "natMappings": window.evicted.natMappings,
                "mediaFlows": window.evicted.mediaFlows,
            ]
            inFlight = window.inFlight
            index = window.index
            onDemand = window.onDemand
            start = TimeFormat.rfc3339(window.start)
        }
    }

    /// A list written as an array of `Element`, each converted from its source only when written.
    /// A long one (a server's thousands of sessions and transactions) is written on every core.
    struct Mapped<Source: Sendable, Element: Encodable & SendableMetatype>: Encodable {
        let sources: [Source]
        let convert: @Sendable (Source) -> Element
        /// Below this many items the threads cost more than they save.
        static var concurrentFrom: Int { 1_024 }

        init(_ sources: [Source], _ convert: @escaping @Sendable (Source) -> Element) {
            self.sources = sources
            self.convert = convert
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            let rendering = encoder as? RenderingEncoder
            if let rendering, sources.count >= Self.concurrentFrom {
                try rendering.encodeItemsConcurrently(sources, convert)
                return
            }
            let output = rendering?.output
            for source in sources {
                try container.encode(convert(source))
                try output?.flushIfLarge()
            }
        }
    }

    struct Encrypted: Encodable {
        var client, server, security, vantage, firstTime, lastTime: String
        var durationMs: Double
        var bytesToServer, bytesFromServer, segmentsToServer, segmentsFromServer: Int
        /// Why it is taken for TURN, and what its ClientHello said in clear.
        var evidence: String
        var alpn: [String]?
        var serverName: String?

        init(_ c: EncryptedConnection) {
            evidence = c.evidence
            alpn = c.protocols.isEmpty ? nil : c.protocols
            serverName = c.serverName
            client = c.client.description
            server = c.server.description
            security = c.security
            vantage = c.vantage
            firstTime = TimeFormat.rfc3339(c.firstTime)
            lastTime = TimeFormat.rfc3339(c.lastTime)
            durationMs = c.durationMilliseconds
            bytesToServer = c.bytesToServer
            bytesFromServer = c.bytesFromServer
            segmentsToServer = c.segmentsToServer
            segmentsFromServer = c.segmentsFromServer
        }
    }

    /// A browser's own view of its ICE (webrtc-internals) against the wire's call.
    struct BrowserJSON: Encodable {
        struct Candidate: Encodable {
            var address, type, protocolName, relayProtocol: String?

            enum CodingKeys: String, CodingKey {
                case address, type, relayProtocol
                case protocolName = "protocol"
            }
        }
        var source, peerConnection, browser: String
        var localUfrags, remoteUfrags: [String]
        var selectedLocal, selectedRemote: Candidate?
        var iceConnectionState, call: String?
        var agrees: Bool
        var differences: [String]

        init(_ comparison: BrowserComparison) {
            let view = comparison.view
            func candidate(_ c: BrowserView.Candidate) -> Candidate {
                Candidate(address: c.address?.description, type: c.type?.rawValue, protocolName: c.protocolName, relayProtocol: c.relayProtocol)
            }
            source = view.source
            peerConnection = view.peerConnection
            browser = view.browser
            localUfrags = view.localUfrags
            remoteUfrags = view.remoteUfrags
            selectedLocal = view.selectedLocal.map(candidate)
            selectedRemote = view.selectedRemote.map(candidate)
            iceConnectionState = view.iceConnectionState
            call = comparison.call
            agrees = comparison.agrees
            differences = comparison.differences
        }
    }

    /// An ICMP/ICMPv6 error quoting a UDP datagram, with the transaction it answered.
    struct ICMP: Encodable {
        var time, vantage, packet, reporter, meaning, quotedFrom, quotedTo: String
        var version, type, code: Int
        var quotedTransaction, quotedClass, transaction, tiedBy, method: String?

        init(_ report: ICMPReport) {
            time = TimeFormat.rfc3339(report.time)
            vantage = report.vantage
            packet = report.ref.description
            reporter = report.kind.reporter.description
            meaning = report.kind.meaning
            quotedFrom = report.quoted.source.description
            quotedTo = report.quoted.destination.description
            version = Int(report.kind.version)
            type = Int(report.kind.type)
            code = Int(report.kind.code)
            quotedTransaction = report.transactionID?.hex
            quotedClass = report.quotedClass?.name
            transaction = report.transaction?.hex
            tiedBy = report.tiedBy
            method = report.method?.name
        }
    }

    /// A call: the same ICE session at every vantage point and across its restarts.
    struct Call: DirectJSONObject {
        struct End: DirectJSONObject {
            var agent: String
            var address: JSONAddress
            var type: String?
            var base: JSONAddress?
            var evidence: [String]
            var typedAt: String

            func writeFields(_ writer: inout FieldWriter) {
                writer.field("address", address)
                writer.field("agent", agent)
                writer.field("base", base)
                writer.field("evidence", evidence)
                writer.field("type", type)
                writer.field("typedAt", typedAt)
            }
        }
        struct Relay: DirectJSONObject {
            var relayed: JSONAddress
            var agent: String
            var allocations: [String]

            func writeFields(_ writer: inout FieldWriter) {
                writer.field("agent", agent)
                writer.field("allocations", allocations)
                writer.field("relayed", relayed)
            }
        }
        var controlled, controlling: End?
        var firstCheckTime: JSONTime
        var generations: [[String]]
        var id, outcome: String
        var relays: [Relay]
        var restarts: Int
        var sessions: [String]
        var timeToConnectMs: Double?
        var vantages: [String]

        init(_ call: ICECall) {
            func end(_ end: ICECall.End) -> End {
                End(
                    agent: end.agent, address: JSONAddress(end.address), type: end.type?.rawValue, base: end.base.map(JSONAddress.init),
                    evidence: end.evidence, typedAt: end.typedAt)
            }
            id = call.id
            outcome = call.outcome.rawValue
            firstCheckTime = JSONTime(call.firstCheck)
            generations = call.generations
            sessions = call.sessions
            vantages = call.vantages
            controlling = call.controlling.map(end)
            controlled = call.controlled.map(end)
            timeToConnectMs = call.timeToConnectMilliseconds
            restarts = call.restarts
            relays = call.relays.map { Relay(relayed: JSONAddress($0.relayed), agent: $0.agent, allocations: $0.allocations) }
        }

        func writeFields(_ writer: inout FieldWriter) throws {
            try writer.object("controlled", controlled)
            try writer.object("controlling", controlling)
            writer.field("firstCheckTime", firstCheckTime)
            writer.field("generations", generations)
            writer.field("id", id)
            writer.field("outcome", outcome)
            try writer.objects("relays", relays)
            writer.field("restarts", restarts)
            writer.field("sessions", sessions)
            try writer.field("timeToConnectMs", timeToConnectMs)
            writer.field("vantages", vantages)
        }
    }

    struct Vantage: Encodable {
        var name: String
        var inputs: [Int]
        var clockOffsetMs: Double?
    }

    struct Link: Encodable {
        struct Translation: Encodable {
            var id, method, direction, insideFrom, insideTo, outsideFrom, outsideTo, insideTime, outsideTime: String
            var insidePacket, outsidePacket: String
            var delayMs: Double?
        }
        struct Dropped: Encodable {
            var id, from, to, time, packet: String
        }
        var inside, outside: String
        var oriented, singleNat: Bool
        var matchedTransactions, unchanged, translated: Int
        var clockOffsetMs, medianDelayMs: Double?
        var translations: [Translation]
        var droppedRequests: [Dropped]

        init(_ link: VantageLink) {
            inside = link.inside
            outside = link.outside
            oriented = link.oriented
            singleNat = link.singleNAT
            matchedTransactions = link.matchedTransactions
            unchanged = link.unchanged
            translated = link.translated
            clockOffsetMs = link.clockOffsetMilliseconds
            medianDelayMs = link.medianDelayMilliseconds
            translations = link.translations.map {
                Translation(
                    id: $0.id.hex, method: $0.method.name, direction: $0.direction.rawValue,
                    insideFrom: $0.inside.source.description, insideTo: $0.inside.destination.description,
                    outsideFrom: $0.outside.source.description, outsideTo: $0.outside.destination.description,
                    insideTime: TimeFormat.rfc3339($0.insideTime), outsideTime: TimeFormat.rfc3339($0.outsideTime),
                    insidePacket: packet($0.insideRef), outsidePacket: packet($0.outsideRef), delayMs: $0.delayMilliseconds)
            }
            droppedRequests = link.droppedRequests.map {
                Dropped(
                    id: $0.id.hex, from: $0.flow.source.description, to: $0.flow.destination.description,
                    time: TimeFormat.rfc3339($0.time), packet: packet($0.ref))
            }
        }
    }

    struct Mapping: DirectJSONObject {
        var `internal`, external, destination: JSONAddress
        var transport, source, vantage, firstPacket: String
        var firstTime, lastTime: JSONTime
        var observations: Int
        var translated: Bool

        init(_ m: NATMapping) {
            `internal` = JSONAddress(m.internalAddress)
            external = JSONAddress(m.externalAddress)
            destination = JSONAddress(m.destination)
            transport = m.transport.rawValue
            source = m.source.rawValue
            vantage = m.vantage
            firstTime = JSONTime(m.firstTime)
            lastTime = JSONTime(m.lastTime)
            firstPacket = packet(m.firstRef)
            observations = m.observations
            translated = m.translated
        }

        func writeFields(_ writer: inout FieldWriter) {
            writer.field("destination", destination)
            writer.field("external", external)
            writer.field("firstPacket", firstPacket)
            writer.field("firstTime", firstTime)
            writer.field("internal", `internal`)
            writer.field("lastTime", lastTime)
            writer.field("observations", observations)
            writer.field("source", source)
            writer.field("translated", translated)
            writer.field("transport", transport)
            writer.field("vantage", vantage)
        }
    }

    struct Behaviour: Encodable {
        var vantage, externalIp, transport: String
        var internalAddresses: [String]
        var mappings: Int
        var mapping, filtering, portAllocation, classicName: String?
        var mappingEvidence, filteringEvidence: [String]
        var portPreservation, hairpinning: Bool?
        var rfc5780: Bool

        init(_ b: NATBehaviour) {
            vantage = b.vantage
            externalIp = b.externalIP.description
            transport = b.transport.rawValue
            internalAddresses = b.internalAddresses.map(\.description)
            mappings = b.mappings
            mapping = b.mapping?.rawValue
            filtering = b.filtering?.rawValue
            portAllocation = b.portAllocation
            classicName = b.classicName
            mappingEvidence = b.mappingEvidence
            filteringEvidence = b.filteringEvidence
            portPreservation = b.portPreservation
            hairpinning = b.hairpinning
            rfc5780 = b.fromRFC5780
        }
    }

    struct FindingJSON: Encodable {
        struct EvidenceJSON: Encodable {
            var summary: String
            var vantage: String?
            var transactions, packets, times: [String]
        }
        var severity, code, message, fix: String
        var time: String?
        var evidence: [EvidenceJSON]

        init(_ f: Finding) {
            severity = f.severity.rawValue
            code = f.code.rawValue
            message = f.message
            fix = f.fix
            time = f.time.map(TimeFormat.rfc3339)
            evidence = f.evidence.map {
                EvidenceJSON(
                    summary: $0.summary, vantage: $0.vantage, transactions: $0.transactions, packets: $0.packets.map(packet),
                    times: $0.times.map(TimeFormat.rfc3339))
            }
        }
    }

    struct Event: Encodable, Sendable {
        var time: String
        var offsetMs: Double
        var vantage, kind, summary: String
        var refs: [String]

        init(_ event: TimelineEvent, start: CaptureTime?) {
            time = TimeFormat.rfc3339(event.time)
            offsetMs = JSONReport.rounded(event.time.milliseconds(since: start ?? event.time))
            vantage = event.vantage
            kind = event.kind.rawValue
            summary = event.summary
            refs = event.refs
        }
    }

    struct Tool: Encodable {
        var name: String
        var version: String
    }

    struct Input: Encodable {
        var path: String
        var vantage: String
        var linkType: String?
        var packets: Int
        var bytes: Int
        var firstTime: String?
        var lastTime: String?
        var status: String
        var failure: String?
        var errors: [String: Int]
        var liveCapture: LiveCapture?
        /// A pcapng file read block by block: its interfaces (with their statistics), comments, secrets blocks.
        var interfaces: [Interface]?
        var comments: [String]?
        var decryptionSecretsBlocks: Int?

        struct Interface: Encodable {
            var index, packets: Int
            var linkType: String
            var name, description: String?
            var received, droppedByInterface, droppedByOS: UInt64?
        }

        /// A live input's kernel counters and the windows in which it lost packets.
        struct LiveCapture: Encodable {
            var received, droppedByKernel, droppedByInterface: Int
            var dropWindows: [DropWindow]
        }

        struct DropWindow: Encodable {
            var start, end: String
            var droppedByKernel, droppedByInterface: Int
        }

        init(_ input: InputSummary) {
            path = input.path
            vantage = input.vantage
            linkType = input.linkType
            packets = input.packets
            bytes = input.bytes
            firstTime = input.firstTime.map(TimeFormat.rfc3339)
            lastTime = input.lastTime.map(TimeFormat.rfc3339)
            status = input.status.rawValue
            failure = input.failure
            errors = input.errors
            if !input.interfaces.isEmpty {
                interfaces = input.interfaces.map {
                    Interface(
                        index: $0.index, packets: $0.packets, linkType: $0.linkType, name: $0.name, description: $0.description,
                        received: $0.received, droppedByInterface: $0.droppedByInterface, droppedByOS: $0.droppedByOS)
                }
                comments = input.comments
                decryptionSecretsBlocks = input.decryptionSecretsBlocks
            }
            if let counters = input.liveCounters {
                liveCapture = LiveCapture(
                    received: counters.received, droppedByKernel: counters.droppedByKernel,
                    droppedByInterface: counters.droppedByInterface,
                    dropWindows: input.dropWindows.map { window in
                        DropWindow(
                            start: TimeFormat.rfc3339(window.start), end: TimeFormat.rfc3339(window.end),
                            droppedByKernel: window.droppedByKernel, droppedByInterface: window.droppedByInterface)
                    })
            }
        }
    }

    struct Stats: Encodable {
        var packets, stunMessages, classicStunMessages, channelData, relayedStunMessages: Int
        var dtlsRecords, rtpPackets, rtcpPackets, truncated, malformed: Int
        var udpPackets, tcpSegments, fingerprintFailures, integrityFailures: Int
        var orphanResponses, transactionsDropped, icmpErrors: Int
        var transactionOutcomes: [String: Int]
        var capped: [String: Int]

        init(_ s: Statistics, transactions: TransactionTracker) {
            packets = s.packets
            stunMessages = s.stunMessages
            classicStunMessages = s.classicStunMessages
            channelData = s.channelData
            relayedStunMessages = s.relayedStunMessages
            dtlsRecords = s.dtlsRecords
            rtpPackets = s.rtpPackets
            rtcpPackets = s.rtcpPackets
            truncated = s.truncated
            malformed = s.malformed
            udpPackets = s.udpPackets
            tcpSegments = s.tcpSegments
            fingerprintFailures = s.fingerprintFailures
            integrityFailures = s.integrityFailures
            orphanResponses = transactions.orphanResponses
            icmpErrors = s.icmpErrors
            transactionsDropped = transactions.evicted
            transactionOutcomes = Dictionary(uniqueKeysWithValues: transactions.outcomeCounts.map { ($0.key.rawValue, $0.value) })
            capped = [
                "fragmentsEvicted": s.fragmentsEvicted, "fragmentsTimedOut": s.fragmentsTimedOut,
                "fragmentOverlaps": s.fragmentOverlaps, "tcpGaps": s.tcpGaps, "tcpStreamsEvicted": s.tcpStreamsEvicted,
                "stunFlowsReplaced": s.stunFlowsReplaced,
            ]
        }
    }

    struct Transaction: DirectJSONObject {
        var id: String
        var method: String
        var `class`: String
        var client: JSONAddress
        var duringCaptureDrops: Bool?
        var server: JSONAddress
        var transport: String
        var carrier: String
        var requestTime: JSONTime
        var requestPacket: Int
        var input: Int
        var responseTime: JSONTime?
        var responsePacket: Int?
        var responseFrom: JSONAddress?
        var rttMs: Double?
        var retransmissions: Int
        var retransmissionIntervalsMs: [Double]
        var followsRetransmissionSchedule: Bool
        var outcome: String
        var errorCode: Int?
        var errorReason: String?
        var integrity: String
        var responseIntegrity: String?

        var vantage: String

        init(_ t: STUNTransaction) {
            vantage = t.vantage
            id = t.id.hex
            method = t.method.name
            `class` = t.outcome == .indication ? "indication" : "request"
            client = JSONAddress(t.client)
            duringCaptureDrops = t.duringCaptureDrops ? true : nil
            server = JSONAddress(t.server)
            transport = t.transport.rawValue
            carrier = t.carrier.rawValue
            requestTime = JSONTime(t.requestTime)
            requestPacket = t.requestRef.packet
            input = t.requestRef.input
            responseTime = t.responseTime.map(JSONTime.init)
            responsePacket = t.responseRef?.packet
            responseFrom = t.responseFlow.map { JSONAddress($0.source) }
            rttMs = t.rttMilliseconds
            retransmissions = t.retransmissions
            retransmissionIntervalsMs = t.retransmissionIntervalsMilliseconds
            followsRetransmissionSchedule = t.followsRetransmissionSchedule
            outcome = (t.outcome ?? .timeout).rawValue
            errorCode = t.errorCode
            errorReason = t.errorReason
            integrity = t.requestIntegrity.rawValue
            responseIntegrity = t.responseIntegrity?.rawValue
        }

        func writeFields(_ writer: inout FieldWriter) throws {
            writer.field("carrier", carrier)
            writer.field("class", `class`)
            writer.field("client", client)
            writer.field("duringCaptureDrops", duringCaptureDrops)
            writer.field("errorCode", errorCode)
            writer.field("errorReason", errorReason)
            writer.field("followsRetransmissionSchedule", followsRetransmissionSchedule)
            writer.field("id", id)
            writer.field("input", input)
            writer.field("integrity", integrity)
            writer.field("method", method)
            writer.field("outcome", outcome)
            writer.field("requestPacket", requestPacket)
            writer.field("requestTime", requestTime)
            writer.field("responseFrom", responseFrom)
            writer.field("responseIntegrity", responseIntegrity)
            writer.field("responsePacket", responsePacket)
            writer.field("responseTime", responseTime)
            try writer.field("retransmissionIntervalsMs", retransmissionIntervalsMs)
            writer.field("retransmissions", retransmissions)
            try writer.field("rttMs", rttMs)
            writer.field("server", server)
            writer.field("transport", transport)
            writer.field("vantage", vantage)
        }
    }

    struct Session: DirectJSONObject {
        struct Candidate: DirectJSONObject {
            var agent, type: String
            var address: JSONAddress
            var transport: String
            var evidence: [String]
            var gathered, checked: Bool
            var base: JSONAddress?
            var priority: UInt32?
            var typePreference, localPreference, component: UInt32?
            var sdpType: String?
            var sdpPriority: UInt32?

            func writeFields(_ writer: inout FieldWriter) {
                writer.field("address", address)
                writer.field("agent", agent)
                writer.field("base", base)
                writer.field("checked", checked)
                writer.field("component", component)
                writer.field("evidence", evidence)
                writer.field("gathered", gathered)
                writer.field("localPreference", localPreference)
                writer.field("priority", priority)
                writer.field("sdpPriority", sdpPriority)
                writer.field("sdpType", sdpType)
                writer.field("transport", transport)
                writer.field("type", type)
                writer.field("typePreference", typePreference)
            }
        }
        struct Pair: DirectJSONObject {
            var local, remote: JSONAddress
            var state, transport: String
            var localType, remoteType: String?
            var localCandidate, remoteCandidate: JSONAddress?
            var priority: UInt64?
            var checks, responses: Int
            var errors: [Int]
            var nominated: Bool
            var rttMs: RTT?
            var firstCheckTime: JSONTime
            var firstSuccessTime: JSONTime?
            var media: MediaJSON?

            func writeFields(_ writer: inout FieldWriter) throws {
                writer.field("checks", checks)
                writer.field("errors", errors)
                writer.field("firstCheckTime", firstCheckTime)
                writer.field("firstSuccessTime", firstSuccessTime)
                writer.field("local", local)
                writer.field("localCandidate", localCandidate)
                writer.field("localType", localType)
                try writer.object("media", media)
                writer.field("nominated", nominated)
                writer.field("priority", priority)
                writer.field("remote", remote)
                writer.field("remoteCandidate", remoteCandidate)
                writer.field("remoteType", remoteType)
                writer.field("responses", responses)
                try writer.object("rttMs", rttMs)
                writer.field("state", state)
                writer.field("transport", transport)
            }
        }
        struct RTT: DirectJSONObject {
            var min, median, max: Double

            func writeFields(_ writer: inout FieldWriter) throws {
                try writer.field("max", max)
                try writer.field("median", median)
                try writer.field("min", min)
            }
        }
        struct Selected: DirectJSONObject {
            var local, remote: String

            func writeFields(_ writer: inout FieldWriter) {
                writer.field("local", local)
                writer.field("remote", remote)
            }
        }
        var id: String
        var ufrags: [String]
        var controlling, controlled: String?
        var roleConflicts: Int
        var roleSwitches: [String]
        var candidates: [Candidate]
        var pairs: [Pair]
        var selectedPair: Selected?
        var outcome: String
        var timeToConnectMs: Double?
        var timeToFirstMediaMs: Double?
        var relayedChecks: Int
        var consent: ConsentJSON?
        var media: MediaJSON?
        var networkInfo: [String: NetworkJSON]
        var googPings: Int

        struct NetworkJSON: DirectJSONObject {
            var networkId, cost: Int

            func writeFields(_ writer: inout FieldWriter) {
                writer.field("cost", cost)
                writer.field("networkId", networkId)
            }
        }

        struct ConsentJSON: DirectJSONObject {
            var checks, answered: Int
            var medianIntervalMs, longestSilenceMs: Double?
            var lost: Bool

            func writeFields(_ writer: inout FieldWriter) throws {
                writer.field("answered", answered)
                writer.field("checks", checks)
                try writer.field("longestSilenceMs", longestSilenceMs)
                writer.field("lost", lost)
                try writer.field("medianIntervalMs", medianIntervalMs)
            }
        }
        /// Directions are "localToRemote" and "remoteToLocal" of the selected pair.
        struct MediaJSON: DirectJSONObject {
            var rtpPackets, rtcpPackets, dtlsRecords, packets, bytes, rtpLostEstimate: [String: Int]
            var ssrcs: [String]
            var payloadTypes: [Int]
            var firstRtpTime, dtlsHandshakeStartTime, dtlsFirstApplicationDataTime: String?
            var dtlsClient: String?
            var dtlsAlerts: Int
            var sctpBytes: [String: Int]
            var stalls: [Silence]
            var stallsDropped: Int
            var bitrate: Bitrate

            /// RTP kbit/s per bin of `binMs`, from `start`, each direction.
            struct Bitrate: Encodable {
                var binMs: Int
                var localToRemoteKbps, remoteToLocalKbps: [Double]
                var start: String?
            }

            /// Direction 0 is the media flow's first direction; both are named from the pair's view.
            init(_ flow: MediaFlow, local: TransportAddress) {
                let forward = flow.flow.source == local
                func split(_ values: Directional) -> [String: Int] {
                    ["localToRemote": forward ? values.first : values.second, "remoteToLocal": forward ? values.second : values.first]
                }
                rtpPackets = split(flow.rtpPackets)
                rtcpPackets = split(flow.rtcpPackets)
                dtlsRecords = split(flow.dtlsRecords)
                packets = split(flow.packets)
                bytes = split(flow.bytes)
                rtpLostEstimate = split(flow.rtpLost)
                ssrcs = flow.ssrcs.map { "0x" + String($0, radix: 16) }
                payloadTypes = flow.payloadTypeList
                firstRtpTime = flow.firstRTPTime.map(TimeFormat.rfc3339)
                dtlsHandshakeStartTime = flow.handshakeStart.map(TimeFormat.rfc3339)
                dtlsFirstApplicationDataTime = flow.firstApplicationData.map(TimeFormat.rfc3339)
                dtlsClient = flow.clientHelloDirection.map { ($0 == 0) == forward ? "local" : "remote" }
                dtlsAlerts = flow.dtlsAlerts
                sctpBytes = split(flow.sctpBytes)
                stalls = flow.stalls.map {
                    Silence(start: $0.start, end: $0.end, direction: ($0.direction == 0) == forward ? "localToRemote" : "remoteToLocal")
                }
                stallsDropped = flow.stallsDropped
                // Both directions on one time axis: the earlier start, the coarser bin.
                let series = forward ? (flow.bitrate[0], flow.bitrate[1]) : (flow.bitrate[1], flow.bitrate[0])
                bitrate = MediaJSON.bitrate(series.0, series.1)
            }

            static func bitrate(_ outbound: BitrateSeries, _ inbound: BitrateSeries) -> Bitrate {
                let aligned = BitrateAxis(outbound, inbound)
                return Bitrate(
                    binMs: Int(aligned.binMilliseconds), localToRemoteKbps: aligned.first.map(JSONReport.rounded),
                    remoteToLocalKbps: aligned.second.map(JSONReport.rounded), start: aligned.start.map(TimeFormat.rfc3339))
            }

            func writeFields(_ writer: inout FieldWriter) throws {
                try writer.encodable("bitrate", bitrate)
                writer.field("bytes", bytes)
                writer.field("dtlsAlerts", dtlsAlerts)
                writer.field("dtlsClient", dtlsClient)
                writer.field("dtlsFirstApplicationDataTime", dtlsFirstApplicationDataTime)
                writer.field("dtlsHandshakeStartTime", dtlsHandshakeStartTime)
                writer.field("dtlsRecords", dtlsRecords)
                writer.field("firstRtpTime", firstRtpTime)
                writer.field("packets", packets)
                writer.field("payloadTypes", payloadTypes)
                writer.field("rtcpPackets", rtcpPackets)
                writer.field("rtpLostEstimate", rtpLostEstimate)
                writer.field("rtpPackets", rtpPackets)
                writer.field("sctpBytes", sctpBytes)
                writer.field("ssrcs", ssrcs)
                try writer.encodable("stalls", stalls)
                writer.field("stallsDropped", stallsDropped)
            }
        }

        var vantage: String
        var restartOf: String?
        var pairsOmitted, candidatesOmitted, checksSeen, checksDropped: Int
        /// The join key of live events (`keys.ice`): the two ufrags sorted, joined by ":".
        var key: String

        init(_ session: ICESession) {
            key = session.ufrags.sorted().joined(separator: ":")
            vantage = session.vantage
            restartOf = session.restartOf
            pairsOmitted = session.pairsOmitted
            candidatesOmitted = session.candidatesOmitted
            checksSeen = session.checksSeen
            checksDropped = session.checksDropped
            id = session.id
            ufrags = session.ufrags
            controlling = session.controlling
            controlled = session.controlled
            roleConflicts = session.roleConflicts
            roleSwitches = session.roleSwitches
            candidates = session.candidates.map {
                Candidate(
                    agent: $0.agent, type: $0.type.rawValue, address: JSONAddress($0.address), transport: $0.transport.rawValue,
                    evidence: $0.evidence, gathered: $0.gathered, checked: $0.checked, base: $0.base.map(JSONAddress.init),
                    priority: $0.priority, typePreference: $0.typePreference,
                    localPreference: $0.localPreference, component: $0.component, sdpType: $0.signalledType?.rawValue,
                    sdpPriority: $0.signalledPriority)
            }
            pairs = session.pairs.map { pair in
                let rtts = pair.rttMilliseconds.sorted()
                return Pair(
                    local: JSONAddress(pair.local), remote: JSONAddress(pair.remote), state: pair.state.rawValue,
                    transport: pair.transport.rawValue, localType: pair.localType?.rawValue, remoteType: pair.remoteType?.rawValue,
                    localCandidate: pair.localCandidate.map(JSONAddress.init), remoteCandidate: pair.remoteCandidate.map(JSONAddress.init),
                    priority: pair.priority, checks: pair.checks, responses: pair.responses, errors: pair.errors,
                    nominated: pair.nominated,
                    rttMs: rtts.isEmpty ? nil : RTT(min: rtts[0], median: rtts[rtts.count / 2], max: rtts[rtts.count - 1]),
                    firstCheckTime: JSONTime(pair.firstCheck), firstSuccessTime: pair.firstSuccess.map(JSONTime.init),
                    media: pair.media.map { MediaJSON($0, local: pair.local) })
            }
            selectedPair = session.selectedPair.map { Selected(local: $0.local.description, remote: $0.remote.description) }
            outcome = session.outcome.rawValue
            timeToConnectMs = session.timeToConnectMilliseconds
            timeToFirstMediaMs = session.timeToFirstMediaMilliseconds
            relayedChecks = session.relayedChecks
            networkInfo = session.networkInfo.mapValues { NetworkJSON(networkId: Int($0.networkID), cost: Int($0.cost)) }
            googPings = session.googPings
            consent = session.consent.map {
                ConsentJSON(
                    checks: $0.checks, answered: $0.answered, medianIntervalMs: $0.medianIntervalMilliseconds,
                    longestSilenceMs: $0.longestSilenceMilliseconds, lost: $0.lost)
            }
            if let flow = session.media, let selected = session.selectedPair {
                media = MediaJSON(flow, local: selected.local)
            }
        }

        func writeFields(_ writer: inout FieldWriter) throws {
            try writer.objects("candidates", candidates)
            writer.field("candidatesOmitted", candidatesOmitted)
            writer.field("checksDropped", checksDropped)
            writer.field("checksSeen", checksSeen)
            try writer.object("consent", consent)
            writer.field("controlled", controlled)
            writer.field("controlling", controlling)
            writer.field("googPings", googPings)
            writer.field("id", id)
            writer.field("key", key)
            try writer.object("media", media)
            try writer.objects("networkInfo", networkInfo)
            writer.field("outcome", outcome)
            try writer.objects("pairs", pairs)
            writer.field("pairsOmitted", pairsOmitted)
            writer.field("relayedChecks", relayedChecks)
            writer.field("restartOf", restartOf)
            writer.field("roleConflicts", roleConflicts)
            writer.field("roleSwitches", roleSwitches)
            try writer.object("selectedPair", selectedPair)
            try writer.field("timeToConnectMs", timeToConnectMs)
            try writer.field("timeToFirstMediaMs", timeToFirstMediaMs)
            writer.field("ufrags", ufrags)
            writer.field("vantage", vantage)
        }
    }

    struct Allocation: Encodable {
        struct Permission: Encodable {
            var peer, installedBy, installedTime, lastRefreshedTime, expiresTime: String
            var refreshes: Int
        }
        struct Channel: Encodable {
            var number, peer, boundTime, expiresTime: String
            var reserved: Bool
        }
        struct Refresh: Encodable {
            var time: String
            var asked, granted: UInt32?
        }
        struct Relayed: Encodable {
            var packetsToPeers, bytesToPeers, packetsFromPeers, bytesFromPeers: Int
            var perPeer: [String: RelayedPeer]
        }
        struct RelayedPeer: Encodable {
            var packetsToPeer, bytesToPeer, packetsFromPeer, bytesFromPeer: Int
        }
        var id, client, server, transport, endReason: String
        /// The join key of live events (`keys.turnClient`): the client's 5-tuple.
        var key: String
        var username, realm, mappedAddress: String?
        var requestedTransport: String?
        var relayedAddresses: [String]
        var lifetime: UInt32?
        var firstRequestTime: String
        var createdTime, endedTime: String?
        var allocateErrors: [Int]
        var credentialsRefused: Int
        var refreshes: [Refresh]
        var permissions: [Permission]
        var channels: [Channel]
        var relayed: Relayed
        var sendsWithoutPermission, unboundChannelData, sentBeforePermissionAnswer: Int

        var vantage: String
        var tcpConnections: [TCPConnection]
        var peerSide: [PeerSideJSON]
        var requestedFamilies: [String]
        var addressErrors: [String]
        var evenPort: Bool?
        var reservationToken, usedReservationToken: String?

        struct PeerSideJSON: Encodable {
            var vantage, relayed, peer, firstTime, lastTime: String
            var stunTransactions, mediaPacketsToPeer, mediaBytesToPeer, mediaPacketsFromPeer, mediaBytesFromPeer: Int
        }

        struct TCPConnection: Encodable {
            var connectionId: UInt32?
            var peer, initiator, requestedTime: String
            var establishedTime, boundTime, dataConnectionFrom, dataConnectionTo: String?
            var errorCode, bindErrorCode: Int?
            /// Peer data on the data connection after ConnectionBind (present once bound).
            var bytesToPeer, bytesFromPeer: Int?
        }

        init(_ a: TURNAllocation) {
            vantage = a.vantage
            id = a.id
            key = FiveTuple(source: a.client, destination: a.server, transport: a.transport).description
            client = a.client.description
            server = a.server.description
            transport = a.transport.rawValue
            endReason = a.end.rawValue
            username = a.username  // the password never leaves the credential store
            realm = a.realm
            mappedAddress = a.mappedAddress?.description
            requestedTransport = a.requestedTransport.map { $0 == 17 ? "udp" : $0 == 6 ? "tcp" : String($0) }
            relayedAddresses = a.relayedAddresses.map(\.description)
            lifetime = a.lifetimeSeconds
            firstRequestTime = TimeFormat.rfc3339(a.firstRequest)
            createdTime = a.created.map(TimeFormat.rfc3339)
            endedTime = a.ended.map(TimeFormat.rfc3339)
            allocateErrors = a.allocateErrors
            credentialsRefused = a.credentialsRefused
            refreshes = a.refreshes.map { Refresh(time: TimeFormat.rfc3339($0.time), asked: $0.asked, granted: $0.granted) }
            permissions = a.permissions.map {
                Permission(
                    peer: $0.peer.description, installedBy: $0.installedBy.name, installedTime: TimeFormat.rfc3339($0.installed),
                    lastRefreshedTime: TimeFormat.rfc3339($0.lastRefreshed), expiresTime: TimeFormat.rfc3339($0.expires),
                    refreshes: $0.refreshes)
            }
            channels = a.channels.map {
                Channel(
                    number: "0x" + String($0.number, radix: 16), peer: $0.peer.description, boundTime: TimeFormat.rfc3339($0.bound),
                    expiresTime: TimeFormat.rfc3339($0.expires), reserved: $0.number >= 0x5000)
            }
            let totals = a.totals
            var perPeer: [String: RelayedPeer] = [:]
            for (peer, counters) in a.relayed {
                perPeer[peer.description] = RelayedPeer(
                    packetsToPeer: counters.packetsToPeer, bytesToPeer: counters.bytesToPeer,
                    packetsFromPeer: counters.packetsFromPeer, bytesFromPeer: counters.bytesFromPeer)
            }
            relayed = Relayed(
                packetsToPeers: totals.packetsToPeer, bytesToPeers: totals.bytesToPeer, packetsFromPeers: totals.packetsFromPeer,
                bytesFromPeers: totals.bytesFromPeer, perPeer: perPeer)
            sendsWithoutPermission = a.sendsWithoutPermission
            unboundChannelData = a.unboundChannelData
            sentBeforePermissionAnswer = a.sentBeforePermissionAnswer
            requestedFamilies = a.requestedFamilies.map(AttributeText.family)
            addressErrors = a.addressErrors.map { "\(AttributeText.family($0.family)): \($0.code)" }
            evenPort = a.evenPort
            reservationToken = a.reservationToken.map { "0x" + String($0, radix: 16) }
            usedReservationToken = a.usedReservationToken.map { "0x" + String($0, radix: 16) }
            peerSide = a.peerSide.map {
                PeerSideJSON(
                    vantage: $0.vantage, relayed: $0.relayed.description, peer: $0.peer.description,
                    firstTime: TimeFormat.rfc3339($0.firstTime), lastTime: TimeFormat.rfc3339($0.lastTime),
                    stunTransactions: $0.stunTransactions, mediaPacketsToPeer: $0.mediaPacketsToPeer,
                    mediaBytesToPeer: $0.mediaBytesToPeer, mediaPacketsFromPeer: $0.mediaPacketsFromPeer,
                    mediaBytesFromPeer: $0.mediaBytesFromPeer)
            }
            tcpConnections = a.tcpConnections.map {
                TCPConnection(
                    connectionId: $0.connectionID, peer: $0.peer.description, initiator: $0.initiator.rawValue,
                    requestedTime: TimeFormat.rfc3339($0.requested), establishedTime: $0.established.map(TimeFormat.rfc3339),
                    boundTime: $0.bound.map(TimeFormat.rfc3339), dataConnectionFrom: $0.dataConnection?.source.description,
                    dataConnectionTo: $0.dataConnection?.destination.description, errorCode: $0.errorCode,
                    bindErrorCode: $0.bindErrorCode, bytesToPeer: $0.bound == nil ? nil : $0.bytesToPeer,
                    bytesFromPeer: $0.bound == nil ? nil : $0.bytesFromPeer)
            }
        }
    }

    struct Message: Encodable {
        var input: Int
        var packet: Int
        var time: String
        var source: String
        var destination: String
        var transport: String
        var carrier: String
        var method: String
        var `class`: String
        var transactionId: String
        var classic: Bool
        var fingerprint: String
        var integrity: String
        var attributes: [Attribute]
        var problems: [String]

        init(_ record: MessageRecord) {
            input = record.ref.input
            packet = record.ref.packet
            time = TimeFormat.rfc3339(record.time)
            source = record.flow.source.description
            destination = record.flow.destination.description
            transport = record.flow.transport.rawValue
            carrier = record.carrier.rawValue
            method = record.message.method.name
            `class` = record.message.messageClass.name
            transactionId = record.message.transactionID.hex
            classic = record.message.isClassic
            fingerprint = record.fingerprint.rawValue
            integrity = record.integrity.rawValue
            attributes = record.message.attributes.map(Attribute.init)
            problems = record.message.problems.map(\.description)
        }
    }

    struct Attribute: Encodable {
        var type: String
        var name: String
        var length: Int
        var ignored: Bool?
        var value: String

        init(_ attribute: STUNAttribute) {
            let digits = String(attribute.type.rawValue, radix: 16)
            type = "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            name = attribute.name
            length = attribute.length
            ignored = attribute.ignored ? true : nil
            if case .bytes(secret: true) = attribute.type.entry?.format {
                value = "<redacted>"  // classic PASSWORD: never rendered
            } else {
                value = AttributeText.render(attribute.value)
            }
        }
    }
}

/// Attribute values as short text (JSON `value`, Markdown tables).
public enum AttributeText {
    public static func render(_ value: AttributeValue) -> String {
        switch value {
        case .address(let address), .xorAddress(let address): address.description
        case .text(let text): text
        case .bytes(let bytes): hex(bytes)
        case .digest(let digest), .messageIntegritySHA256(let digest): digest.description
        case .uint32(let number): String(number)
        case .uint64(let number): "0x" + String(number, radix: 16)
        case .empty: ""
        case .errorCode(let code, let reason): "\(code) \(reason)"
        case .unknownAttributes(let types): types.map { "0x" + String($0, radix: 16) }.joined(separator: ",")
        case .changeRequest(let ip, let port): "changeIP=\(ip) changePort=\(port)"
        case .channelNumber(let channel): "0x" + String(channel, radix: 16)
        case .requestedTransport(let proto): proto == 17 ? "UDP" : proto == 6 ? "TCP" : String(proto)
        case .addressFamily(let family): Self.family(family)
        case .evenPort(let reserve): "reserveNext=\(reserve)"
        case .responsePort(let port): String(port)
        case .passwordAlgorithm(let algorithm): algorithm.name
        case .passwordAlgorithms(let list): list.map(\.name).joined(separator: ",")
        case .addressErrorCode(let family, let code, let reason): "family \(family): \(code) \(reason)"
        case .icmp(let type, let code, let data): "type \(type) code \(code) data \(data)"
        case .transmitCounter(let requests, let responses): "requests \(requests) responses \(responses)"
        case .accessToken(let nonce, let block): "nonce \(hex(nonce)), \(block.count) encrypted bytes"
        case .googNetworkInfo(let id, let cost): "network \(id) cost \(cost)"
        case .googMiscInfo(let values): values.map(String.init).joined(separator: ",")
        case .nomination(let value): String(value)
        case .msSequenceNumber(let connection, let sequence): "connection \(hex(connection)) sequence \(sequence)"
        case .msServiceQuality(let stream, let quality): "stream \(stream) quality \(quality)"
        }
    }

    /// An address family number as RFC 8656 §18.1 names it (1 IPv4, 2 IPv6).
    static func family(_ number: UInt8) -> String {
        number == 1 ? "IPv4" : number == 2 ? "IPv6" : String(number)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.prefix(64).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + (bytes.count > 64 ? "…" : "")
    }
}

/// "input:packet", both counted from 1 for packets and from 0 for inputs as the inputs list is ordered.
func packet(_ ref: PacketRef) -> String { "\(ref.input):\(ref.packet)" }

extension JSONRendering {
    /// The report's types that write their own fields (`DirectJSONObject`). One left out here is still
    /// written right, the general way (the tests compare every report with Foundation's encoder), only slower.
    static let directTypes: Set<ObjectIdentifier> = [
        ObjectIdentifier(JSONReport.Mapping.self), ObjectIdentifier(JSONReport.Transaction.self),
        ObjectIdentifier(JSONReport.Session.self), ObjectIdentifier(JSONReport.Session.Candidate.self),
        ObjectIdentifier(JSONReport.Session.Pair.self), ObjectIdentifier(JSONReport.Session.RTT.self),
        ObjectIdentifier(JSONReport.Session.MediaJSON.self), ObjectIdentifier(JSONReport.Call.self),
        ObjectIdentifier(JSONReport.Call.End.self), ObjectIdentifier(JSONReport.Call.Relay.self),
        ObjectIdentifier(JSONReport.Session.Selected.self), ObjectIdentifier(JSONReport.Session.ConsentJSON.self),
        ObjectIdentifier(JSONReport.Session.NetworkJSON.self),
    ]
}
