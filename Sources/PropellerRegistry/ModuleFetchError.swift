/// Why a module could not be fetched (or pushed). Every message names the reference and the cause.
public enum ModuleFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reference is neither an http(s) URL nor an OCI reference `[registry[:port]/]repository[:tag|@digest]`.
    case badReference(reference: String, reason: String)
    /// The registry or server has no such module (HTTP 404, or OCI `MANIFEST_UNKNOWN`/`BLOB_UNKNOWN`).
    case notFound(reference: String, detail: String)
    /// The registry refused the credentials (or none were configured).
    case unauthorized(reference: String, detail: String)
    /// The downloaded bytes do not hash to the digest the manifest or reference promised.
    case digestMismatch(reference: String, expected: String, actual: String)
    /// The module (or what the server announced) exceeds the configured cap.
    case tooLarge(reference: String, limit: Int, size: Int?)
    /// The bytes are not a WebAssembly binary, or the server sent another content type.
    case notWasm(reference: String, detail: String)
    /// The manifest has no layer that holds a Wasm module.
    case noWasmLayer(reference: String, mediaTypes: [String])
    /// Plain HTTP to a registry that is neither loopback nor configured insecure.
    case insecureRegistry(reference: String, registry: String)
    /// The connection failed, timed out, or the server answered with an unexpected status or body.
    case network(reference: String, detail: String)
    /// The module cache directory could not be read or written.
    case cache(reference: String, detail: String)

    /// The reference the failure is about.
    public var reference: String {
        switch self {
        case .badReference(let reference, _), .notFound(let reference, _), .unauthorized(let reference, _),
            .digestMismatch(let reference, _, _), .tooLarge(let reference, _, _), .notWasm(let reference, _),
            .noWasmLayer(let reference, _), .insecureRegistry(let reference, _), .network(let reference, _),
            .cache(let reference, _):
            reference
        }
    }

    /// One line naming the reference and the cause.
    public var description: String {
        switch self {
        case .badReference(let reference, let reason):
            "bad module reference \(quoted(reference)): \(reason); accepted: an http(s) URL or "
                + "[registry[:port]/]repository[:tag|@sha256:<64 hex>]"
        case .notFound(let reference, let detail):
            "module \(quoted(reference)) not found: \(detail)"
        case .unauthorized(let reference, let detail):
            "module \(quoted(reference)): unauthorized: \(detail)"
        case .digestMismatch(let reference, let expected, let actual):
            "module \(quoted(reference)): digest mismatch: expected \(expected), downloaded bytes hash to \(actual)"
        case .tooLarge(let reference, let limit, let size):
            "module \(quoted(reference)) is too large: "
                + (size.map { "\($0) bytes" } ?? "more bytes") + " exceed the limit of \(limit) bytes"
        case .notWasm(let reference, let detail):
            "module \(quoted(reference)) is not Wasm: \(detail)"
        case .noWasmLayer(let reference, let mediaTypes):
            "module \(quoted(reference)): the manifest has no Wasm layer (layer media types: "
                + (mediaTypes.isEmpty ? "none" : mediaTypes.joined(separator: ", "))
                + "); accepted: \(OCIMediaType.wasmLayers.joined(separator: ", ")) or a single-layer image"
        case .insecureRegistry(let reference, let registry):
            "module \(quoted(reference)): plain HTTP to registry \(registry) is not allowed; "
                + "use https, a loopback registry, or list it in PROPLET_REGISTRY_INSECURE"
        case .network(let reference, let detail):
            "module \(quoted(reference)): network error: \(detail)"
        case .cache(let reference, let detail):
            "module \(quoted(reference)): module cache error: \(detail)"
        }
    }

    private func quoted(_ text: String) -> String { "\"\(text)\"" }
}
