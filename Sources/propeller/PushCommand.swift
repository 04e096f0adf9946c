import ArgumentParser
import Foundation
import Logging
import PropellerRegistry
import Synchronization
import WAT

/// `propeller push FILE REF`: publishes a `.wasm` (or `.wat`, compiled first) to an OCI registry as a
/// Wasm artifact and prints the manifest digest, so tasks can name it in `image_url`.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload a .wasm or .wat module to an OCI registry; prints the manifest digest.",
        discussion: """
            REF is [registry[:port]/]repository[:tag]; without a registry it goes to --registry \
            (or PROPLET_REGISTRY_URL). Loopback registries are reached over plain HTTP; others over \
            HTTPS unless listed with --insecure. A module over 1 MiB shows its upload's progress on \
            stderr (at most two lines a second, and a last line once the registry has it).
            """
    )

    @Argument(help: "The module: a .wasm binary or a .wat text file.")
    var file: String

    @Argument(help: "The target reference, e.g. 127.0.0.1:5000/demo/add:v1.")
    var reference: String

    @Option(help: "The registry for references without one (default: PROPLET_REGISTRY_URL).")
    var registry: String?

    @Option(help: "Registry user name (default: PROPLET_REGISTRY_USERNAME).")
    var username: String?

    @Option(help: "Registry password (default: PROPLET_REGISTRY_PASSWORD).")
    var password: String?

    @Option(name: .customLong("insecure"), help: "A registry host[:port] to reach over plain HTTP; repeatable.")
    var insecureRegistries: [String] = []

    @Option(help: "Seconds each request may take.")
    var timeout: Double = ModuleFetcherConfiguration.defaultTimeoutSeconds

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration: ModuleFetcherConfiguration
        do {
            configuration = try ModuleFetcherConfiguration(
                environment: environment,
                stateDirectory: FileManager.default.temporaryDirectory.path
            )
        } catch {
            throw Self.fail(error.description)
        }
        if let registry { configuration.defaultRegistry = registry }
        if let username { configuration.username = username }
        if let password { configuration.password = password }
        configuration.insecureRegistries += insecureRegistries
        configuration.timeoutSeconds = timeout
        // The operator's own push may go to a registry on this machine; only proplet fetches are confined.
        configuration.addressPolicy.allowPrivate = true
        let module = try Self.readModule(file)
        var logger = Logger(label: "propeller.push")
        logger.logLevel = .warning
        do {
            let printer = PushProgressPrinter()
            let digest = try await ModulePusher(configuration: configuration, logger: logger) { progress in
                printer.report(progress)
            }
            .push(module: module, to: reference)
            print(digest)
        } catch {
            throw Self.fail(error.description)
        }
    }

    private static func readModule(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail("cannot read module file \(path)")
        }
        guard path.hasSuffix(".wat") else { return [UInt8](data) }
        do {
            return try wat2wasm(String(decoding: data, as: UTF8.self))
        } catch {
            throw fail("\(path) is not valid WebAssembly text: \(error)")
        }
    }

    private static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode.failure
    }
}

/// Prints a push's progress on stderr for blobs over 1 MiB: the first report of an upload, then at
/// most one line per `interval`, and a last line once the registry has stored the blob (or had it).
final class PushProgressPrinter: Sendable {
    /// Blobs up to this size upload without a word.
    static let threshold = 1 << 20

    private let interval: Duration
    private let lastLine = Mutex<[String: ContinuousClock.Instant]>([:])

    init(interval: Duration = .milliseconds(500)) {
        self.interval = interval
    }

    func report(_ progress: PushProgress) {
        guard progress.totalBytes > Self.threshold else { return }
        let total = Self.mebibytes(progress.totalBytes)
        let blob = "pushing \(progress.blob) (\(progress.digest.prefix("sha256:".count + 12)))"
        switch progress.phase {
        case .alreadyPresent:
            Self.write("\(blob): \(total) MiB, already in the registry")
        case .uploaded:
            Self.write("\(blob): \(total) of \(total) MiB (100%), done")
        case .uploading:
            // The last line is the `.uploaded` one: a report of every byte sent is not printed.
            guard progress.bytesSent < progress.totalBytes else { return }
            let now = ContinuousClock.now
            let due = lastLine.withLock { last in
                if let previous = last[progress.digest], now - previous < interval { return false }
                last[progress.digest] = now
                return true
            }
            guard due else { return }
            let percent = progress.bytesSent * 100 / progress.totalBytes
            Self.write("\(blob): \(Self.mebibytes(progress.bytesSent)) of \(total) MiB (\(percent)%)")
        }
    }

    /// Bytes in MiB with one decimal.
    static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f", Double(bytes) / 1_048_576)
    }

    private static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
