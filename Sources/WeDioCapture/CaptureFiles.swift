import CGzipStream
import Glibc

/// Whole small files that may be gzip-compressed (a webrtc-internals dump as Chrome downloads it).
public enum CaptureFiles {
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The file's bytes, decompressed when it is gzip; more than `limit` bytes is an error, not a crash.
    public static func readWhole(path: String, limit: Int) throws(ReadError) -> [UInt8] {
        let stream = wedio_is_gzip(path) == 1 ? wedio_gzip_open(path) : fopen(path, "rb")
        guard let stream else { throw ReadError(description: "cannot open (\(String(cString: strerror(errno))))") }
        defer { fclose(stream) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, stream)
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if bytes.count > limit { throw ReadError(description: "larger than \(limit / 1_048_576) MiB") }
            if count < chunk.count {
                if ferror(stream) != 0 { throw ReadError(description: "read error (a damaged gzip stream?)") }
                break
            }
        }
        return bytes
    }
}
