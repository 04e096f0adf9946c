import PropellerCore
import PropellerManager
import PropellerTestSupport

/// Builders of tasks, proplets and samples for the store tests.
enum StoreFixtures {
    /// A fixed instant (2025-01-15T10:00:00Z) the fixtures count from.
    static let epoch = Timestamp(microsecondsSinceEpoch: 1_736_935_200_000_000)

    static func time(_ seconds: Double) -> Timestamp { epoch.adding(seconds: seconds) }

    static func task(
        _ id: String,
        created: Double = 0,
        state: TaskState = .pending,
        propletID: String? = nil
    ) -> WasmTask {
        WasmTask(
            id: id,
            name: "main",
            module: .file(digest: "sha256:" + String(repeating: "ab", count: 32), sizeBytes: 8),
            inputs: [.integer(2), .number(2.0), .number(-0.5), .string("text with \"quotes\"")],
            env: ["MODE": "fast", "EMPTY": ""],
            cliArgs: ["--verbose", "x"],
            daemon: state == .running,
            monitoringProfile: .intensive,
            state: state,
            propletID: propletID,
            createdAt: time(created),
            updatedAt: time(created + 1)
        )
    }

    static func proplet(_ id: String, alive: Bool = true, withMetadata: Bool = true) -> Proplet {
        Proplet(
            id: id,
            name: "proplet \(id)",
            alive: alive,
            lastSeen: time(5),
            runningTasks: 2,
            metadata: withMetadata
                ? PropletMetadata(
                    hostname: "edge-1",
                    os: "linux",
                    arch: "x86_64",
                    cpuCount: 4,
                    totalMemoryBytes: 8_000_000_000,
                    version: "0.1.0",
                    wasmRuntime: "wasmkit"
                ) : nil
        )
    }

    /// A sample with every metric set from `value` (cumulative disk counters grow with it).
    static func sample(_ taskID: String, at seconds: Double, value: Double = 1) -> TaskSample {
        TaskSample(
            taskID: taskID,
            propletID: "proplet-1",
            metrics: ProcessMetrics(
                cpuPercent: value,
                memoryBytes: Int64(value * 1000),
                memoryPercent: value / 10,
                diskReadBytes: Int64(value * 100),
                diskWriteBytes: Int64(value * 50),
                uptimeSeconds: Int64(seconds),
                threadCount: 2,
                fileDescriptorCount: 8
            ),
            aggregated: nil,
            timestamp: time(seconds)
        )
    }

    /// A random sample: each metric is missing with probability 1/4; some samples carry an aggregate.
    static func randomSample(
        _ taskID: String,
        at timestamp: Timestamp,
        using random: inout SeededGenerator
    ) -> TaskSample {
        func maybe<T>(_ value: @autoclosure () -> T) -> T? {
            Int.random(in: 0..<4, using: &random) == 0 ? nil : value()
        }
        let metrics = ProcessMetrics(
            cpuPercent: maybe((Double.random(in: 0...400, using: &random) * 100).rounded() / 100),
            memoryBytes: maybe(Int64.random(in: 1_000_000...900_000_000, using: &random)),
            memoryPercent: maybe(Double.random(in: 0...100, using: &random)),
            diskReadBytes: maybe(Int64.random(in: 0...10_000_000, using: &random)),
            diskWriteBytes: maybe(Int64.random(in: 0...10_000_000, using: &random)),
            uptimeSeconds: maybe(Int64.random(in: 0...100_000, using: &random)),
            threadCount: maybe(Int64.random(in: 1...64, using: &random)),
            fileDescriptorCount: maybe(Int64.random(in: 3...1024, using: &random))
        )
        let aggregated =
            Bool.random(using: &random)
            ? AggregatedMetrics(
                avgCPUUsage: 12.5,
                maxCPUUsage: 80,
                avgMemoryUsage: 1_000_000,
                maxMemoryUsage: 2_000_000,
                totalDiskRead: 4096,
                totalDiskWrite: 0,
                sampleCount: Int64.random(in: 1...100, using: &random),
                p50CPUUsage: maybe(10)
            ) : nil
        return TaskSample(
            taskID: taskID,
            propletID: "proplet-\(Int.random(in: 1...3, using: &random))",
            metrics: metrics,
            aggregated: aggregated,
            timestamp: timestamp
        )
    }

    static func propletSample(_ propletID: String, at seconds: Double, load: Double = 0.5) -> PropletSample {
        PropletSample(
            propletID: propletID,
            timestamp: time(seconds),
            metrics: ProcessMetrics(cpuPercent: load * 10, memoryBytes: 40_000_000, threadCount: 12),
            host: HostMetrics(
                cpuPercent: 33.3,
                memoryTotalBytes: 8_000_000_000,
                memoryUsedBytes: 3_000_000_000,
                load1m: load
            ),
            runningTasks: 3
        )
    }
}

extension Store {
    /// Puts a proplet into the store through the domain operations, as the manager would have: its
    /// registration (when it has metadata), a heartbeat with its running-task count, both at its
    /// `lastSeen`, then — when it is not alive — its loss. Returns it as stored.
    @discardableResult
    func seed(_ proplet: Proplet) async throws -> Proplet {
        if let metadata = proplet.metadata {
            let registration = PropletRegistration(propletID: proplet.id, name: proplet.name, metadata: metadata)
            _ = try await registerProplet(registration, at: proplet.lastSeen)
        }
        _ = try await recordHeartbeat(propletID: proplet.id, runningTasks: proplet.runningTasks, at: proplet.lastSeen)
        if !proplet.alive { _ = try await markPropletLost(id: proplet.id, at: proplet.lastSeen) }
        guard let stored = try await self.proplet(id: proplet.id) else { fatalError("seeded proplet missing") }
        return stored
    }
}
