/// Parses hex literals such as `"0001 0058 2112a442"` (whitespace, newlines and `#` comments ignored).
public enum Hex {
    public static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for character in content {
                guard let nibble = character.hexDigitValue.map(UInt8.init) else { continue }
                if let pending = high {
                    out.append(pending << 4 | nibble)
                    high = nil
                } else {
                    high = nibble
                }
            }
        }
        return out
    }

    public static func string(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
