import Foundation

/// Password preparation before keys are derived. RFC 5389 used SASLprep (RFC 4013); RFC 8489 uses
/// OpaqueString (RFC 8265). Both map non-ASCII spaces to U+0020; SASLprep also drops "commonly mapped to
/// nothing" characters and applies NFKC (OpaqueString applies NFC). SASLprep is applied here: it is what
/// RFC 5769's long-term vector needs, and it leaves ASCII passwords unchanged either way.
public enum PasswordPreparation {
    /// RFC 3454 B.1: characters mapped to nothing.
    static let mappedToNothing: Set<UInt32> = [
        0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D, 0x2060, 0xFE00, 0xFE01, 0xFE02,
        0xFE03, 0xFE04, 0xFE05, 0xFE06, 0xFE07, 0xFE08, 0xFE09, 0xFE0A, 0xFE0B, 0xFE0C, 0xFE0D, 0xFE0E, 0xFE0F,
        0xFEFF,
    ]

    /// RFC 3454 C.1.2: non-ASCII space characters.
    static let nonASCIISpaces: Set<UInt32> = [
        0x00A0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
        0x200B, 0x202F, 0x205F, 0x3000,
    ]

    public static func saslPrep(_ password: String) -> String {
        if password.allSatisfy(\.isASCII) { return password }
        var scalars = String.UnicodeScalarView()
        for scalar in password.unicodeScalars {
            if nonASCIISpaces.contains(scalar.value) {
                scalars.append(" ")
            } else if !mappedToNothing.contains(scalar.value) {
                scalars.append(scalar)
            }
        }
        return String(scalars).precomposedStringWithCompatibilityMapping
    }
}

/// ICE credentials read from an SDP file: `a=ice-ufrag` / `a=ice-pwd` pairs (session or media level).
public enum SDPCredentials {
    public static func parse(_ text: String) -> [(ufrag: String, password: String)] {
        var result: [(String, String)] = []
        var ufrag: String?
        var password: String?
        func flush() {
            if let ufrag, let password, !result.contains(where: { $0.0 == ufrag }) { result.append((ufrag, password)) }
        }
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("m=") {
                flush()
                password = nil
                ufrag = nil
            } else if line.hasPrefix("a=ice-ufrag:") {
                ufrag = String(line.dropFirst("a=ice-ufrag:".count))
            } else if line.hasPrefix("a=ice-pwd:") {
                password = String(line.dropFirst("a=ice-pwd:".count))
            }
            if ufrag != nil && password != nil { flush() }
        }
        flush()
        return result
    }
}
