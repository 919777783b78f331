import Glibc
import WeDioBasics
import WeDioCapture

/// Turns the command line's captures into inputs: directories read whole, `--vantage NAME=GLOB` expanded,
/// and files that continue one another taken as one vantage point.
///
/// The rule for files given without a vantage name: files whose names differ only in their numbers (tcpdump
/// `-C`/`-W` names `ring.pcap`, `ring.pcap1`, …; dumpcap's and editcap's ring `call_00001_20261202080000.pcap`;
/// tcpdump `-G` time stamps in the name) are one vantage point when they have the same link type and snapshot
/// length and, in order of their first packet, each starts no earlier than the one before it ended (captures
/// taken side by side overlap in time, so they stay apart). The vantage point is named by what the names
/// share (`ring`, `call`). Every vantage point's files are read in order of their first packet.
public enum InputSets {
    public enum Problem: Error, CustomStringConvertible {
        case nothingMatches(String)
        case emptyDirectory(String)

        public var description: String {
            switch self {
            case .nothingMatches(let pattern): "no file matches '\(pattern)'"
            case .emptyDirectory(let path): "\(path): the directory holds no capture file"
            }
        }
    }

    /// `files`: positional arguments (files or directories); `named`: (vantage, file, glob or directory).
    /// `perInterface`: each interface of a pcapng file with several becomes a vantage point of its own, named
    /// `VANTAGE/INTERFACE` (the interface's name, else `ifN`): a router's LAN and WAN captured in one file are
    /// inside and outside at once.
    public static func resolve(
        files: [String], named: [(vantage: String, path: String)], perInterface: Bool
    ) throws(Problem) -> [InputSpec] {
        let specs = try resolve(files: files, named: named)
        guard perInterface else { return specs }
        return specs.flatMap { spec -> [InputSpec] in
            let interfaces = OfflineCapture.pcapngInterfaces(path: spec.path)
            guard interfaces.count > 1 else { return [spec] }
            var used: Set<String> = []
            return interfaces.map { interface in
                var label = interface.name.map { $0.isEmpty ? "if\(interface.index)" : $0 } ?? "if\(interface.index)"
                if !used.insert(label).inserted { label += "-\(interface.index)" }
                return InputSpec(path: spec.path, vantage: "\(spec.vantage)/\(label)", interface: interface.index)
            }
        }
    }

    public static func resolve(files: [String], named: [(vantage: String, path: String)]) throws(Problem) -> [InputSpec] {
        var result: [InputSpec] = []
        for (vantage, pattern) in named {
            let paths = try expand(pattern)
            result += ordered(paths).map { InputSpec(path: $0, vantage: vantage) }
        }
        var loose: [String] = []
        for file in files {
            loose += isDirectory(file) ? try expand(file) : [file]
        }
        loose.removeAll { path in result.contains { $0.path == path } }
        result += grouped(loose)
        return result
    }

    /// A glob, a directory (every capture in it, by name) or a plain path.
    static func expand(_ pattern: String) throws(Problem) -> [String] {
        if isDirectory(pattern) {
            let found = listDirectory(pattern).filter { OfflineCapture.looksLikeCapture(path: $0) }
            if found.isEmpty { throw .emptyDirectory(pattern) }
            return found
        }
        guard pattern.contains(where: { "*?[".contains($0) }) else { return [pattern] }
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, 0, nil, &matches) == 0 else { throw .nothingMatches(pattern) }
        var paths: [String] = []
        for index in 0..<Int(matches.gl_pathc) {
            if let entry = matches.gl_pathv[index] { paths.append(String(cString: entry)) }
        }
        let files = paths.filter { !isDirectory($0) }
        if files.isEmpty { throw .nothingMatches(pattern) }
        return files
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func listDirectory(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            let full = path.hasSuffix("/") ? path + name : path + "/" + name
            var info = stat()
            if stat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { names.append(full) }
        }
        return names.sorted()
    }

    /// Paths in order of their first packet (unreadable ones last, in the order given).
    static func ordered(_ paths: [String]) -> [String] {
        guard paths.count > 1 else { return paths }
        let outlines = paths.map { OfflineCapture.outline(path: $0) }
        return paths.indices.sorted { a, b in
            switch (outlines[a]?.firstTime, outlines[b]?.firstTime) {
            case (let x?, let y?): x == y ? a < b : x < y
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a < b
            }
        }.map { paths[$0] }
    }

    /// The name with every run of digits (and a trailing `.gz`) replaced: what rotated files share.
    static func stem(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".gz") { name.removeLast(3) }
        var stem = ""
        var inDigits = false
        for character in name {
            if character.isASCII && character.isNumber {
                if !inDigits { stem.append("#") }
                inDigits = true
            } else {
                stem.append(character)
                inDigits = false
            }
        }
        let directory = path.split(separator: "/").dropLast().joined(separator: "/")
        return directory + "/" + stem
    }

    /// The vantage name a set of rotated files shares: the stem without its numbers and extension.
    static func setName(_ stem: String) -> String {
        var name = stem.split(separator: "/").last.map(String.init) ?? stem
        for suffix in [".pcapng#", ".pcap#", ".cap#", ".pcapng", ".pcap", ".cap"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
            break
        }
        name.removeAll { $0 == "#" }
        while let last = name.last, "_-. ".contains(last) { name.removeLast() }
        while let first = name.first, "_-. ".contains(first) { name.removeFirst() }
        return name.isEmpty ? "capture" : name
    }

    /// Positional files: rotated sets become one vantage point each (see the rule above); the rest keep
    /// their own names.
    static func grouped(_ paths: [String]) -> [InputSpec] {
        var byStem: [String: [String]] = [:]
        var stems: [String] = []
        for path in paths {
            let key = stem(path)
            guard key.contains("#") else { continue }
            if byStem[key] == nil { stems.append(key) }
            byStem[key, default: []].append(path)
        }
        var setOf: [String: String] = [:]
        var setMembers: [String: [String]] = [:]
        for key in stems {
            guard let members = byStem[key], members.count > 1 else { continue }
            let outlines = members.map { OfflineCapture.outline(path: $0) }
            guard outlines.allSatisfy({ $0 != nil }) else { continue }
            let known = outlines.compactMap { $0 }
            guard Set(known.map(\.linkType)).count == 1, Set(known.map(\.snapshotLength)).count == 1 else { continue }
            let order = members.indices.sorted { a, b in
                (known[a].firstTime ?? CaptureTime(nanoseconds: 0), a) < (known[b].firstTime ?? CaptureTime(nanoseconds: 0), b)
            }
            var follows = true
            for (previous, next) in zip(order, order.dropFirst()) {
                guard let end = known[previous].lastTime else { continue }  // an empty file continues nothing
                if let start = known[next].firstTime, start < end { follows = false }
            }
            guard follows else { continue }
            let name = setName(key)
            setMembers[key] = order.map { members[$0] }
            for member in members { setOf[member] = name }
        }
        var result: [InputSpec] = []
        var emitted: Set<String> = []
        for path in paths {
            if let name = setOf[path] {
                let key = stem(path)
                guard !emitted.contains(key), let members = setMembers[key] else { continue }
                emitted.insert(key)
                result += members.map { InputSpec(path: $0, vantage: name) }
            } else {
                result.append(InputSpec(path: path))
            }
        }
        return result
    }
}
