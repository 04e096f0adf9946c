/// Wasmtime's error report on stderr, read into the errors `WasmTaskRunner` reports.
///
/// Wasmtime 49 ends a failed run with `Error: failed to run main module …`, a blank line,
/// `Caused by:` and numbered causes (`    0: failed to invoke \`trap\``, …, `    2: wasm trap: …`),
/// with backtrace frames (`    0:     0x32 - <unknown>!…`) in between.
struct WasmtimeDiagnostics: Sendable {
    /// The report's causes in order, without numbers and backtrace frames; empty when stderr has no
    /// report (a guest's own stderr is not one).
    var causes: [String] = []

    /// Wasmtime's trap texts that WasmKit words differently, so both runtimes give the same error.
    static let trapWording = ["wasm `unreachable` instruction executed": "unreachable"]

    /// Marks the start of Wasmtime's report.
    static let reportPrefix = "Error: failed to "

    init(stderr: [UInt8]) {
        let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.lastIndex(where: { $0.hasPrefix(Self.reportPrefix) }) else { return }
        var causes = [String(lines[start].dropFirst("Error: ".count))]
        for line in lines[(start + 1)...] {
            let trimmed = line.drop(while: { $0 == " " })
            guard let colon = trimmed.firstIndex(of: ":"), trimmed[..<colon].allSatisfy(\.isNumber),
                colon > trimmed.startIndex
            else { continue }
            let text = trimmed[trimmed.index(after: colon)...].drop(while: { $0 == " " })
            if text.hasPrefix("0x") && text.contains(" - ") { continue }  // a backtrace frame
            causes.append(String(text))
        }
        self.causes = causes
    }

    /// The error this report describes, nil when there is none.
    func error(in export: String, output: WasmtimeInvocation.Output) -> WasmRunError? {
        guard let last = causes.last else { return nil }
        let growPrefix = "forcing trap when growing memory to "
        if let grow = causes.first(where: { $0.hasPrefix(growPrefix) }) {
            let bytes = Int64(grow.dropFirst(growPrefix.count).prefix { $0.isNumber }) ?? 0
            if let cap = output.memoryCapBytes, let limit = output.memoryLimitBytes, bytes > cap {
                return .memoryLimitExceeded(limitBytes: limit)
            }
            return .trap(export: export, reason: "memory.grow beyond the module's maximum (\(bytes) bytes)")
        }
        if let trap = causes.first(where: { $0.hasPrefix("wasm trap: ") }) {
            let reason = String(trap.dropFirst("wasm trap: ".count))
            return .trap(export: export, reason: Self.trapWording[reason] ?? reason)
        }
        if causes.contains(where: { $0.hasPrefix("failed to instantiate") }) {
            return .instantiationFailed(reason: last)
        }
        if causes.contains(where: { $0.hasPrefix("failed to compile") || $0.hasPrefix("failed to parse") }) {
            return .invalidModule(reason: last)
        }
        return .runtime(reason: causes.joined(separator: ": "))
    }
}
