// The host's own SHA-256 (FileDigest), which binds a config entry to a plugin file:
// FIPS 180-4's examples, and every length across the padding's edges against
// coreutils' sha256sum.

import Foundation
@testable import PincerHost
import Testing

@Suite struct FileDigestTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func matchesTheStandardsExamples(message: String, digest: String) {
        let bytes = Array(message.utf8)
        #expect(bytes.withUnsafeBytes { SHA256.digest($0) }.map { String(format: "%02x", $0) }.joined() == digest)
    }

    /// Lengths 0 to 200 cross every block boundary and both sides of the 56-byte padding edge.
    @Test func agreesWithSha256sumAtEveryLengthAcrossThePaddingsEdges() throws {
        let directory = NSTemporaryDirectory() + "pincer-digest-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lengths = Array(0...200) + [1000, 4096, 65_537]
        let paths = try lengths.map { length in
            let path = "\(directory)/\(length)"
            try Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: path))
            return path
        }
        let expected = try runCommand("/usr/bin/env", ["sha256sum"] + paths).split(separator: "\n").map { String($0.prefix(64)) }
        #expect(expected.count == paths.count)
        for (path, digest) in zip(paths, expected) { #expect(FileDigest.sha256(ofFile: path) == digest, "\(path)") }
        #expect(FileDigest.sha256(ofFile: "\(directory)/missing") == nil)
    }
}
