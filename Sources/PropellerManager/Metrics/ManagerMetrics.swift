import CoreMetrics
import Prometheus
import PropellerCore
import Synchronization

/// The manager's Prometheus metrics, recorded through the swift-metrics API into one
/// `PrometheusCollectorRegistry` that belongs to this instance (never the global `MetricsSystem`, so
/// several managers — for example parallel tests — never share series).
///
/// Series:
/// - `propeller_task_{cpu_percent,memory_bytes,disk_read_bytes,disk_write_bytes,threads,file_descriptors}`
///   gauges labelled `task_id`, `task_name`, `proplet_id`, for running tasks only (removed when a task ends);
/// - `propeller_proplet_{cpu_percent,memory_bytes,host_cpu_percent,host_memory_used_bytes,running_tasks,alive}`
///   gauges labelled `proplet_id`;
/// - `propeller_ingest_messages_received_total{kind}`, `propeller_ingest_samples_stored_total{kind}`,
///   `propeller_ingest_messages_dropped_total{reason}`, `propeller_samples_lost_total{proplet_id}` counters;
/// - `propeller_http_requests_total{method,path,status}` counter and
///   `propeller_http_request_duration_seconds{method,path}` histogram.
public final class ManagerMetrics: Sendable {
    /// The registry every series is written into; `GET /metrics` emits it.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let taskGauges = Mutex<[String: TaskSeries]>([:])
    private let propletGauges = Mutex<[String: [CoreMetrics.Gauge]]>([:])
    /// Ingestion counters by name and label value, created once (the hot path only looks them up).
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    /// Which tasks run, under which name: the task gauges exist for running tasks only.
    let runningTasks = RunningTaskNames()

    /// Longest label value kept (task names are client input); longer values are cut.
    static let maxLabelLength = 128

    /// Creates an empty registry and the HTTP latency buckets (1 ms … 10 s).
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["propeller_http_request_duration_seconds"] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// The Prometheus text exposition of every series.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: Ingestion

    /// Counts a received message of a kind (`create`, `alive`, `results`, `task_metrics`, `metrics`).
    public func messageReceived(kind: String) {
        counter("propeller_ingest_messages_received_total", "kind", kind).increment()
    }

    /// Counts samples newly stored (`task` or `proplet`).
    public func samplesStored(_ count: Int, kind: String) {
        guard count > 0 else { return }
        counter("propeller_ingest_samples_stored_total", "kind", kind).increment(by: count)
    }

    /// Counts a dropped message with its reason (`undecodable`, `unknown_task`, `store_error`, …).
    public func messageDropped(reason: String, count: Int = 1) {
        counter("propeller_ingest_messages_dropped_total", "reason", reason).increment(by: count)
    }

    /// Counts `seq`s of a proplet the manager can never receive (`propeller_samples_lost_total`): the
    /// proplet dropped them from its full journal before they were committed.
    public func samplesLost(_ count: UInt64, propletID: String) {
        guard count > 0 else { return }
        counter("propeller_samples_lost_total", "proplet_id", Self.label(propletID)).increment(by: Int(clamping: count))
    }

    private func counter(_ name: String, _ label: String, _ value: String) -> CoreMetrics.Counter {
        let key = name + "\u{0}" + value
        if let counter = counters.withLock({ $0[key] }) { return counter }
        let counter = CoreMetrics.Counter(label: name, dimensions: [(label, value)], factory: factory)
        counters.withLock { $0[key] = counter }
        return counter
    }

    // MARK: HTTP

    /// Records one served request.
    public func httpRequest(method: String, path: String, status: Int, duration: Duration) {
        Counter(
            label: "propeller_http_requests_total",
            dimensions: [("method", method), ("path", path), ("status", String(status))],
            factory: factory
        ).increment()
        let timer = CoreMetrics.Timer(
            label: "propeller_http_request_duration_seconds",
            dimensions: [("method", method), ("path", path)],
            factory: factory
        )
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    // MARK: Tasks

    /// Sets the latest gauges of a running task from its newest sample.
    public func updateTask(id: String, name: String, sample: TaskSample) {
        let labels = [
            ("task_id", id), ("task_name", Self.label(name)), ("proplet_id", Self.label(sample.propletID)),
        ]
        let metrics = sample.metrics
        let values: [(String, Double?)] = [
            ("propeller_task_cpu_percent", metrics.cpuPercent),
            ("propeller_task_memory_bytes", metrics.memoryBytes.map(Double.init)),
            ("propeller_task_disk_read_bytes", metrics.diskReadBytes.map(Double.init)),
            ("propeller_task_disk_write_bytes", metrics.diskWriteBytes.map(Double.init)),
            ("propeller_task_threads", metrics.threadCount.map(Double.init)),
            ("propeller_task_file_descriptors", metrics.fileDescriptorCount.map(Double.init)),
        ]
        let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        var gauges: [CoreMetrics.Gauge] = []
        for (name, value) in values {
            guard let value else { continue }
            let gauge = CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
            gauge.record(value)
            gauges.append(gauge)
        }
        let stale = taskGauges.withLock { all -> [CoreMetrics.Gauge] in
            let previous = all[id]
            all[id] = TaskSeries(labelsKey: key, gauges: gauges)
            // A task restarted on another proplet leaves series with old labels behind: remove them.
            guard let previous, previous.labelsKey != key else { return [] }
            return previous.gauges
        }
        for gauge in stale { gauge.destroy() }
    }

    /// Removes every series of a task (it finished, failed, was stopped or deleted).
    public func removeTask(id: String) {
        let gauges = taskGauges.withLock { $0.removeValue(forKey: id) }?.gauges ?? []
        for gauge in gauges { gauge.destroy() }
    }

    /// Ids of tasks that currently have series.
    public var taskIDsWithSeries: Set<String> { taskGauges.withLock { Set($0.keys) } }

    // MARK: Proplets

    /// Sets a proplet's gauges from its newest proplet-level sample.
    public func updateProplet(_ sample: PropletSample) {
        let values: [(String, Double?)] = [
            ("propeller_proplet_cpu_percent", sample.metrics.cpuPercent),
            ("propeller_proplet_memory_bytes", sample.metrics.memoryBytes.map(Double.init)),
            ("propeller_proplet_host_cpu_percent", sample.host.cpuPercent),
            ("propeller_proplet_host_memory_used_bytes", Double(sample.host.memoryUsedBytes)),
            ("propeller_proplet_running_tasks", Double(sample.runningTasks)),
        ]
        recordProplet(id: sample.propletID, values: values)
    }

    /// Sets a proplet's `alive` gauge (1 or 0).
    public func setPropletAlive(id: String, alive: Bool) {
        recordProplet(id: id, values: [("propeller_proplet_alive", alive ? 1 : 0)])
    }

    /// Removes every series of a proplet (it was deleted).
    public func removeProplet(id: String) {
        let gauges = propletGauges.withLock { $0.removeValue(forKey: id) } ?? []
        for gauge in gauges { gauge.destroy() }
    }

    private func recordProplet(id: String, values: [(String, Double?)]) {
        let labels = [("proplet_id", Self.label(id))]
        var created: [CoreMetrics.Gauge] = []
        for (name, value) in values {
            guard let value else { continue }
            let gauge = CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
            gauge.record(value)
            created.append(gauge)
        }
        propletGauges.withLock { all in
            var known = all[id] ?? []
            for gauge in created where !known.contains(where: { $0.label == gauge.label }) { known.append(gauge) }
            all[id] = known
        }
    }

    private struct TaskSeries {
        var labelsKey: String
        var gauges: [CoreMetrics.Gauge]
    }

    private static func label(_ value: String) -> String {
        value.count > maxLabelLength ? String(value.prefix(maxLabelLength)) : value
    }
}
