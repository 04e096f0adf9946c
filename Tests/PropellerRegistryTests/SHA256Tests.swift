import Foundation
import PropellerLauncher
import Testing

@testable import PropellerRegistry

@Suite("SHA-256")
struct SHA256Tests {
    @Test(
        "matches the FIPS 180-4 test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ]
    )
    func vectors(input: String, expected: String) {
        #expect(SHA256.hex(of: Array(input.utf8)) == expected)
    }

    @Test("gives the same digest for input fed in uneven pieces", arguments: [1, 7, 63, 64, 65, 1000])
    func incremental(pieceSize: Int) {
        let bytes = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var hasher = SHA256()
        var start = 0
        while start < bytes.count {
            hasher.update(bytes[start..<min(start + pieceSize, bytes.count)])
            start += pieceSize
        }
        #expect(hasher.finalizeHex() == SHA256.hex(of: bytes))
    }

    @Test("agrees with sha256sum on lengths around the padding boundaries", arguments: [55, 56, 57, 119, 120, 4097])
    func agreesWithCoreutils(length: Int) async throws {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await ProcessLauncher.run("/usr/bin/sha256sum", arguments: [file.path])
        #expect(result.status == 0)
        let output = result.standardOutput
        #expect(String(output.prefix(64)) == SHA256.hex(of: bytes))
        #expect(SHA256.ociDigest(of: bytes) == "sha256:" + output.prefix(64))
    }
}
