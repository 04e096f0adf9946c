import Prometheus
import PropellerCore
import Synchronization

/// The manager's Prometheus metrics, served by `GET /metrics` (SPEC §4). Every family carries `# HELP`
/// and `# TYPE` (the texts live in `MetricHelp`), and the exposition passes `promtool check metrics`.
///
/// Two kinds of series:
/// - **Latest values** of running tasks and known proplets, kept here and rendered at scrape time
///   (`ManagerMetrics+Exposition.swift`): `propeller_task_*` labelled `task_id`, `task_name`, `proplet_id`
///   (gauges, plus the counters `propeller_task_cpu_seconds_total` and
///   `propeller_task_disk_{read,write}_bytes_total`), `propeller_task_info` carrying the task's `labels`,
///   `propeller_proplet_*` labelled `proplet_id`, `propeller_build_info` and the manager's own `process_*`.
///   A task's series disappear when it ends.
/// - **Event counters and latency** in a `PrometheusCollectorRegistry` owned by this instance (never a
///   global, so several managers in one test process never share series):
///   `propeller_ingest_messages_received_total{kind}`, `propeller_ingest_samples_stored_total{kind}`,
///   `propeller_ingest_messages_dropped_total{reason}`, `propeller_samples_lost_total{proplet_id}`,
///   `propeller_http_requests_total{method,path,status}`
///   and the histogram `propeller_http_request_duration_seconds{method,path}`.
public final class ManagerMetrics: Sendable {
    /// The registry of the event counters and the latency histogram.
    public let registry: PrometheusCollectorRegistry
    let tasks = Mutex<[String: TaskSeries]>([:])
    let proplets = Mutex<[String: PropletSeries]>([:])
    /// Counters by name and label values, created once (the hot path only looks them up).
    private let counters = Mutex<[String: Prometheus.Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    /// Which tasks run, under which name: the task series exist for running tasks only.
    let runningTasks = RunningTaskNames()

    /// Longest label value kept (task names are client input); longer values are cut.
    static let maxLabelLength = 128

    /// Buckets of `propeller_http_request_duration_seconds`: 0.5 ms … 10 s.
    static let httpBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Creates an empty set of series.
    public init() {
        registry = PrometheusCollectorRegistry()
    }

    // MARK: Ingestion

    /// Counts a received message of a kind (`create`, `alive`, `results`, `task_metrics`, `metrics`).
    public func messageReceived(kind: String) {
        counter("propeller_ingest_messages_received_total", [("kind", kind)]).increment()
    }

    /// Counts samples newly stored (`task` or `proplet`).
    public func samplesStored(_ count: Int, kind: String) {
        guard count > 0 else { return }
        counter("propeller_ingest_samples_stored_total", [("kind", kind)]).increment(by: Int64(count))
    }

    /// Counts a dropped message with its reason (`undecodable`, `unknown_task`, `store_error`, …).
    public func messageDropped(reason: String, count: Int = 1) {
        counter("propeller_ingest_messages_dropped_total", [("reason", reason)]).increment(by: Int64(count))
    }

    /// Counts `seq`s of a proplet the manager can never receive (`propeller_samples_lost_total`): the
    /// proplet dropped them from its full journal before they were committed.
    public func samplesLost(_ count: UInt64, propletID: String) {
        guard count > 0 else { return }
        counter("propeller_samples_lost_total", [("proplet_id", Self.label(propletID))])
            .increment(by: Int64(clamping: count))
    }

    // MARK: HTTP

    /// Records one served request.
    public func httpRequest(method: String, path: String, status: Int, duration: Duration) {
        counter(
            "propeller_http_requests_total",
            [("method", method), ("path", path), ("status", String(status))]
        ).increment()
        histogram("propeller_http_request_duration_seconds", [("method", method), ("path", path)])
            .record(duration)
    }

    /// A counter of the registry, created with its help text on first use.
    func counter(_ name: String, _ labels: [(String, String)]) -> Prometheus.Counter {
        let key = Self.key(name, labels)
        if let counter = counters.withLock({ $0[key] }) { return counter }
        let counter = registry.makeCounter(descriptor: Self.descriptor(name), labels: labels)
        counters.withLock { $0[key] = counter }
        return counter
    }

    private func histogram(_ name: String, _ labels: [(String, String)]) -> DurationHistogram {
        let key = Self.key(name, labels)
        if let histogram = histograms.withLock({ $0[key] }) { return histogram }
        let histogram = registry.makeDurationHistogram(
            descriptor: Self.descriptor(name),
            labels: labels,
            buckets: Self.httpBuckets
        )
        histograms.withLock { $0[key] = histogram }
        return histogram
    }

    /// The full name as the descriptor's base name (no unit appended), with its help text.
    private static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: MetricHelp.text(of: name))
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        ([name] + labels.map { $0.0 + "=" + $0.1 }).joined(separator: "\u{0}")
    }

    // MARK: Tasks

    /// Records the newest sample of a running task: its gauges, its counters and its info series.
    /// `labels` are the task's own labels (SPEC §4 `labels`), exported on `propeller_task_info`.
    ///
    /// `propeller_task_cpu_seconds_total` is integrated from `cpu_percent` over the time between
    /// samples (the first sample covers the time since the process started, `uptime_seconds`); it restarts
    /// from zero when the task runs again (a new process), which Prometheus treats as a counter reset.
    public func updateTask(id: String, name: String, sample: TaskSample, labels: [String: String] = [:]) {
        tasks.withLock { all in
            var series =
                all[id]
                ?? TaskSeries(name: name, propletID: sample.propletID, labels: labels, latest: sample, cpuSeconds: 0)
            let previous = all[id]?.latest
            let newProcess =
                previous == nil || series.propletID != sample.propletID
                || (sample.metrics.uptimeSeconds ?? .max) < (previous?.metrics.uptimeSeconds ?? 0)
            if let previous, !newProcess, sample.timestamp <= previous.timestamp { return }
            if newProcess {
                series.cpuSeconds = 0
                let covered = Double(sample.metrics.uptimeSeconds ?? 0)
                series.cpuSeconds = (sample.metrics.cpuPercent ?? 0) / 100 * covered
            } else if let previous {
                let elapsed = sample.timestamp.secondsSinceEpoch - previous.timestamp.secondsSinceEpoch
                series.cpuSeconds += (sample.metrics.cpuPercent ?? 0) / 100 * elapsed
            }
            series.name = name
            series.propletID = sample.propletID
            if !labels.isEmpty { series.labels = labels }
            series.latest = sample
            all[id] = series
        }
    }

    /// Removes every series of a task (it finished, failed, was stopped or deleted).
    public func removeTask(id: String) {
        _ = tasks.withLock { $0.removeValue(forKey: id) }
    }

    /// Ids of tasks that currently have series.
    public var taskIDsWithSeries: Set<String> { tasks.withLock { Set($0.keys) } }

    // MARK: Proplets

    /// Sets a proplet's gauges from its newest proplet-level sample.
    public func updateProplet(_ sample: PropletSample) {
        proplets.withLock { all in
            var series = all[sample.propletID] ?? PropletSeries()
            if let previous = series.latest, previous.timestamp > sample.timestamp { return }
            series.latest = sample
            all[sample.propletID] = series
        }
    }

    /// Sets a proplet's `alive` gauge (1 or 0).
    public func setPropletAlive(id: String, alive: Bool) {
        proplets.withLock { all in all[id, default: PropletSeries()].alive = alive }
    }

    /// Removes every series of a proplet (it was deleted).
    public func removeProplet(id: String) {
        _ = proplets.withLock { $0.removeValue(forKey: id) }
    }

    /// What is kept per running task.
    struct TaskSeries {
        var name: String
        var propletID: String
        var labels: [String: String]
        var latest: TaskSample
        var cpuSeconds: Double
    }

    /// What is kept per proplet.
    struct PropletSeries {
        var latest: PropletSample?
        var alive: Bool?
    }

    static func label(_ value: String) -> String {
        value.count > maxLabelLength ? String(value.prefix(maxLabelLength)) : value
    }
}
