import Foundation
import Testing
import WeDioBasics
import WeDioReport

/// The report spells numbers, addresses and times straight into its bytes (`ByteBuffer`, `TimeFormat.append`);
/// each is checked against a spelling that does not share its code: the standard library's `String(_:)`,
/// the address's own interpolation, and the C library's `gmtime_r` for the calendar.
@Suite("ASCII spelling of numbers, addresses and times")
struct ASCIITextTests {
    static func spelled(_ write: (inout ByteBuffer) -> Void) -> String {
        var bytes = ByteBuffer(capacity: 1)  // grown as it is written
        bytes.append(utf8: "prefix ")
        write(&bytes)
        return String(decoding: bytes.array, as: UTF8.self)
    }

    @Test("Integers as String(_:) spells them, at the edges and at random")
    func integers() {
        var generator = SystemRandomNumberGenerator()
        let unsigned: [UInt64] = [0, 1, 9, 10, 99, 100, 65_535, 4_294_967_295, 9_999_999_999_999_999_999, .max]
            + (0..<200).map { _ in UInt64.random(in: 0 ... .max, using: &generator) >> UInt64.random(in: 0..<64, using: &generator) }
        for value in unsigned {
            #expect(Self.spelled { $0.appendDecimal(value) } == "prefix \(String(value))")
        }
        let signed: [Int64] = [0, -1, -9, -10, 42, .min, .max, -9_223_372_036_854_775_807]
            + (0..<200).map { _ in Int64.random(in: .min ... .max, using: &generator) >> Int64.random(in: 0..<63, using: &generator) }
        for value in signed {
            #expect(Self.spelled { $0.appendDecimal(value) } == "prefix \(String(value))")
        }
        #expect(Self.spelled { $0.appendDecimal(UInt16(3478)) } == "prefix 3478")
        #expect(Self.spelled { $0.appendDecimal(Int8(-128)) } == "prefix -128")
        #expect(Self.spelled { $0.appendPadded(7, width: 6) } == "prefix 000007")
        #expect(Self.spelled { $0.appendPadded(0, width: 2) } == "prefix 00")
    }

    @Test("Addresses as their interpolation spells them")
    func addresses() {
        let samples: [TransportAddress] = [
            TransportAddress(ip: .v4(0), port: 0), TransportAddress(ip: .v4(0xFFFF_FFFF), port: 65_535),
            TransportAddress(ip: .v4(0x0A14_0001), port: 40_000), TransportAddress(ip: .v6(1), port: 3478),
            TransportAddress(ip: .v6(0x2001_0DB8 << 96 | 0x1), port: 443),
            TransportAddress(ip: .v6(0xFFFF << 32 | 0xC633_6401), port: 5_000),
        ]
        for address in samples {
            let expected: String
            switch address.ip {
            case .v4(let a): expected = "\(a >> 24).\((a >> 16) & 0xFF).\((a >> 8) & 0xFF).\(a & 0xFF):\(address.port)"
            case .v6: expected = "[\(address.ip)]:\(address.port)"
            }
            #expect(Self.spelled { address.appendText(to: &$0) } == "prefix \(expected)")
            #expect(address.description == expected)
        }
        #expect(IPAddress.v4(0xC633_6401).description == "198.51.100.1")
    }

    @Test("RFC 3339 times agree with gmtime_r, microseconds zero-padded, before 1970 too")
    func times() {
        var generator = SystemRandomNumberGenerator()
        let seconds: [Int64] = [0, -1, 59, 86_399, 86_400, 951_782_400, 1_700_000_000, 4_102_444_800, -2_208_988_800]
            + (0..<300).map { _ in Int64.random(in: -2_000_000_000...9_000_000_000, using: &generator) }
        for second in seconds {
            for micro in [Int64(0), 1, 100, 999_999] {
                let time = CaptureTime(nanoseconds: second * 1_000_000_000 + micro * 1_000 + 999)
                var civil = tm()
                var clock = time_t(second)
                gmtime_r(&clock, &civil)
                let year = Int(civil.tm_year) + 1900
                let expected = String(year) + String(
                    format: "-%02d-%02dT%02d:%02d:%02d.%06lldZ", civil.tm_mon + 1, civil.tm_mday, civil.tm_hour,
                    civil.tm_min, civil.tm_sec, micro)
                #expect(TimeFormat.rfc3339(time) == expected)
                #expect(Self.spelled { TimeFormat.append(time, to: &$0) } == "prefix \(expected)")
            }
        }
    }
}
