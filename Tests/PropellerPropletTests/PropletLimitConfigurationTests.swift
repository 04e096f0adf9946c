import Foundation
import PropellerCore
import Testing

@testable import PropellerProplet

@Suite("Proplet configuration: runtime and task limits")
struct PropletLimitConfigurationTests {
    @Test("by default the runtime is wasmkit, wasmtime is looked up on PATH, and no limits apply")
    func defaults() throws {
        let configuration = try PropletConfiguration(environment: [:])
        #expect(configuration.wasmRuntime == .wasmkit)
        #expect(configuration.wasmtimePath == "wasmtime")
        #expect(configuration.taskLimits == .none)
    }

    @Test("PROPLET_WASM_RUNTIME, PROPLET_WASMTIME_PATH and PROPLET_TASK_* are read, with units")
    func variables() throws {
        let configuration = try PropletConfiguration(environment: [
            "PROPLET_WASM_RUNTIME": "Wasmtime",
            "PROPLET_WASMTIME_PATH": "/opt/wasmtime/bin/wasmtime",
            "PROPLET_TASK_MEMORY_BYTES": "64MiB",
            "PROPLET_TASK_CPU_SECONDS": "10s",
            "PROPLET_TASK_TIMEOUT_SECONDS": "30",
        ])
        #expect(configuration.wasmRuntime == .wasmtime)
        #expect(configuration.wasmtimePath == "/opt/wasmtime/bin/wasmtime")
        #expect(configuration.taskLimits == TaskLimits(memoryBytes: 64 << 20, cpuSeconds: 10, timeoutSeconds: 30))
    }

    @Test(
        "a value that does not parse names the variable and what is accepted",
        arguments: [
            ("PROPLET_WASM_RUNTIME", "wasm3", "wasmkit or wasmtime"),
            ("PROPLET_TASK_MEMORY_BYTES", "lots", "KiB, MiB"),
            ("PROPLET_TASK_MEMORY_BYTES", "1000", "from 1048576"),
            ("PROPLET_TASK_CPU_SECONDS", "2.5", "whole seconds"),
            ("PROPLET_TASK_TIMEOUT_SECONDS", "0", "from 1"),
        ]
    )
    func invalid(variable: String, value: String, accepted: String) {
        #expect {
            try PropletConfiguration(environment: [variable: value])
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(variable) && text.contains(accepted) && text.contains(value)
        }
    }

    @Test("a task's limits take the proplet's defaults where unset and its ceilings where above")
    func defaultsAndCeilings() {
        let proplet = TaskLimits(memoryBytes: 64 << 20, cpuSeconds: 10, timeoutSeconds: nil)
        let task = TaskLimits(memoryBytes: 1 << 30, cpuSeconds: 2, timeoutSeconds: 30)
        #expect(task.applying(proplet: proplet) == TaskLimits(memoryBytes: 64 << 20, cpuSeconds: 2, timeoutSeconds: 30))
        #expect(TaskLimits.none.applying(proplet: proplet) == proplet)
        #expect(task.applying(proplet: .none) == task)
    }

    @Test("sizes and durations parse with their units and reject anything else")
    func parsing() {
        #expect(TaskLimits.parseBytes("67108864") == 67_108_864)
        #expect(TaskLimits.parseBytes("64MiB") == 64 << 20)
        #expect(TaskLimits.parseBytes("64mib") == 64 << 20)
        #expect(TaskLimits.parseBytes("1GiB") == 1 << 30)
        #expect(TaskLimits.parseBytes("500MB") == 500_000_000)
        #expect(TaskLimits.parseBytes("2KiB") == 2048)
        #expect(TaskLimits.parseBytes("12B") == 12)
        for bad in ["", "MiB", "-1", "1.5GiB", "64 MB extra", "99999999999TiB"] {
            #expect(TaskLimits.parseBytes(bad) == nil, "\(bad)")
        }
        #expect(TaskLimits.parseSeconds("30") == 30)
        #expect(TaskLimits.parseSeconds("30s") == 30)
        for bad in ["", "s", "1m", "-3", "2.5"] {
            #expect(TaskLimits.parseSeconds(bad) == nil, "\(bad)")
        }
    }
}
