import Crypto
import Foundation

/// The digest a module is stored under: `sha256:` and 64 lowercase hex digits of its bytes (the same
/// form as an OCI digest), from swift-crypto.
enum ModuleDigest {
    /// The digest of `bytes`.
    static func of(_ bytes: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = Array("sha256:".utf8)
        text.reserveCapacity(71)
        for byte in Crypto.SHA256.hash(data: bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
