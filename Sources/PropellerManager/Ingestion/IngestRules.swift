import PropellerCore

/// Why a received message was dropped: the `reason` label of
/// `propeller_ingest_messages_dropped_total` (SPEC §2 "What the manager accepts").
enum DropReason: String, Sendable {
    /// Not valid JSON, or a field of the wrong type, missing, negative or not finite.
    case undecodable
    /// A message on a `{proplet_id}` topic carrying another `proplet_id`.
    case identityMismatch = "identity_mismatch"
    /// No such task.
    case unknownTask = "unknown_task"
    /// The task is assigned to another proplet (or to none).
    case notAssigned = "not_assigned"
    /// The task is not running, and the message is not from its life there.
    case notRunning = "not_running"
    /// From a proplet that never completed a registration.
    case unregisteredProplet = "unregistered_proplet"
    /// A value outside its range (`cpu_percent` above 110 % of the proplet's cores, `memory_percent`
    /// above 100, …).
    case outOfRange = "out_of_range"
    /// A timestamp outside `[started_at − 5 s, now + MANAGER_CLOCK_SKEW]`.
    case timestampOutOfWindow = "timestamp_out_of_window"
    /// A `seq` already committed (a resend): not stored again, acknowledged again.
    case duplicate
    /// On a topic the manager does not consume.
    case unexpectedTopic = "unexpected_topic"
    /// The store failed.
    case storeError = "store_error"
}

/// The checks of SPEC §2 "What the manager accepts", as pure functions of the message, the stored task
/// and proplet, and the time.
struct IngestRules: Sendable {
    /// How far in the future a timestamp may be (`MANAGER_CLOCK_SKEW`).
    var clockSkewSeconds: Double
    /// How far before the task's `started_at` a sample may be (its process starts just before).
    var startSlackSeconds: Double = 5
    /// Oldest accepted proplet-level sample, relative to now (journaled samples may arrive late after an
    /// outage; older ones are past the default retention anyway).
    var propletSampleMaxAgeSeconds: Double = 7 * 24 * 3600
    /// CPU slack over 100 % per core.
    static let cpuSlack = 1.1
    /// Cores assumed for a proplet whose registration carries none.
    static let unknownCPUCount = 1024

    /// The reason to drop a task sample, or nil to accept it.
    func check(_ sample: TaskSample, task: WasmTask?, proplet: Proplet?, now: Timestamp) -> DropReason? {
        guard let task else { return .unknownTask }
        guard task.propletID == sample.propletID else { return .notAssigned }
        if let started = task.startedAt, sample.timestamp < started.adding(seconds: -startSlackSeconds) {
            return .timestampOutOfWindow
        }
        guard sample.timestamp <= now.adding(seconds: clockSkewSeconds) else { return .timestampOutOfWindow }
        // A task the manager failed itself whose process still runs there (its proplet was unreachable):
        // its samples are the truth, and reconciliation will mark it running again.
        if task.state != .running && !task.failedByManager {
            // A sample from its life there (a final sample, or a resend arriving after the result).
            guard task.state.isFinished, let finished = task.finishedAt,
                sample.timestamp <= finished.adding(seconds: startSlackSeconds)
            else { return .notRunning }
        }
        let cores = proplet?.metadata?.cpuCount ?? Self.unknownCPUCount
        guard Self.inRange(sample.metrics, cores: cores), Self.inRange(sample.aggregated, cores: cores) else {
            return .outOfRange
        }
        return nil
    }

    /// The reason to drop a proplet-level sample, or nil to accept it.
    func check(_ sample: PropletSample, proplet: Proplet?, now: Timestamp) -> DropReason? {
        guard let proplet, proplet.metadata != nil else { return .unregisteredProplet }
        guard sample.timestamp <= now.adding(seconds: clockSkewSeconds),
            sample.timestamp >= now.adding(seconds: -propletSampleMaxAgeSeconds)
        else { return .timestampOutOfWindow }
        let cores = proplet.metadata?.cpuCount ?? Self.unknownCPUCount
        let host = sample.host
        guard Self.inRange(sample.metrics, cores: cores),
            host.cpuPercent.isFinite, host.cpuPercent >= 0, host.cpuPercent <= 100 * Self.cpuSlack,
            host.load1m.isFinite, host.load1m >= 0, host.memoryTotalBytes >= 0, host.memoryUsedBytes >= 0,
            host.memoryUsedBytes <= host.memoryTotalBytes
        else { return .outOfRange }
        return nil
    }

    /// The reason to drop a result, or nil to apply it: from the proplet the task is assigned to, for a
    /// task that runs — or that the manager itself marked failed because the proplet went silent or
    /// restarted (the proplet's own word is the truth).
    func check(_ result: TaskResult, task: WasmTask?) -> DropReason? {
        guard let task else { return .unknownTask }
        guard task.propletID == result.propletID else { return .notAssigned }
        guard task.state == .running || Self.isManagerGuess(task) else { return .notRunning }
        return nil
    }

    /// Whether the final sample of a result is acceptable (its state is applied either way).
    func acceptsFinalMetrics(_ final: FinalMetrics, proplet: Proplet?, now: Timestamp) -> Bool {
        let cores = proplet?.metadata?.cpuCount ?? Self.unknownCPUCount
        return Self.inRange(final.metrics, cores: cores) && Self.inRange(final.aggregated, cores: cores)
            && final.timestamp <= now.adding(seconds: clockSkewSeconds)
    }

    /// Whether a failed task's error is one the manager wrote itself (not the proplet's report).
    static func isManagerGuess(_ task: WasmTask) -> Bool { task.failedByManager }

    /// Finite, non-negative values; `cpu_percent` at most 110 % of `cores` × 100; `memory_percent` at
    /// most 100. (Checked field by field, without collections: it runs for every sample.)
    static func inRange(_ metrics: ProcessMetrics, cores: Int) -> Bool {
        let cpuLimit = 100 * Double(max(1, cores)) * cpuSlack
        if let cpu = metrics.cpuPercent, !(cpu.isFinite && cpu >= 0 && cpu <= cpuLimit) { return false }
        if let memory = metrics.memoryPercent, !(memory.isFinite && memory >= 0 && memory <= 100) { return false }
        return (metrics.memoryBytes ?? 0) >= 0 && (metrics.diskReadBytes ?? 0) >= 0
            && (metrics.diskWriteBytes ?? 0) >= 0 && (metrics.uptimeSeconds ?? 0) >= 0
            && (metrics.threadCount ?? 0) >= 0 && (metrics.fileDescriptorCount ?? 0) >= 0
    }

    /// The same for a sample's aggregate: cpu figures within the CPU limit, all values finite and ≥ 0.
    static func inRange(_ aggregated: AggregatedMetrics?, cores: Int) -> Bool {
        guard let aggregated else { return true }
        let cpuLimit = 100 * Double(max(1, cores)) * cpuSlack
        func cpuOK(_ value: Double?) -> Bool { value.map { $0.isFinite && $0 >= 0 && $0 <= cpuLimit } ?? true }
        func memoryOK(_ value: Double) -> Bool { value.isFinite && value >= 0 }
        guard cpuOK(aggregated.avgCPUUsage), cpuOK(aggregated.maxCPUUsage), cpuOK(aggregated.p50CPUUsage),
            cpuOK(aggregated.p95CPUUsage)
        else { return false }
        return memoryOK(aggregated.avgMemoryUsage) && memoryOK(aggregated.p95MemoryUsage ?? 0)
            && aggregated.maxMemoryUsage >= 0 && aggregated.totalDiskRead >= 0 && aggregated.totalDiskWrite >= 0
            && aggregated.sampleCount >= 0
    }
}
