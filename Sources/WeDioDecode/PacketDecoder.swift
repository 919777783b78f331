import WeDioBasics

/// Counters of the decode layer, per input.
public struct DecodeCounters: Sendable, Equatable {
    public var packets = 0
    public var ipv4 = 0
    public var ipv6 = 0
    public var nonIP = 0
    /// UDP datagrams decoded (a reassembled datagram counts once).
    public var udp = 0
    /// TCP segments decoded.
    public var tcp = 0
    public var otherTransport = 0
    public var ipFragments = 0
    public var reassembledDatagrams = 0
    public var truncated = 0
    public var malformed = 0
    /// ICMP/ICMPv6 errors quoting a UDP datagram.
    public var icmpErrors = 0

    public init() {}
}

/// Link → IP (with defragmentation) → UDP/TCP (with stream reassembly) → RFC 7983 demux, for one packet
/// at a time. Errors are recorded as diagnostics and never stop decoding.
public struct PacketDecoder: Sendable {
    public private(set) var counters = DecodeCounters()
    public private(set) var fragments = FragmentReassembler()
    public private(set) var streams = TCPReassembler()
    public private(set) var demux = Demultiplexer()

    public init() {}

    public typealias Deliver = (ClassifiedPayload, borrowing Span<UInt8>) -> Void

    /// Decodes one captured packet. `wireLength` is its original length (tells truncation from damage).
    public mutating func decode(
        link: LinkType, ref: PacketRef, time: CaptureTime, wireLength: Int, bytes: borrowing Span<UInt8>,
        log: inout DiagnosticLog, deliver: Deliver
    ) {
        counters.packets += 1
        let capturedIsShort = bytes.count < wireLength
        do throws(DecodeError) {
            let linkPayload = try LinkDecoder.decode(link, bytes)
            let packet: IPPacket
            switch linkPayload.network {
            case .ipv4:
                counters.ipv4 += 1
                packet = try IPDecoder.ipv4(bytes, at: linkPayload.offset, capturedIsShort: capturedIsShort)
            case .ipv6:
                counters.ipv6 += 1
                packet = try IPDecoder.ipv6(bytes, at: linkPayload.offset, capturedIsShort: capturedIsShort)
            case .other:
                counters.nonIP += 1
                return
            }
            if let fragment = packet.fragment {
                counters.ipFragments += 1
                if capturedIsShort {
                    throw DecodeError.truncated("IP fragment")
                }
                switch fragments.add(packet, fragment: fragment, payload: bytes, at: time) {
                case .pending:
                    return
                case .dropped(let reason, let detail):
                    log.record(Diagnostic(ref: ref, reason: reason, detail: detail))
                    return
                case .complete(let datagram):
                    counters.reassembledDatagrams += 1
                    var whole = packet
                    whole.payload = 0..<datagram.count
                    whole.fragment = nil
                    try transport(
                        whole, bytes: datagram.span, capturedIsShort: false, ref: ref, time: time, log: &log,
                        deliver: deliver)
                    return
                }
            }
            try transport(
                packet, bytes: bytes, capturedIsShort: capturedIsShort, ref: ref, time: time, log: &log,
                deliver: deliver)
        } catch {
            if error.reason == .truncated { counters.truncated += 1 } else { counters.malformed += 1 }
            log.record(Diagnostic(ref: ref, reason: error.reason, detail: error.detail))
        }
    }

    private mutating func transport(
        _ packet: IPPacket, bytes: borrowing Span<UInt8>, capturedIsShort: Bool, ref: PacketRef, time: CaptureTime,
        log: inout DiagnosticLog, deliver: Deliver
    ) throws(DecodeError) {
        switch packet.upperProtocol {
        case IPDecoder.protocolUDP:
            let udp = try UDPHeader.decode(bytes, range: packet.payload, capturedIsShort: capturedIsShort)
            counters.udp += 1
            let flow = packet.flow(udp.sourcePort, udp.destinationPort, .udp)
            let payload = bytes.extracting(udp.payload)
            let kind = demux.classify(payload, flow: flow)
            if capturedIsShort, payload.count > 0, kind == .unknown {
                // A cut payload cannot pass the length checks: say so rather than calling it unknown.
                counters.truncated += 1
                log.record(Diagnostic(ref: ref, reason: .truncated, detail: "UDP payload cut short by the capture"))
            }
            deliver(ClassifiedPayload(ref: ref, time: time, flow: flow, kind: kind, framing: nil), payload)
        case IPDecoder.protocolTCP:
            let tcp = try TCPHeader.decode(bytes, range: packet.payload, capturedIsShort: capturedIsShort)
            counters.tcp += 1
            let flow = packet.flow(tcp.sourcePort, tcp.destinationPort, .tcp)
            if capturedIsShort && !tcp.payload.isEmpty {
                // Missing bytes would corrupt the stream: treat them as a gap (the segment is not used).
                counters.truncated += 1
                log.record(Diagnostic(ref: ref, reason: .truncated, detail: "TCP segment cut short by the capture"))
                return
            }
            let before = streams.counters
            streams.process(flow: flow, header: tcp, bytes: bytes, time: time) { framing, frame in
                let kind: PayloadKind
                switch framing {
                case .stun: kind = demux.classifyStreamFrame(frame, flow: flow)
                case .rfc4571: kind = demux.classify(frame, flow: flow)
                case .tls: kind = .tls
                case .relayedData: kind = .turnTCPData
                }
                deliver(ClassifiedPayload(ref: ref, time: time, flow: flow, kind: kind, framing: framing), frame)
            }
            let after = streams.counters
            if after.gaps > before.gaps {
                log.record(Diagnostic(ref: ref, reason: .tcpGap, detail: "TCP bytes missing in \(flow); skipped ahead"))
            }
            if after.framingLost > before.framingLost {
                log.record(
                    Diagnostic(ref: ref, reason: .tcpFramingLost, detail: "TCP stream \(flow) stopped parsing as STUN framing"))
            }
        case IPDecoder.protocolICMP where packet.source.isIPv4, IPDecoder.protocolICMPv6 where !packet.source.isIPv4:
            counters.otherTransport += 1
            icmpError(packet, bytes: bytes, ref: ref, time: time, deliver: deliver)
        default:
            counters.otherTransport += 1
        }
    }

    /// An ICMP (RFC 792) or ICMPv6 (RFC 4443) error quoting a UDP datagram: delivered with the quoted flow and
    /// whatever of its payload was quoted. Anything else (echo, TCP quoted, too short) is only counted.
    private mutating func icmpError(
        _ packet: IPPacket, bytes: borrowing Span<UInt8>, ref: PacketRef, time: CaptureTime, deliver: Deliver
    ) {
        let start = packet.payload.lowerBound
        guard let type = ByteCursor.getUInt8(bytes, at: start), let code = ByteCursor.getUInt8(bytes, at: start + 1) else { return }
        let version: UInt8 = packet.source.isIPv4 ? 4 : 6
        let isError = version == 4 ? (type == 3 || type == 11) : (type >= 1 && type <= 3)
        guard isError, packet.payload.count >= 8 + 20 else { return }
        // The quoted packet, cut wherever the router stopped: decoded as a capture cut short.
        let quotedStart = start + 8
        let quotedBytes = bytes.extracting(quotedStart..<packet.payload.upperBound)
        let quoted: IPPacket
        do throws(DecodeError) {
            quoted =
                version == 4
                ? try IPDecoder.ipv4(quotedBytes, at: 0, capturedIsShort: true)
                : try IPDecoder.ipv6(quotedBytes, at: 0, capturedIsShort: true)
        } catch {
            return
        }
        guard quoted.upperProtocol == IPDecoder.protocolUDP, quoted.fragment?.offset ?? 0 == 0,
            let sourcePort = ByteCursor.getUInt16(quotedBytes, at: quoted.payload.lowerBound),
            let destinationPort = ByteCursor.getUInt16(quotedBytes, at: quoted.payload.lowerBound + 2)
        else { return }
        let udpPayloadStart = min(quoted.payload.lowerBound + 8, quotedBytes.count)
        let flow = quoted.flow(sourcePort, destinationPort, .udp)
        counters.icmpErrors += 1
        deliver(
            ClassifiedPayload(
                ref: ref, time: time, flow: flow,
                kind: .icmpError(ICMPErrorKind(version: version, type: type, code: code, reporter: packet.source)), framing: nil),
            quotedBytes.extracting(udpPayloadStart..<quotedBytes.count))
    }
}
