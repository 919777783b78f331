import WeDioBasics

/// What a browser said about its own ICE (a webrtc-internals dump): the pair it selected, with its candidates
/// as it named them, for one peer connection. Set beside the wire's call to say when the two disagree.
public struct BrowserView: Sendable, Hashable {
    public struct Candidate: Sendable, Hashable {
        public var address: TransportAddress?
        public var type: CandidateType?
        public var protocolName: String?
        public var relayProtocol: String?

        public init(address: TransportAddress?, type: CandidateType?, protocolName: String?, relayProtocol: String?) {
            self.address = address
            self.type = type
            self.protocolName = protocolName
            self.relayProtocol = relayProtocol
        }
    }

    /// The dump file and the peer connection's id in it.
    public var source: String
    public var peerConnection: String
    public var browser: String
    /// The ufrags of the descriptions this peer connection made (its own) and received (the peer's).
    public var localUfrags: [String]
    public var remoteUfrags: [String]
    public var selectedLocal: Candidate?
    public var selectedRemote: Candidate?
    public var iceConnectionState: String?

    public init(source: String, peerConnection: String, browser: String, localUfrags: [String], remoteUfrags: [String]) {
        self.source = source
        self.peerConnection = peerConnection
        self.browser = browser
        self.localUfrags = localUfrags
        self.remoteUfrags = remoteUfrags
    }
}

/// A browser's view against the wire's call: agreed, or each difference in words.
public struct BrowserComparison: Sendable, Hashable {
    public var view: BrowserView
    public var call: String?
    public var differences: [String]
    public var agrees: Bool { call != nil && differences.isEmpty }

    /// Compares each view with the call whose ufrags it shares: the browser's local candidate with its own
    /// end of the call's selected pair, its remote candidate with the other end (address and type).
    public static func compare(_ views: [BrowserView], with calls: [ICECall]) -> [BrowserComparison] {
        views.map { view in
            let ufrags = Set(view.localUfrags)
            guard let call = calls.first(where: { call in call.generations.joined().contains { ufrags.contains($0) } }) else {
                return BrowserComparison(view: view, call: nil, differences: ["no call on the wire has its ufrags (\(view.localUfrags.joined(separator: ", ")))"])
            }
            var differences: [String] = []
            let ends = [call.controlling, call.controlled].compactMap { $0 }
            let mine = ends.first { ufrags.contains($0.agent) }
            let theirs = ends.first { !ufrags.contains($0.agent) }
            func check(_ name: String, _ candidate: BrowserView.Candidate?, _ end: ICECall.End?) {
                guard let candidate else { return }
                guard let end else {
                    differences.append("the browser selected a \(name) candidate, the wire shows no selected pair")
                    return
                }
                if let address = candidate.address, address != end.address {
                    differences.append("\(name) candidate: the browser says \(address), the wire \(end.address)")
                }
                if let type = candidate.type, let wire = end.type, type != wire {
                    differences.append("\(name) candidate type: the browser says \(type.rawValue), the wire \(wire.rawValue)")
                }
            }
            check("local", view.selectedLocal, mine)
            check("remote", view.selectedRemote, theirs)
            return BrowserComparison(view: view, call: call.id, differences: differences)
        }
    }
}
