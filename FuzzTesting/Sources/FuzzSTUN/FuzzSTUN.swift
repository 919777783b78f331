import FuzzDriver
import WeDioSTUN

/// STUN message decoder, FINGERPRINT and integrity checks, and the encoder on what decodes.
/// Invariants: no trap; a decoded message re-encodes and decodes to the same method, class and id.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSTUN(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let message = try? STUNMessage.decode(bytes.span) else { return 0 }
    _ = Fingerprint.verify(message, bytes: bytes.span)
    _ = Integrity.verify(message, bytes: bytes.span, key: STUNKey.shortTerm(password: "fuzz"))
    let encoded = STUNEncoder.encode(message)
    guard let again = try? STUNMessage.decode(encoded.span) else {
        fatalError("re-encoded message does not decode")
    }
    precondition(again.method == message.method && again.messageClass == message.messageClass)
    precondition(again.transactionID == message.transactionID)
    return 0
}

/// SwiftPM's entry point for this executable: hand over to libFuzzer's driver.
@_cdecl("FuzzSTUN_main")
public func fuzzSTUNMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSTUN(data, size) }
}
