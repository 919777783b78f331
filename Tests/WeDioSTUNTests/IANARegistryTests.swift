import Foundation
import Testing
import WeDioSTUN

/// Checks WeDio's registry against IANA's stun-parameters tables (Vectors/iana/*.csv).
@Suite("IANA stun-parameters registry")
struct IANARegistryTests {
    /// IANA's spelling → ours, where the RFC spells it differently.
    static func normalise(_ name: String) -> String? {
        var name = name
        if name.hasPrefix("Reserved; was ") {
            // "Reserved; was RESPONSE-ADDRESS prior to [RFC5389]": classic attributes WeDio still decodes.
            name = String(name.dropFirst("Reserved; was ".count).prefix { $0 != " " })
        }
        if name.hasPrefix("Reserved") || name.hasPrefix("Unassigned") { return nil }
        return name.replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: " ", with: "-")
    }

    @Test("Every IANA attribute name is in the registry with the same spelling")
    func attributes() throws {
        let rows = Vectors.iana("stun-parameters-4.csv")
        #expect(rows.count > 80)
        var checked = 0
        for (value, ianaName) in rows where !value.contains("-") {
            guard let name = Self.normalise(ianaName), let code = UInt16(value.dropFirst(2), radix: 16) else { continue }
            #expect(AttributeType(code).name == name, "0x\(String(code, radix: 16)): IANA says \(name)")
            checked += 1
        }
        #expect(checked >= 60)
    }

    @Test("Unassigned and reserved code points are not given names by mistake")
    func unassignedStayUnknown() {
        for (value, ianaName) in Vectors.iana("stun-parameters-4.csv") where ianaName.hasPrefix("Unassigned") {
            let bounds = value.split(separator: "-").compactMap { UInt16($0.dropFirst(2), radix: 16) }
            guard let low = bounds.first, let high = bounds.last else { continue }
            let known = AttributeType.registry.keys.filter { (low...high).contains($0) }
            // Vendor numbers WeDio knows from their own documents (MS-TURN, draft ORIGIN, GOOG 0xFF04/05).
            let documented: Set<UInt16> = [
                0x802F, 0x8006, 0x8008, 0x8020, 0x8032, 0x8037, 0x8039, 0x8050, 0x8054, 0x8055, 0x8056, 0x8057, 0x8058,
                0x8059, 0x805A, 0x805B, 0x805C, 0x805D, 0x805E, 0x805F, 0x8060, 0x8061, 0x8062, 0x8068, 0x8070, 0x8090,
                0x8095, 0xFF04, 0xFF05,
            ]
            #expect(known.allSatisfy { documented.contains($0) }, "\(value) holds \(known.sorted())")
        }
    }

    @Test("Every IANA method has its name; GOOG-PING is 0x080")
    func methods() {
        var checked = 0
        for (value, ianaName) in Vectors.iana("stun-parameters-2.csv") where !value.contains("-") {
            guard let name = Self.normalise(ianaName), let code = UInt16(value.dropFirst(2), radix: 16) else { continue }
            #expect(STUNMethod(code).name == name)
            checked += 1
        }
        #expect(checked == 11)
        #expect(STUNMethod(0x002).name == "SharedSecret")
        #expect(STUNMethod.googPing.name == "GOOG-PING")
    }

    @Test("Every IANA error code has a reason phrase (RFC 8489 renames 401)")
    func errorCodes() {
        var checked = 0
        for (value, ianaName) in Vectors.iana("stun-parameters-6.csv") where !value.contains("-") && ianaName != "Unassigned" {
            guard let code = Int(value), let ours = STUNErrorCodes.reason(for: code) else {
                Issue.record("no reason for \(value)")
                continue
            }
            #expect(ours == ianaName || STUNErrorCodes.ianaAliases[code] == ianaName, "\(code)")
            checked += 1
        }
        #expect(checked == 18)
        #expect(STUNErrorCodes.reason(for: 401) == "Unauthenticated")
    }

    @Test("Message type bits interleave method and class (RFC 8489 §5)", arguments: STUNClass.allCases)
    func messageTypes(messageClass: STUNClass) {
        for method: UInt16 in [0x001, 0x002, 0x003, 0x004, 0x006, 0x007, 0x008, 0x009, 0x00A, 0x00B, 0x00C, 0x080, 0xFFF] {
            let type = MessageType.combine(STUNMethod(method), messageClass)
            let (decodedMethod, decodedClass) = MessageType.split(type)
            #expect(decodedMethod.rawValue == method)
            #expect(decodedClass == messageClass)
        }
        #expect(MessageType.combine(.binding, .errorResponse) == 0x0111)
        #expect(MessageType.combine(.googPing, .request) == 0x0200)
        #expect(MessageType.combine(.googPing, .successResponse) == 0x0300)
        #expect(MessageType.combine(.googPing, .errorResponse) == 0x0310)
        #expect(MessageType.combine(.channelBind, .successResponse) == 0x0109)
    }
}
