import Foundation
import PropellerCore

/// The proplet's id and name, stable across restarts: generated on first start and kept in
/// `identity.json` in the state directory (SPEC §6).
public struct PropletIdentity: Sendable, Hashable, Codable {
    /// The proplet id (a lower-case UUID unless `PROPLET_ID` says otherwise).
    public var propletID: String
    /// The human-readable name.
    public var name: String

    /// Creates an identity.
    public init(propletID: String, name: String) {
        self.propletID = propletID
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case propletID = "proplet_id"
        case name
    }

    /// The identity file inside a state directory.
    public static func file(in stateDirectory: String) -> URL {
        URL(fileURLWithPath: stateDirectory, isDirectory: true).appendingPathComponent("identity.json")
    }

    /// The identity to use: `configuration.propletID`/`propletName` when set, otherwise the saved one,
    /// otherwise a new one that is saved for the next start. The state directory is created if needed
    /// (mode `0700`, an existing one is tightened to it).
    ///
    /// - Throws: `PropletError.stateDirectory` when the directory cannot be created, or the saved file
    ///   cannot be read, parsed or written.
    public static func resolve(_ configuration: PropletConfiguration) throws(PropletError) -> PropletIdentity {
        let directory = configuration.stateDirectory
        let url = file(in: directory)
        do {
            try PrivateFiles.makeDirectory(directory)
        } catch {
            throw .stateDirectory(path: directory, reason: "cannot create it (\(error))")
        }
        var saved: PropletIdentity?
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                saved = try WireCoding.decode(PropletIdentity.self, from: try Data(contentsOf: url))
            } catch {
                throw .stateDirectory(
                    path: directory,
                    reason: "\(url.lastPathComponent) is not a saved identity {\"proplet_id\", \"name\"}: \(error)"
                )
            }
        }
        let id = configuration.propletID ?? saved?.propletID ?? UUID().uuidString.lowercased()
        let name = configuration.propletName ?? saved?.name ?? "proplet-\(id.prefix(8))"
        let identity = PropletIdentity(propletID: id, name: name)
        if saved == nil {
            do {
                try PrivateFiles.write([UInt8](try WireCoding.encode(identity)), to: url.path)
            } catch {
                throw .stateDirectory(path: directory, reason: "cannot save \(url.lastPathComponent): \(error)")
            }
        }
        return identity
    }
}
