/// Error-code reason phrases from the RFCs that define them (RFC 8489 §14.8, RFC 8656 §18.3, RFC 6062
/// §6.3, RFC 8016 §3.2, RFC 8445 §16.1, RFC 6156 §10.2, RFC 3489 §11.2.9 for the classic ones).
public enum STUNErrorCodes {
    public static let reasons: [Int: String] = [
        300: "Try Alternate",
        400: "Bad Request",
        401: "Unauthenticated",  // "Unauthorized" in RFC 5389 and the IANA table
        403: "Forbidden",
        405: "Mobility Forbidden",
        420: "Unknown Attribute",
        430: "Stale Credentials",
        431: "Integrity Check Failure",
        432: "Missing Username",
        433: "Use TLS",
        437: "Allocation Mismatch",
        438: "Stale Nonce",
        440: "Address Family not Supported",
        441: "Wrong Credentials",
        442: "Unsupported Transport Protocol",
        443: "Peer Address Family Mismatch",
        446: "Connection Already Exists",
        447: "Connection Timeout or Failure",
        486: "Allocation Quota Reached",
        487: "Role Conflict",
        500: "Server Error",
        508: "Insufficient Capacity",
        600: "Global Failure",
    ]

    /// Names RFC 8489 changed from the IANA table's (older) wording.
    public static let ianaAliases: [Int: String] = [401: "Unauthorized"]

    public static func reason(for code: Int) -> String? { reasons[code] }
}
