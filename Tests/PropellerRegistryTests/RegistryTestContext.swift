import Foundation
import Logging
import PropellerRegistry

/// A temporary cache directory and fetcher/pusher factories for one test.
struct RegistryTestContext {
    let cacheDirectory: URL
    let logger = Logger(label: "registry-test") { _ in SwiftLogNoOpLogHandler() }

    init() {
        cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("modules-\(UUID().uuidString)")
    }

    /// Runs `body` with a fresh context and removes the cache afterwards.
    static func with<T>(_ body: (RegistryTestContext) async throws -> T) async throws -> T {
        let context = RegistryTestContext()
        defer { try? FileManager.default.removeItem(at: context.cacheDirectory) }
        return try await body(context)
    }

    func configuration(_ adjust: (inout ModuleFetcherConfiguration) -> Void = { _ in }) -> ModuleFetcherConfiguration {
        var configuration = ModuleFetcherConfiguration(cacheDirectory: cacheDirectory.path)
        // The test registries listen on loopback.
        configuration.addressPolicy.allowPrivate = true
        configuration.timeoutSeconds = 20
        adjust(&configuration)
        return configuration
    }

    func fetcher(_ adjust: (inout ModuleFetcherConfiguration) -> Void = { _ in }) -> ModuleFetcher {
        ModuleFetcher(configuration: configuration(adjust), logger: logger)
    }

    func pusher(_ adjust: (inout ModuleFetcherConfiguration) -> Void = { _ in }) -> ModulePusher {
        ModulePusher(configuration: configuration(adjust), logger: logger)
    }
}

/// Whether `error` is a ``ModuleFetchError`` of the expected kind whose message names `reference`.
func isFetchError(
    _ error: any Error,
    _ reference: String,
    _ matches: (ModuleFetchError) -> Bool
) -> Bool {
    guard let error = error as? ModuleFetchError else { return false }
    return matches(error) && error.reference == reference && error.description.contains(reference)
}
