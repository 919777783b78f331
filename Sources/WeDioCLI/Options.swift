import ArgumentParser
import Foundation
import WeDio
import WeDioAnalysis

/// Output formats of `sniff`.
enum LiveFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case ndjson
}

/// Output formats of `analyze`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
    case markdown
    /// The live stream's lines, as `wedio sniff --format ndjson` would have written them, then the report.
    case ndjson
}

/// Credentials for MESSAGE-INTEGRITY checks. Passwords are used for keys only and never printed.
struct CredentialOptions: ParsableArguments {
    @Option(
        name: .customLong("ice-credentials"),
        help: ArgumentHelp("ICE short-term credentials of one agent (repeatable).", valueName: "UFRAG:PASSWORD"))
    var iceCredentials: [String] = []

    @Option(
        name: .customLong("turn-credentials"),
        help: ArgumentHelp("TURN long-term credentials (repeatable).", valueName: "USER:PASSWORD"))
    var turnCredentials: [String] = []

    @Option(
        name: .customLong("sdp"),
        help: ArgumentHelp(
            "Read a=ice-ufrag / a=ice-pwd (to verify checks) and a=candidate lines (shown beside the wire's candidates) from an SDP file (repeatable).",
            valueName: "FILE"))
    var sdpFiles: [String] = []

    @Option(
        name: .customLong("webrtc-internals"),
        help: ArgumentHelp(
            "Read Chrome's webrtc-internals dump (the JSON chrome://webrtc-internals downloads, gzip or not): the "
                + "descriptions' credentials and candidates, as --sdp, and the browser's own selected pair, set beside the wire's (repeatable).",
            valueName: "FILE"))
    var internalsFiles: [String] = []

    func validate() throws {
        for value in iceCredentials + turnCredentials where !value.contains(":") {
            throw ValidationError("credentials must be NAME:PASSWORD (got a value without ':')")
        }
    }

    /// The analyzer's options from every credential source, each file read once: passwords given on the
    /// command line, the SDP files' and the dumps' credentials and candidates, and the dumps' browser views.
    func analyzerOptions(keepMessages: Bool) throws -> Analyzer.Options {
        var store = CredentialStore()
        for value in iceCredentials {
            let (name, password) = split(value)
            store.addICE(ufrag: name, password: PasswordPreparation.saslPrep(password))
        }
        for value in turnCredentials {
            let (name, password) = split(value)
            store.addTURN(username: name, password: PasswordPreparation.saslPrep(password))
        }
        var texts: [String] = []
        for path in sdpFiles {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read SDP file \(path)")
            }
            texts.append(text)
        }
        var views: [BrowserView] = []
        for path in internalsFiles {
            let dump: WebRTCInternalsDump
            do {
                dump = try WebRTCInternalsDump.read(path: path)
            } catch {
                throw ValidationError("\(error)")
            }
            texts += dump.descriptions + [dump.trickledCandidates.joined(separator: "\n")]
            views += dump.views
        }
        for text in texts {
            for (ufrag, password) in SDPCredentials.parse(text) {
                store.addICE(ufrag: ufrag, password: PasswordPreparation.saslPrep(password))
            }
        }
        var options = Analyzer.Options(keepMessages: keepMessages, credentials: store)
        options.signalledCandidates = texts.flatMap(SDPCandidates.parse)
        options.signalledCodecs = texts.flatMap(SDPCodecs.parse)
        options.browserViews = views
        return options
    }

    private func split(_ value: String) -> (String, String) {
        guard let colon = value.firstIndex(of: ":") else { return (value, "") }
        return (String(value[..<colon]), String(value[value.index(after: colon)...]))
    }
}
