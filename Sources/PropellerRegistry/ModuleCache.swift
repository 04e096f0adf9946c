import Foundation
import PropellerCore

/// The content-addressed module cache on disk: `blobs/sha256/<hex>` holds a module's bytes,
/// `manifests/sha256/<hex>` holds the layer digest a pinned manifest digest resolved to.
/// Entries are written to a temporary file and renamed, so a reader never sees half a module.
struct ModuleCache: Sendable {
    /// The cache's root directory.
    let directory: String

    /// The cached bytes of a blob digest, verified against the digest; `nil` when absent or corrupt
    /// (a corrupt entry is removed).
    func blob(_ digest: String) -> [UInt8]? {
        guard let path = path("blobs", digest), let data = FileManager.default.contents(atPath: path) else {
            return nil
        }
        let bytes = [UInt8](data)
        guard SHA256.ociDigest(of: bytes) == digest else {
            try? FileManager.default.removeItem(atPath: path)
            return nil
        }
        return bytes
    }

    /// Stores a verified blob under its digest.
    func store(blob bytes: [UInt8], digest: String) throws {
        guard let path = path("blobs", digest) else { return }
        try write(Data(bytes), to: path)
    }

    /// The layer digest a manifest digest was resolved to before.
    func layerDigest(forManifest digest: String) -> String? {
        guard let path = path("manifests", digest), let data = FileManager.default.contents(atPath: path) else {
            return nil
        }
        let text = String(decoding: data, as: UTF8.self)
        return ImageReference.isDigest(text) ? text : nil
    }

    /// Records which layer a manifest digest resolved to.
    func store(layerDigest: String, forManifest digest: String) throws {
        guard let path = path("manifests", digest) else { return }
        try write(Data(layerDigest.utf8), to: path)
    }

    private func path(_ kind: String, _ digest: String) -> String? {
        guard ImageReference.isDigest(digest) else { return nil }
        return "\(directory)/\(kind)/sha256/\(digest.dropFirst("sha256:".count))"
    }

    private func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        // Cached modules are the proplet's own: directories 0700, files 0600.
        try PrivateFiles.makeDirectory(url.deletingLastPathComponent().path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).partial")
        try PrivateFiles.write([UInt8](data), to: temporary.path)
        // rename(2) replaces an existing entry atomically; a concurrent fetch of the same digest is harmless.
        guard rename(temporary.path, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, "errno": code])
        }
    }
}
