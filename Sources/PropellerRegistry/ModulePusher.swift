import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One blob to push as a layer of an OCI manifest.
public struct PushLayer: Sendable {
    /// The layer's media type, e.g. ``OCIMediaType/wasmLayer``.
    public var mediaType: String
    /// The layer's bytes.
    public var bytes: [UInt8]
    /// Layer annotations (e.g. `org.opencontainers.image.title`).
    public var annotations: [String: String]?

    /// A layer with a media type and content.
    public init(mediaType: String, bytes: [UInt8], annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.bytes = bytes
        self.annotations = annotations
    }
}

/// How far the upload of one blob of a push has got: what ``ModulePusher`` tells its progress handler.
public struct PushProgress: Sendable, Equatable {
    /// Where the blob's upload is.
    public enum Phase: Sendable, Equatable {
        /// Bytes are being sent (reported as they leave, many times per blob).
        case uploading
        /// The registry stored the blob (reported once; `bytesSent == totalBytes`).
        case uploaded
        /// The repository had the blob already, so nothing was sent (reported once).
        case alreadyPresent
    }

    /// The blob: `config`, or the layer's `org.opencontainers.image.title` (`module.wasm`), else its media type.
    public var blob: String
    /// The blob's digest (`sha256:<hex>`).
    public var digest: String
    /// Bytes of the blob sent so far (0 for `.alreadyPresent`).
    public var bytesSent: Int
    /// The blob's size.
    public var totalBytes: Int
    /// Where the upload is.
    public var phase: Phase

    /// A progress report.
    public init(blob: String, digest: String, bytesSent: Int, totalBytes: Int, phase: Phase) {
        self.blob = blob
        self.digest = digest
        self.bytesSent = bytesSent
        self.totalBytes = totalBytes
        self.phase = phase
    }
}

/// Publishes Wasm modules to an OCI registry as artifacts: config blob
/// (`application/vnd.wasm.config.v0+json`), one `application/vnd.wasm.content.layer.v1+wasm` layer, and
/// an OCI image manifest under the reference's tag (or digest). Blobs already in the repository are not
/// uploaded again; new ones go up monolithically (POST an upload session, then PUT `?digest=`).
public struct ModulePusher: Sendable {
    private let configuration: ModuleFetcherConfiguration
    private let registry: RegistryClient
    private let logger: Logger
    private let progress: (@Sendable (PushProgress) -> Void)?

    /// A pusher using the registry settings of `configuration` (default registry, insecure list,
    /// credentials, timeout); the cache directory is not used. `progress`, when given, is called (on
    /// URLSession's delegate queue) as each blob's bytes are sent, and once when each blob is done.
    public init(
        configuration: ModuleFetcherConfiguration,
        logger: Logger,
        progress: (@Sendable (PushProgress) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.registry = RegistryClient(configuration: configuration, logger: logger)
        self.logger = logger
        self.progress = progress
    }

    /// Pushes a Wasm module (it must start with the `\0asm` magic) and returns the manifest digest.
    @discardableResult
    public func push(module: [UInt8], to reference: String) async throws(ModuleFetchError) -> String {
        try ModuleFetcher.checkWasm(module, reference: reference)
        let layer = PushLayer(
            mediaType: OCIMediaType.wasmLayer,
            bytes: module,
            annotations: ["org.opencontainers.image.title": "module.wasm"]
        )
        return try await push(layers: [layer], to: reference)
    }

    /// Pushes any layers with the Wasm config blob and returns the manifest digest (`sha256:<hex>`).
    @discardableResult
    public func push(layers: [PushLayer], to reference: String) async throws(ModuleFetchError) -> String {
        let image = try ImageReference(parsing: reference, defaultRegistry: configuration.defaultRegistry)
        let base = try registry.baseURL(for: image.registry, reference: reference)
        let scope = "repository:\(image.repository):pull,push"
        let config = Array(#"{"architecture":"wasm","os":"wasip1"}"#.utf8)
        let configDescriptor = try await upload(
            config,
            mediaType: OCIMediaType.wasmConfig,
            name: "config",
            image,
            base,
            scope,
            reference
        )
        var layerDescriptors: [OCIDescriptor] = []
        for layer in layers {
            var descriptor = try await upload(
                layer.bytes,
                mediaType: layer.mediaType,
                name: layer.annotations?["org.opencontainers.image.title"] ?? layer.mediaType,
                image,
                base,
                scope,
                reference
            )
            descriptor.annotations = layer.annotations
            layerDescriptors.append(descriptor)
        }
        let manifest = OCIManifest(
            mediaType: OCIMediaType.imageManifest,
            config: configDescriptor,
            layers: layerDescriptors
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body: [UInt8]
        do {
            body = Array(try encoder.encode(manifest))
        } catch {
            throw .badReference(reference: reference, reason: "the manifest cannot be encoded: \(error)")
        }
        let digest = SHA256.ociDigest(of: body)
        let url = base.appendingPathComponent("\(image.repository)/manifests/\(image.digest ?? image.tag ?? digest)")
        let response = try await registry.send(
            "PUT",
            url,
            registry: image.registry,
            scope: scope,
            headers: ["Content-Type": OCIMediaType.imageManifest],
            body: body,
            reference: reference
        )
        guard response.status == 201 || response.status == 200 else {
            throw .network(
                reference: reference,
                detail: "PUT manifest answered \(RegistryClient.errorSummary(response))"
            )
        }
        if let stored = response.header("Docker-Content-Digest"), stored != digest {
            throw .digestMismatch(reference: reference, expected: digest, actual: stored)
        }
        logger.info("module pushed", metadata: ["module.reference": "\(reference)", "module.digest": "\(digest)"])
        return digest
    }

    /// Uploads a blob unless the repository has it, telling `progress`; returns its descriptor.
    private func upload(
        _ bytes: [UInt8],
        mediaType: String,
        name: String,
        _ image: ImageReference,
        _ base: URL,
        _ scope: String,
        _ reference: String
    ) async throws(ModuleFetchError) -> OCIDescriptor {
        let digest = SHA256.ociDigest(of: bytes)
        let descriptor = OCIDescriptor(mediaType: mediaType, digest: digest, size: bytes.count)
        let blobURL = base.appendingPathComponent("\(image.repository)/blobs/\(digest)")
        let head = try await registry.send(
            "HEAD",
            blobURL,
            registry: image.registry,
            scope: scope,
            reference: reference
        )
        let total = bytes.count
        var report: (@Sendable (Int, PushProgress.Phase) -> Void)?
        if let progress {
            report = { sent, phase in
                progress(PushProgress(blob: name, digest: digest, bytesSent: sent, totalBytes: total, phase: phase))
            }
        }
        if head.status == 200 {
            report?(0, .alreadyPresent)
            return descriptor
        }
        let start = try await registry.send(
            "POST",
            base.appendingPathComponent("\(image.repository)/blobs/uploads/"),
            registry: image.registry,
            scope: scope,
            headers: ["Content-Length": "0"],
            body: [],
            reference: reference
        )
        guard start.status == 202, let location = start.header("Location"),
            var components = URLComponents(string: location)
        else {
            throw .network(
                reference: reference,
                detail: "starting a blob upload answered \(RegistryClient.errorSummary(start))"
            )
        }
        if components.host == nil {
            // A relative Location: resolve it against the registry.
            guard let absolute = URL(string: location, relativeTo: base)?.absoluteURL,
                let resolved = URLComponents(url: absolute, resolvingAgainstBaseURL: true)
            else {
                throw .network(
                    reference: reference,
                    detail: "the registry sent an unusable upload Location \(location)"
                )
            }
            components = resolved
        }
        components.queryItems = (components.queryItems ?? []) + [URLQueryItem(name: "digest", value: digest)]
        guard let uploadURL = components.url else {
            throw .network(reference: reference, detail: "the registry sent an unusable upload Location \(location)")
        }
        var sentHandler: (@Sendable (Int64) -> Void)?
        if let report {
            sentHandler = { sent in report(Int(sent), .uploading) }
        }
        let finish = try await registry.send(
            "PUT",
            uploadURL,
            registry: image.registry,
            scope: scope,
            headers: ["Content-Type": "application/octet-stream"],
            body: bytes,
            reference: reference,
            sent: sentHandler
        )
        guard finish.status == 201 else {
            throw .network(
                reference: reference,
                detail: "uploading blob \(digest) answered \(RegistryClient.errorSummary(finish))"
            )
        }
        report?(bytes.count, .uploaded)
        return descriptor
    }
}
