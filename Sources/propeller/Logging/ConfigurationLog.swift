import Logging

/// The loaded configuration of a service as log metadata, logged once at start-up
/// (`configuration loaded`), every field by its property path (`mqttURL`, `registry.username`, …).
///
/// Built by reflection, so a field added to a configuration later is logged without more code. Fields
/// that hold a secret (a name with `password`, `secret` or `key` not naming a file, or `token` not naming a
/// file or path) are logged only as `<set>` or `<unset>`; a password inside a URL is masked by the log
/// handler.
enum ConfigurationLog {
    /// Every stored property of `configuration`, flattened; optionals as their value or `<unset>`.
    static func metadata(of configuration: Any) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        flatten(configuration, prefix: "", depth: 0, into: &metadata)
        return metadata
    }

    /// Whether a field name holds a secret (its value is never logged).
    static func isSecret(_ name: String) -> Bool {
        let lowered = name.lowercased()
        let namesFile = lowered.hasSuffix("file") || lowered.hasSuffix("path")
        if lowered.contains("password") || lowered.contains("secret") { return true }
        return (lowered.contains("token") || lowered.hasSuffix("key")) && !namesFile
    }

    private static func flatten(_ value: Any, prefix: String, depth: Int, into metadata: inout Logger.Metadata) {
        let mirror = Mirror(reflecting: value)
        for child in mirror.children {
            guard let label = child.label else { continue }
            let name = prefix.isEmpty ? label : prefix + "." + label
            let unwrapped = unwrap(child.value)
            if isSecret(label) {
                metadata[name] = .string(unwrapped == nil ? "<unset>" : "<set>")
                continue
            }
            guard let unwrapped else {
                metadata[name] = "<unset>"
                continue
            }
            let nested = Mirror(reflecting: unwrapped)
            if nested.displayStyle == .struct, !nested.children.isEmpty, depth < 3,
                !(unwrapped is any CustomStringConvertible)
            {
                flatten(unwrapped, prefix: name, depth: depth + 1, into: &metadata)
            } else {
                metadata[name] = .string("\(unwrapped)")
            }
        }
    }

    private static func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.map { unwrap($0.value) } ?? nil
    }
}
