import PropellerCore
import PropellerMonitoring

#if canImport(Glibc)
import Glibc
#endif

/// What the proplet tells the manager about its host when it registers.
enum HostDescription {
    /// Host name, OS, architecture, CPU count and RAM of this machine, and the Wasm runtime with its
    /// version (`wasmkit 0.4.2`, `wasmtime 49.0.3`).
    static func metadata(wasmRuntime: String) -> PropletMetadata {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return PropletMetadata(
            hostname: field(names.nodename),
            os: field(names.sysname).lowercased(),
            arch: field(names.machine),
            cpuCount: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            totalMemoryBytes: HostSampler.totalMemoryBytes(),
            version: PropellerVersion.current,
            wasmRuntime: wasmRuntime
        )
    }
}
