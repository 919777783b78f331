import Foundation
import WeDioAnalysis
import WeDioBasics
import WeDioCapture

/// Chrome's "Create a WebRTC-Internals dump" (chrome://webrtc-internals; gzip-compressed when its "Compress
/// result" box is ticked, as it is by default): per peer connection, the descriptions it made and received
/// (ICE credentials and candidates, as `--sdp` gives them) and its stats over time (the selected pair and its
/// candidates as the browser named them). Firefox's about:webrtc has no such file.
public struct WebRTCInternalsDump: Sendable {
    public var descriptions: [String] = []
    public var trickledCandidates: [String] = []
    public var views: [BrowserView] = []

    public enum Problem: Error, CustomStringConvertible {
        case unreadable(String, String)

        public var description: String {
            switch self {
            case .unreadable(let path, let why): "\(path): \(why)"
            }
        }
    }

    /// A dump is at most this large (decompressed): a day of stats of a few calls.
    static let maximumBytes = 512 * 1024 * 1024

    public static func read(path: String) throws(Problem) -> WebRTCInternalsDump {
        let bytes: [UInt8]
        do {
            bytes = try CaptureFiles.readWhole(path: path, limit: maximumBytes)
        } catch {
            throw .unreadable(path, error.description)
        }
        return try parse(bytes, source: path)
    }

    public static func parse(_ bytes: [UInt8], source: String) throws(Problem) -> WebRTCInternalsDump {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw .unreadable(source, "not JSON (a webrtc-internals dump is the JSON file chrome://webrtc-internals downloads)")
        }
        guard let root = object as? [String: Any], let connections = root["PeerConnections"] as? [String: Any] else {
            throw .unreadable(source, "no PeerConnections: not a webrtc-internals dump")
        }
        let browser = (root["UserAgent"] as? String).map { $0.contains("Chrome/") ? "chromium" : "browser" } ?? "chromium"
        var dump = WebRTCInternalsDump()
        for id in connections.keys.sorted() {
            guard let connection = connections[id] as? [String: Any] else { continue }
            var local: [String] = []
            var remote: [String] = []
            for entry in connection["updateLog"] as? [[String: Any]] ?? [] {
                guard let type = entry["type"] as? String, let value = entry["value"] as? String else { continue }
                switch type {
                case "setLocalDescription", "setRemoteDescription":
                    guard let description = decodeJSON(value) as? [String: Any], let sdp = description["sdp"] as? String else { continue }
                    dump.descriptions.append(sdp)
                    let ufrags = SDPCredentials.parse(sdp).map(\.ufrag)
                    if type == "setLocalDescription" { local += ufrags.filter { !local.contains($0) } }
                    else { remote += ufrags.filter { !remote.contains($0) } }
                case "onicecandidate", "addIceCandidate":
                    if let candidate = (decodeJSON(value) as? [String: Any])?["candidate"] as? String {
                        dump.trickledCandidates.append(candidate)
                    }
                default:
                    break
                }
            }
            var view = BrowserView(source: source, peerConnection: id, browser: browser, localUfrags: local, remoteUfrags: remote)
            let stats = connection["stats"] as? [String: Any] ?? [:]
            func last(_ key: String) -> Any? {
                guard let series = stats[key] as? [String: Any], let text = series["values"] as? String,
                    let values = decodeJSON(text) as? [Any]
                else { return nil }
                return values.last
            }
            func candidate(_ id: String) -> BrowserView.Candidate {
                var address: TransportAddress?
                if let ip = (last("\(id)-address") ?? last("\(id)-ip")) as? String, let port = last("\(id)-port") as? Int,
                    let parsed = IPAddress(ip), let port16 = UInt16(exactly: port)
                {
                    address = TransportAddress(ip: parsed, port: port16)
                }
                return BrowserView.Candidate(
                    address: address, type: (last("\(id)-candidateType") as? String).flatMap(CandidateType.init(rawValue:)),
                    protocolName: last("\(id)-protocol") as? String, relayProtocol: last("\(id)-relayProtocol") as? String)
            }
            // The transport's selected pair (bundle: one transport), at the end of the dump.
            let transports = stats.keys.filter { $0.hasSuffix("-selectedCandidatePairId") }.sorted()
            if let key = transports.first, let pair = last(key) as? String {
                if let localID = last("\(pair)-localCandidateId") as? String { view.selectedLocal = candidate(localID) }
                if let remoteID = last("\(pair)-remoteCandidateId") as? String { view.selectedRemote = candidate(remoteID) }
            }
            for entry in (connection["updateLog"] as? [[String: Any]] ?? []).reversed() where entry["type"] as? String == "oniceconnectionstatechange" {
                view.iceConnectionState = (entry["value"] as? String)?.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                break
            }
            dump.views.append(view)
        }
        return dump
    }

    private static func decodeJSON(_ text: String) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }
}
