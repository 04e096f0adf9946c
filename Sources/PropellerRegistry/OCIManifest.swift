/// Media types of the OCI image spec and Docker's schema 2 that module pulls and pushes use.
public enum OCIMediaType {
    /// OCI image manifest.
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    /// OCI image index (a list of manifests, one per platform).
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    /// Docker v2 schema 2 manifest.
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    /// Docker v2 manifest list.
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    /// The config blob `propeller push` writes (the Wasm OCI artifact convention).
    public static let wasmConfig = "application/vnd.wasm.config.v0+json"
    /// The layer `propeller push` writes.
    public static let wasmLayer = "application/vnd.wasm.content.layer.v1+wasm"
    /// Layer media types that hold a Wasm module, in order of preference.
    public static let wasmLayers = [wasmLayer, "application/vnd.module.wasm.content.layer.v1+wasm", "application/wasm"]
    /// Every manifest type the fetcher accepts, for the `Accept` header.
    public static let acceptedManifests = [imageManifest, dockerManifest, imageIndex, dockerManifestList]
}

/// A content descriptor: what a manifest says about a blob or a child manifest.
public struct OCIDescriptor: Codable, Sendable, Equatable {
    /// The blob's media type.
    public var mediaType: String
    /// `sha256:<hex>` of the blob's bytes.
    public var digest: String
    /// The blob's size in bytes.
    public var size: Int
    /// For index entries: the platform the manifest is for.
    public var platform: OCIPlatform?
    /// Free-form annotations (e.g. `org.opencontainers.image.title`).
    public var annotations: [String: String]?

    /// A descriptor for a blob.
    public init(mediaType: String, digest: String, size: Int, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = nil
        self.annotations = annotations
    }
}

/// The platform of an index entry.
public struct OCIPlatform: Codable, Sendable, Equatable {
    /// e.g. `wasm`, `amd64`.
    public var architecture: String
    /// e.g. `wasip1`, `linux`.
    public var os: String
}

/// An OCI image manifest, a Docker v2 manifest, or an image index / manifest list (then `manifests` is set).
public struct OCIManifest: Codable, Sendable, Equatable {
    /// Always 2.
    public var schemaVersion: Int
    /// The manifest's own media type (optional in OCI, present in what we write).
    public var mediaType: String?
    /// The OCI artifact type, when the manifest declares one.
    public var artifactType: String?
    /// The config blob (image manifests only).
    public var config: OCIDescriptor?
    /// The layers (image manifests only).
    public var layers: [OCIDescriptor]?
    /// The child manifests (indexes only).
    public var manifests: [OCIDescriptor]?
    /// Free-form annotations.
    public var annotations: [String: String]?

    /// An image manifest with a config and layers.
    public init(mediaType: String, config: OCIDescriptor, layers: [OCIDescriptor], annotations: [String: String]? = nil)
    {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.artifactType = nil
        self.config = config
        self.layers = layers
        self.manifests = nil
        self.annotations = annotations
    }

    /// The layer holding the Wasm module: the first with a Wasm media type, else the only layer.
    public var wasmLayer: OCIDescriptor? {
        let layers = layers ?? []
        for mediaType in OCIMediaType.wasmLayers {
            if let layer = layers.first(where: { $0.mediaType == mediaType }) { return layer }
        }
        return layers.count == 1 ? layers[0] : nil
    }

    /// For an index: the entry for a Wasm platform (`architecture` `wasm` or `os` `wasip1`/`wasi`), else the first.
    public var preferredChild: OCIDescriptor? {
        let children = manifests ?? []
        return children.first { $0.platform?.architecture == "wasm" || $0.platform?.os.hasPrefix("wasi") == true }
            ?? children.first
    }
}
