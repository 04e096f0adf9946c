/// A registry's address: `host[:port]` with an optional explicit scheme (`http://` or `https://`).
public struct RegistryEndpoint: Sendable, Hashable {
    /// The scheme when one was written; `nil` lets the fetcher choose (https, or http for loopback).
    public var scheme: String?
    /// `host[:port]`, as used in URLs and in `WWW-Authenticate` scopes.
    public var hostPort: String

    /// The host without the port (brackets kept off IPv6 literals).
    public var host: String {
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            return String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
        }
        if let colon = hostPort.lastIndex(of: ":") { return String(hostPort[..<colon]) }
        return hostPort
    }

    /// Whether the host is a loopback address or `localhost` (plain HTTP is always allowed there).
    public var isLoopback: Bool {
        let host = host.lowercased()
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }

    /// Parses `host[:port]` or `http(s)://host[:port]` (a trailing `/` is ignored).
    public init(parsing text: String) throws(ModuleFetchError) {
        var rest = Substring(text)
        if rest.hasPrefix("http://") {
            scheme = "http"
            rest = rest.dropFirst("http://".count)
        } else if rest.hasPrefix("https://") {
            scheme = "https"
            rest = rest.dropFirst("https://".count)
        } else {
            scheme = nil
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]_")
        guard !rest.isEmpty, rest.allSatisfy({ allowed.contains($0) }), !rest.hasPrefix(":") else {
            throw .badReference(reference: text, reason: "registry must be host[:port] or http(s)://host[:port]")
        }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            let port = rest[rest.index(after: colon)...]
            guard let number = Int(port), (1...65535).contains(number) else {
                throw .badReference(reference: text, reason: "registry port must be a number from 1 to 65535")
            }
        }
        hostPort = String(rest)
    }
}

/// An OCI reference `[registry[:port]/]repository[:tag|@sha256:<hex>]`, resolved against a default registry.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// Where the repository lives.
    public var registry: RegistryEndpoint
    /// The repository path, e.g. `myorg/compute` (Docker Hub single names get `library/`).
    public var repository: String
    /// The tag, when the reference names one (`latest` when it names neither a tag nor a digest).
    public var tag: String?
    /// The manifest digest (`sha256:<64 hex>`), when the reference pins one.
    public var digest: String?

    /// The tag or digest to put in the manifest URL: the digest wins when both are given.
    public var manifestReference: String { digest ?? tag ?? "latest" }

    /// `registry/repository[:tag][@digest]`.
    public var description: String {
        var text = "\(registry.hostPort)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// Docker Hub's registry API host, used for references without a registry and no default configured.
    public static let dockerHub = "registry-1.docker.io"

    /// Parses a reference. A first path component containing `.` or `:` (or `localhost`) is the registry;
    /// otherwise `defaultRegistry` is used (Docker Hub when `nil`).
    public init(parsing text: String, defaultRegistry: String?) throws(ModuleFetchError) {
        var rest = Substring(text)
        if rest.hasPrefix("oci://") { rest = rest.dropFirst("oci://".count) }
        guard !rest.isEmpty else { throw .badReference(reference: text, reason: "the reference is empty") }
        if let at = rest.firstIndex(of: "@") {
            let digest = String(rest[rest.index(after: at)...])
            guard Self.isDigest(digest) else {
                throw .badReference(
                    reference: text,
                    reason: "digest must be sha256: followed by 64 lowercase hex digits"
                )
            }
            self.digest = digest
            rest = rest[..<at]
        } else {
            self.digest = nil
        }
        let lastSlash = rest.lastIndex(of: "/") ?? rest.startIndex
        if let colon = rest[lastSlash...].lastIndex(of: ":") {
            let tag = String(rest[rest.index(after: colon)...])
            guard Self.isTag(tag) else {
                throw .badReference(
                    reference: text,
                    reason: "tag \"\(tag)\" must be 1 to 128 of A-Z a-z 0-9 _ . - and not start with . or -"
                )
            }
            self.tag = tag
            rest = rest[..<colon]
        } else {
            self.tag = digest == nil ? "latest" : nil
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let first = components[0]
        let hasRegistry =
            components.count > 1 && (first.contains(".") || first.contains(":") || first == "localhost")
        if hasRegistry {
            components.removeFirst()
            do {
                registry = try RegistryEndpoint(parsing: first)
            } catch {
                guard case .badReference(_, let reason) = error else { throw error }
                throw .badReference(reference: text, reason: reason)
            }
        } else if let defaultRegistry {
            registry = try RegistryEndpoint(parsing: defaultRegistry)
        } else {
            registry = try RegistryEndpoint(parsing: Self.dockerHub)
            if components.count == 1 { components.insert("library", at: 0) }
        }
        if registry.hostPort == "docker.io" || registry.hostPort == "index.docker.io" {
            registry = try RegistryEndpoint(parsing: Self.dockerHub)
        }
        guard components.allSatisfy(Self.isRepositoryComponent) else {
            throw .badReference(
                reference: text,
                reason: "repository \"\(components.joined(separator: "/"))\" must be /-separated parts of "
                    + "lowercase letters, digits and single . _ - separators"
            )
        }
        repository = components.joined(separator: "/")
    }

    /// Whether `text` is `sha256:` followed by 64 lowercase hex digits.
    public static func isDigest(_ text: String) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let hex = text.dropFirst("sha256:".count)
        return hex.count == 64 && hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    private static func isTag(_ text: String) -> Bool {
        guard let first = text.first, (1...128).contains(text.count), first != ".", first != "-" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    private static func isRepositoryComponent(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last else { return false }
        let isAlphanumeric: (Character) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        guard isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return text.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }
}
