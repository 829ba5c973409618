// The SHA-256 of a plugin file, through the system's libcrypto: what an
// operator's plugins.entries.<id>.sha256 is compared with.

import CLibCrypto
import Foundation

enum FileDigest {
    /// Lower-case hex, or nil when the file cannot be read or hashed.
    static func sha256(ofFile path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
        }
        guard ok == 1 else { return nil }
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
