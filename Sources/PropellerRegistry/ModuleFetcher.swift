import Foundation
import Logging
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a ``ModuleFetcher`` has done so far (counters since it was created).
public struct ModuleFetchStatistics: Sendable, Equatable {
    /// Modules served from the cache without a blob download.
    public var cacheHits = 0
    /// Registry blob downloads (GET `/v2/<repo>/blobs/<digest>`).
    public var blobDownloads = 0
    /// Registry manifest downloads.
    public var manifestDownloads = 0
    /// Plain http(s) URL downloads.
    public var urlDownloads = 0

    /// Counters with the given values (zero by default).
    public init(cacheHits: Int = 0, blobDownloads: Int = 0, manifestDownloads: Int = 0, urlDownloads: Int = 0) {
        self.cacheHits = cacheHits
        self.blobDownloads = blobDownloads
        self.manifestDownloads = manifestDownloads
        self.urlDownloads = urlDownloads
    }
}

/// Fetches Wasm modules named by a task's `image_url`: an http(s) URL, or an OCI reference pulled from a
/// registry (manifest, Wasm layer, digest check), with a content-addressed cache so a module used again
/// is not downloaded again.
///
/// Limits: modules larger than `maxModuleBytes` are refused (downloads stop as soon as they pass it);
/// each request times out after `timeoutSeconds`. Plain HTTP to a registry only for loopback or
/// configured-insecure registries.
public final class ModuleFetcher: Sendable {
    private let configuration: ModuleFetcherConfiguration
    private let logger: Logger
    private let registry: RegistryClient
    private let cache: ModuleCache
    private let counters = Mutex(ModuleFetchStatistics())

    /// A fetcher using `configuration`'s registry settings and cache directory.
    public init(configuration: ModuleFetcherConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.registry = RegistryClient(configuration: configuration, logger: logger)
        self.cache = ModuleCache(directory: configuration.cacheDirectory)
    }

    /// The counters so far.
    public var statistics: ModuleFetchStatistics { counters.withLock { $0 } }

    /// Returns the module bytes for an image_url: http(s) URL or OCI reference [registry[:port]/]repository[:tag|@digest].
    public func fetch(_ imageURL: String) async throws(ModuleFetchError) -> [UInt8] {
        let trimmed = imageURL.trimmingWhitespace()
        let bytes: [UInt8]
        if trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://") {
            bytes = try await fetchURL(trimmed)
        } else {
            let reference = try ImageReference(parsing: trimmed, defaultRegistry: configuration.defaultRegistry)
            bytes = try await fetchImage(reference, name: trimmed)
        }
        try Self.checkWasm(bytes, reference: trimmed)
        return bytes
    }

    /// Refuses bytes that do not start with the Wasm magic `\0asm`.
    static func checkWasm(_ bytes: [UInt8], reference: String) throws(ModuleFetchError) {
        guard bytes.count >= 8, bytes[0] == 0x00, bytes[1] == 0x61, bytes[2] == 0x73, bytes[3] == 0x6d else {
            let start = bytes.prefix(16)
            let printable = start.allSatisfy { (0x20..<0x7f).contains($0) || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }
            let shown =
                printable
                ? "\"\(String(decoding: start, as: UTF8.self).replacingOccurrences(of: "\n", with: "\\n"))\""
                : start.map { String($0, radix: 16) }.joined(separator: " ")
            throw .notWasm(
                reference: reference,
                detail: "the \(bytes.count) bytes do not start with the Wasm magic \\0asm (they start with \(shown))"
            )
        }
    }

    // MARK: http(s) URLs

    private func fetchURL(_ text: String) async throws(ModuleFetchError) -> [UInt8] {
        guard let url = URL(string: text), url.host != nil else {
            throw .badReference(reference: text, reason: "not a valid URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        request.setValue("application/wasm, application/octet-stream;q=0.9", forHTTPHeaderField: "Accept")
        counters.withLock { $0.urlDownloads += 1 }
        let response: HTTPResponse
        do {
            response = try await HTTPTransport(
                timeoutSeconds: configuration.timeoutSeconds,
                addressPolicy: configuration.addressPolicy
            )
            .send(request, limit: configuration.maxModuleBytes)
        } catch {
            switch error {
            case .bodyTooLarge(let limit, let size): throw .tooLarge(reference: text, limit: limit, size: size)
            case .failed(let detail): throw .network(reference: text, detail: "GET \(text): \(detail)")
            }
        }
        switch response.status {
        case 200..<300: break
        case 404, 410: throw .notFound(reference: text, detail: "the server answered HTTP \(response.status)")
        case 401, 403: throw .unauthorized(reference: text, detail: "the server answered HTTP \(response.status)")
        default: throw .network(reference: text, detail: "the server answered HTTP \(response.status)")
        }
        let contentType = (response.header("Content-Type") ?? "").split(separator: ";").first.map {
            $0.trimmingWhitespace().lowercased()
        }
        guard let contentType, contentType == "application/wasm" || contentType == "application/octet-stream" else {
            throw .notWasm(
                reference: text,
                detail: "the server sent content type \"\(response.header("Content-Type") ?? "none")\"; "
                    + "accepted: application/wasm, application/octet-stream"
            )
        }
        logger.debug(
            "module downloaded",
            metadata: ["module.reference": "\(text)", "module.bytes": "\(response.body.count)"]
        )
        return response.body
    }

    // MARK: OCI registries

    private func fetchImage(_ image: ImageReference, name: String) async throws(ModuleFetchError) -> [UInt8] {
        if let digest = image.digest, let layer = cache.layerDigest(forManifest: digest), let bytes = cache.blob(layer)
        {
            counters.withLock { $0.cacheHits += 1 }
            logger.debug(
                "module served from cache",
                metadata: ["module.reference": "\(name)", "module.digest": "\(layer)"]
            )
            return bytes
        }
        let base = try registry.baseURL(for: image.registry, reference: name)
        let scope = "repository:\(image.repository):pull"
        var manifest = try await manifest(
            image,
            reference: image.manifestReference,
            base: base,
            scope: scope,
            name: name
        )
        if manifest.value.manifests != nil {
            guard let child = manifest.value.preferredChild else {
                throw .noWasmLayer(reference: name, mediaTypes: [])
            }
            manifest = try await self.manifest(image, reference: child.digest, base: base, scope: scope, name: name)
        }
        guard let layer = manifest.value.wasmLayer else {
            throw .noWasmLayer(reference: name, mediaTypes: (manifest.value.layers ?? []).map(\.mediaType))
        }
        guard ImageReference.isDigest(layer.digest) else {
            throw .badReference(
                reference: name,
                reason: "the Wasm layer's digest \(layer.digest) is not a sha256 digest"
            )
        }
        let bytes: [UInt8]
        if let cached = cache.blob(layer.digest) {
            counters.withLock { $0.cacheHits += 1 }
            logger.debug(
                "module served from cache",
                metadata: ["module.reference": "\(name)", "module.digest": "\(layer.digest)"]
            )
            bytes = cached
        } else {
            bytes = try await blob(image, layer: layer, base: base, scope: scope, name: name)
            do {
                try cache.store(blob: bytes, digest: layer.digest)
            } catch {
                logger.warning(
                    "module cache write failed",
                    metadata: ["module.digest": "\(layer.digest)", "error": "\(error)"]
                )
            }
        }
        if let digest = image.digest {
            try? cache.store(layerDigest: layer.digest, forManifest: digest)
        }
        return bytes
    }

    private func manifest(
        _ image: ImageReference,
        reference: String,
        base: URL,
        scope: String,
        name: String
    ) async throws(ModuleFetchError) -> (value: OCIManifest, digest: String) {
        let url = base.appendingPathComponent("\(image.repository)/manifests/\(reference)")
        counters.withLock { $0.manifestDownloads += 1 }
        let response = try await registry.send(
            "GET",
            url,
            registry: image.registry,
            scope: scope,
            headers: ["Accept": OCIMediaType.acceptedManifests.joined(separator: ", ")],
            reference: name
        )
        switch response.status {
        case 200: break
        case 404:
            throw .notFound(
                reference: name,
                detail: "\(image.registry.hostPort) has no manifest \(image.repository):\(reference) "
                    + "(\(RegistryClient.errorSummary(response)))"
            )
        default:
            throw .network(
                reference: name,
                detail: "GET manifest \(reference) answered \(RegistryClient.errorSummary(response))"
            )
        }
        let digest = SHA256.ociDigest(of: response.body)
        if ImageReference.isDigest(reference), digest != reference {
            throw .digestMismatch(reference: name, expected: reference, actual: digest)
        }
        do {
            return (try JSONDecoder().decode(OCIManifest.self, from: Data(response.body)), digest)
        } catch {
            throw .network(
                reference: name,
                detail: "the manifest is not a valid OCI or Docker v2 manifest (content type "
                    + "\(response.header("Content-Type") ?? "none"))"
            )
        }
    }

    private func blob(
        _ image: ImageReference,
        layer: OCIDescriptor,
        base: URL,
        scope: String,
        name: String
    ) async throws(ModuleFetchError) -> [UInt8] {
        if layer.size > configuration.maxModuleBytes {
            throw .tooLarge(reference: name, limit: configuration.maxModuleBytes, size: layer.size)
        }
        let url = base.appendingPathComponent("\(image.repository)/blobs/\(layer.digest)")
        counters.withLock { $0.blobDownloads += 1 }
        let response = try await registry.send(
            "GET",
            url,
            registry: image.registry,
            scope: scope,
            limit: configuration.maxModuleBytes,
            reference: name
        )
        switch response.status {
        case 200: break
        case 404:
            throw .notFound(
                reference: name,
                detail: "\(image.registry.hostPort) has no blob \(layer.digest) in \(image.repository) "
                    + "(\(RegistryClient.errorSummary(response)))"
            )
        default:
            throw .network(
                reference: name,
                detail: "GET blob \(layer.digest) answered \(RegistryClient.errorSummary(response))"
            )
        }
        let actual = SHA256.ociDigest(of: response.body)
        guard actual == layer.digest else {
            throw .digestMismatch(reference: name, expected: layer.digest, actual: actual)
        }
        logger.debug("module downloaded", metadata: ["module.reference": "\(name)", "module.digest": "\(actual)"])
        return response.body
    }
}
