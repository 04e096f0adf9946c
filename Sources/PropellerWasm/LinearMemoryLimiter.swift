@_spi(Fuzzing) import WasmKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Enforces a task's `memory_bytes` inside WasmKit: every `memory.grow` (and every memory a module
/// declares) is checked before WasmKit commits the pages, and one that would take the process past the
/// limit throws `WasmRunError.memoryLimitExceeded`, which ends the call as a failure.
///
/// The budget for linear memory is the limit minus the runner's resident memory when the limiter is
/// created (after the module is parsed, before it is instantiated), so the process's RSS stays within
/// the limit. It uses WasmKit's `Store.resourceLimiter`, which 0.4.2 exposes only as SPI
/// (`@_spi(Fuzzing)`); the mirror pins WasmKit to 0.4.2. See docs/architecture.md "Limits".
final class LinearMemoryLimiter: ResourceLimiter {
    /// The task's limit, for the error.
    let limitBytes: Int64
    /// Most bytes of linear memory allowed, over all memories.
    let budgetBytes: Int

    /// A limiter for `limitBytes`, with the budget computed from the current RSS.
    init(limitBytes: Int64) {
        self.limitBytes = limitBytes
        budgetBytes = max(0, Int(limitBytes) - Self.residentBytes())
    }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        guard desired <= budgetBytes else { throw WasmRunError.memoryLimitExceeded(limitBytes: limitBytes) }
        return true
    }

    func limitTableGrowth(to desired: Int) throws -> Bool { true }

    /// The process's resident set size (`/proc/self/statm`, second field, in pages); 0 when unreadable.
    static func residentBytes() -> Int {
        guard let bytes = try? HostFile.read("/proc/self/statm") else { return 0 }
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
