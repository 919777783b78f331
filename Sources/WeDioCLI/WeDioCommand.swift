import ArgumentParser
import Foundation
import WeDio

/// The version printed by `--version` and in reports.
public let wedioVersion = "0.1.0"

/// Exit codes (sysexits.h where one fits); documented in README.md.
public enum ExitStatus {
    public static let ok: Int32 = 0
    /// Inputs were read but at least one was damaged part-way (partial results reported).
    public static let damagedInput: Int32 = 65
    /// At least one input could not be read at all.
    public static let unreadableInput: Int32 = 66
    /// Live capture: interface missing or capture failed.
    public static let captureUnavailable: Int32 = 69
    /// Internal error.
    public static let software: Int32 = 70
    /// The output file could not be written.
    public static let cannotCreate: Int32 = 73
    /// Live capture: no permission (needs root or CAP_NET_RAW).
    public static let noPermission: Int32 = 77
}

public struct WeDioCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "wedio",
        abstract: "Explains WebRTC connectivity (STUN, TURN, ICE) from packet captures.",
        discussion: """
            Examples:
              wedio analyze call.pcapng
              wedio analyze --vantage inside=lan.pcap --vantage outside=wan.pcap
              wedio analyze call.pcap --filter "udp port 3478" --messages
              sudo wedio sniff --interface eth0 --duration 30 --write call.pcap
              wedio interfaces
            """,
        version: wedioVersion,
        subcommands: [Analyze.self, Sniff.self, Interfaces.self],
        defaultSubcommand: nil
    )

    public init() {}
}

/// Prints one line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Colour when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
func useColor() -> Bool {
    isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
}

/// The entry point the `wedio` executable calls (keeps ArgumentParser out of the executable target).
public enum WeDioMain {
    public static func main(_ arguments: [String]? = nil) {
        do {
            var command = try WeDioCommand.parseAsRoot(arguments)
            try command.run()
        } catch {
            // Usage errors, help, and the exit codes the commands chose go through the parser as usual;
            // anything else thrown is a fault of ours: one line, and EX_SOFTWARE (70), not a bare 1.
            guard WeDioCommand.exitCode(for: error) == .failure else { WeDioCommand.exit(withError: error) }
            printError("wedio: internal error: \(error)")
            Foundation.exit(ExitStatus.software)
        }
    }
}
