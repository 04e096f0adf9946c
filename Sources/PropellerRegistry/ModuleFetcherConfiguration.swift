/// How a proplet fetches modules named by `image_url`. Every default is set here.
public struct ModuleFetcherConfiguration: Sendable, Hashable {
    /// The content-addressed cache: one file per `sha256` digest, e.g. `<PROPLET_STATE_DIR>/modules`.
    public var cacheDirectory: String
    /// The registry for references without one (`PROPLET_REGISTRY_URL`), e.g. `127.0.0.1:5000` or
    /// `http://127.0.0.1:5000`. Without it such references go to Docker Hub (`registry-1.docker.io`).
    public var defaultRegistry: String?
    /// Registries (`host[:port]`) reached over plain HTTP although not loopback. Loopback is always allowed.
    public var insecureRegistries: [String]
    /// The registry user name (Basic auth, or to obtain a bearer token).
    public var username: String?
    /// The registry password.
    public var password: String?
    /// The largest module accepted, in bytes; larger downloads stop early. Default 100 MiB.
    public var maxModuleBytes: Int
    /// The time limit of each HTTP request, in seconds. Default 60.
    public var timeoutSeconds: Double
    /// Which hosts may be fetched from (`PROPLET_REGISTRY_ALLOW_PRIVATE`). Default: loopback and
    /// link-local addresses are refused.
    public var addressPolicy: AddressPolicy

    /// The default cap on module size: 100 MiB.
    public static let defaultMaxModuleBytes = 100 * 1024 * 1024
    /// The default request timeout: 60 seconds.
    public static let defaultTimeoutSeconds = 60.0

    /// A configuration with every field but the cache directory defaulted.
    public init(cacheDirectory: String) {
        self.cacheDirectory = cacheDirectory
        self.defaultRegistry = nil
        self.insecureRegistries = []
        self.username = nil
        self.password = nil
        self.maxModuleBytes = Self.defaultMaxModuleBytes
        self.timeoutSeconds = Self.defaultTimeoutSeconds
        self.addressPolicy = AddressPolicy()
    }

    /// Reads `PROPLET_REGISTRY_URL`, `PROPLET_REGISTRY_USERNAME`, `PROPLET_REGISTRY_PASSWORD`,
    /// `PROPLET_REGISTRY_INSECURE` (comma-separated `host[:port]` list), `PROPLET_REGISTRY_ALLOW_PRIVATE`
    /// (`true`/`false`) and `PROPLET_MODULE_MAX_BYTES`;
    /// the cache goes to `<stateDirectory>/modules`.
    /// - Throws: ``ModuleFetcherConfigurationError`` naming the variable with a bad value.
    public init(environment: [String: String], stateDirectory: String) throws(ModuleFetcherConfigurationError) {
        self.init(
            cacheDirectory: stateDirectory.hasSuffix("/") ? stateDirectory + "modules" : stateDirectory + "/modules"
        )
        if let value = Self.nonEmpty(environment["PROPLET_REGISTRY_URL"]) {
            do {
                _ = try RegistryEndpoint(parsing: value)
            } catch {
                throw ModuleFetcherConfigurationError(
                    variable: "PROPLET_REGISTRY_URL",
                    value: value,
                    accepted: "host[:port] or http(s)://host[:port], e.g. 127.0.0.1:5000"
                )
            }
            defaultRegistry = value
        }
        username = Self.nonEmpty(environment["PROPLET_REGISTRY_USERNAME"])
        password = environment["PROPLET_REGISTRY_PASSWORD"]
        if username == nil, password?.isEmpty == false {
            throw ModuleFetcherConfigurationError(
                variable: "PROPLET_REGISTRY_PASSWORD",
                value: "(hidden)",
                accepted: "a password together with PROPLET_REGISTRY_USERNAME"
            )
        }
        if let value = Self.nonEmpty(environment["PROPLET_REGISTRY_INSECURE"]) {
            let entries = value.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            for entry in entries where (try? RegistryEndpoint(parsing: entry)) == nil {
                throw ModuleFetcherConfigurationError(
                    variable: "PROPLET_REGISTRY_INSECURE",
                    value: value,
                    accepted: "a comma-separated list of host[:port], e.g. registry.lan:5000,10.0.0.5:5000"
                )
            }
            insecureRegistries = entries
        }
        if let value = Self.nonEmpty(environment["PROPLET_REGISTRY_ALLOW_PRIVATE"]) {
            switch value.lowercased() {
            case "true", "1", "yes": addressPolicy.allowPrivate = true
            case "false", "0", "no": addressPolicy.allowPrivate = false
            default:
                throw ModuleFetcherConfigurationError(
                    variable: "PROPLET_REGISTRY_ALLOW_PRIVATE",
                    value: value,
                    accepted: "true or false (allow image_url hosts on loopback and link-local addresses)"
                )
            }
        }
        if let value = Self.nonEmpty(environment["PROPLET_MODULE_MAX_BYTES"]) {
            guard let bytes = Int(value), bytes > 0 else {
                throw ModuleFetcherConfigurationError(
                    variable: "PROPLET_MODULE_MAX_BYTES",
                    value: value,
                    accepted: "a positive integer number of bytes (default \(Self.defaultMaxModuleBytes))"
                )
            }
            maxModuleBytes = bytes
        }
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value = value?.trimmingWhitespace(), !value.isEmpty else { return nil }
        return value
    }
}

/// A bad environment variable for ``ModuleFetcherConfiguration``.
public struct ModuleFetcherConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The variable's name, e.g. `PROPLET_MODULE_MAX_BYTES`.
    public var variable: String
    /// The rejected value (hidden for secrets).
    public var value: String
    /// What the variable accepts.
    public var accepted: String

    /// "VARIABLE must be …, got …".
    public var description: String { "\(variable) must be \(accepted), got \"\(value)\"" }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
