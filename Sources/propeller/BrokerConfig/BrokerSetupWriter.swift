import ArgumentParser
import Foundation
import PropellerLauncher

#if canImport(Glibc)
import Glibc
#endif

/// Writes a `BrokerSetup` to disk: the directory `0700`, every file `0600`, the password file hashed
/// in place by `mosquitto_passwd -U` (PBKDF2-SHA512, Mosquitto's `$7$` format).
struct BrokerSetupWriter {
    var setup: BrokerSetup
    var force: Bool

    func write() async throws {
        let manager = FileManager.default
        let directory = setup.directory
        try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o700)
        var files = [setup.configurationFile, setup.passwordFile, setup.aclFile]
        files += setup.managers.map { setup.environmentFile(for: $0, isManager: true) }
        files += setup.proplets.map { setup.environmentFile(for: $0, isManager: false) }
        if !force, let existing = files.first(where: { manager.fileExists(atPath: $0.path) }) {
            throw ValidationError("\(existing.path) exists; pass --force to overwrite the files in \(directory.path)")
        }
        let passwords = try await hashPasswords()
        if setup.persistence {
            try manager.createDirectory(at: setup.dataDirectory, withIntermediateDirectories: true)
            chmod(setup.dataDirectory.path, 0o700)
        }
        try writePrivate(setup.aclText, to: setup.aclFile)
        try writePrivate(passwords, to: setup.passwordFile)
        for identity in setup.managers {
            try writePrivate(
                envText(identity, isManager: true),
                to: setup.environmentFile(for: identity, isManager: true)
            )
        }
        for identity in setup.proplets {
            try writePrivate(
                envText(identity, isManager: false),
                to: setup.environmentFile(for: identity, isManager: false)
            )
        }
        try writePrivate(setup.configurationText, to: setup.configurationFile)
    }

    private func envText(_ identity: BrokerSetup.Identity, isManager: Bool) -> String {
        setup.environment(for: identity, isManager: isManager).map { "\($0.0)=\($0.1)\n" }.joined()
    }

    /// Creates (or truncates) `url` with mode 0600 before any byte is written, so a secret is never
    /// readable by others, not even for a moment.
    private func writePrivate(_ text: String, to url: URL) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ValidationError("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else {
                throw ValidationError("cannot write \(url.path): \(String(cString: strerror(errno)))")
            }
            written += result
        }
    }

    /// Hashes the plain `user:password` lines with `mosquitto_passwd -U` in a private temporary file
    /// inside the output directory and returns the hashed text.
    private func hashPasswords() async throws -> String {
        let tool = try Self.mosquittoPasswd()
        let scratch = setup.directory.appendingPathComponent(".passwords-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try writePrivate(setup.plainPasswordText, to: scratch)
        let result = try await ProcessLauncher.run(tool, arguments: ["-U", scratch.path], timeout: .seconds(60))
        guard result.status == 0 else {
            let message = (result.standardError + result.standardOutput)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw ValidationError("\(tool) -U failed (status \(result.status)): \(message)")
        }
        let hashed = try String(contentsOf: scratch, encoding: .utf8)
        let lines = hashed.split(separator: "\n")
        guard lines.count == setup.managers.count + setup.proplets.count,
            lines.allSatisfy({ $0.contains(":$7$") || $0.contains(":$6$") })
        else {
            throw ValidationError("\(tool) -U did not hash every password in \(scratch.path)")
        }
        return hashed
    }

    /// `mosquitto_passwd` on PATH or in /usr/bin.
    private static func mosquittoPasswd() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/mosquitto_passwd" } + ["/usr/bin/mosquitto_passwd"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError(
                "mosquitto_passwd not found on PATH: install Mosquitto (Debian: apt-get install mosquitto)"
            )
        }
        return found
    }
}
