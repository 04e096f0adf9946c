#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment of a task runner process: built explicitly from a short allow-list of the
/// proplet's variables, so no secret the proplet holds (`PROPELLER_MQTT_PASSWORD`,
/// `PROPLET_REGISTRY_PASSWORD`, cloud credentials, …) reaches a task's process. The task's own `env`
/// travels in the job file and is given to the Wasm module only (SPEC §7).
package enum TaskEnvironment {
    /// The variables a runner may inherit: the executable search path, locale and time zone, and the
    /// temporary and home directories (an external runtime such as Wasmtime keeps its cache there).
    package static let inherited: Set<String> = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ"]

    /// `KEY=VALUE` entries of `environment` whose key is in `inherited`, sorted by key.
    package static func entries(from environment: [String: String]) -> [String] {
        environment.filter { inherited.contains($0.key) }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// The allowed entries of this process's environment.
    package static func current() -> [String] {
        var environment: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return entries(from: environment)
    }
}
