/// What a task's module is, as every API response shows it instead of the module's bytes (SPEC §4):
/// `{"digest": "sha256:…", "size_bytes": 1234, "source": "file"}`.
///
/// For an uploaded module (`file`) the manager stores the bytes once per digest and serves them at
/// `GET /tasks/{id}/module`. For an `image_url` task the proplet fetches the module itself, so the
/// manager knows neither digest nor size: both are null and `source` is the URL.
public struct TaskModule: Sendable, Hashable, Codable {
    /// `sha256:` and 64 lowercase hex digits; nil for an `image_url` module.
    public var digest: String?
    /// The module's length in bytes; nil for an `image_url` module.
    public var sizeBytes: Int?
    /// `file` for an uploaded module, otherwise the `image_url`.
    public var source: String

    /// The `source` of an uploaded module.
    public static let fileSource = "file"

    public init(digest: String?, sizeBytes: Int?, source: String) {
        self.digest = digest
        self.sizeBytes = sizeBytes
        self.source = source
    }

    /// An uploaded module with its digest and size.
    public static func file(digest: String, sizeBytes: Int) -> TaskModule {
        TaskModule(digest: digest, sizeBytes: sizeBytes, source: fileSource)
    }

    /// A module the proplet fetches from `imageURL`.
    public static func image(_ imageURL: String) -> TaskModule {
        TaskModule(digest: nil, sizeBytes: nil, source: imageURL)
    }

    /// True for an uploaded module (its bytes are in the manager's store).
    public var isFile: Bool { source == Self.fileSource && digest != nil }

    enum CodingKeys: String, CodingKey {
        case digest
        case sizeBytes = "size_bytes"
        case source
    }

    /// Encodes every key; an `image_url` module's digest and size are explicit nulls.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(digest, forKey: .digest)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(source, forKey: .source)
    }
}

extension TaskModule {
    /// The module of a stored task row: the image URL's when there is one, otherwise the uploaded
    /// module's digest and size (nil when the row has neither).
    public static func stored(imageURL: String?, digest: String?, sizeBytes: Int?) -> TaskModule? {
        if let imageURL { return .image(imageURL) }
        guard let digest else { return nil }
        return .file(digest: digest, sizeBytes: sizeBytes ?? 0)
    }
}
