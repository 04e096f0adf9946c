// Query benchmark of the SQLite store: what `GET /tasks/{id}/metrics?limit=100` asks of it.
//
// Fills a fresh database with TASKS × SAMPLES task samples (10 s apart, interleaved across tasks as
// ingestion writes them, in batches), then times `taskSamples(limit 100)` + `taskAggregate` for random
// tasks, over all time and over a one-hour range. Prints a Markdown section on stdout.
//
// Usage: store-query-bench --database PATH [--tasks 1000] [--samples 1000] [--queries 300] [--batch 500]
import Foundation
import Logging
import PropellerCore
import PropellerManager
import PropellerMonitoring

struct Options {
    var database = ""
    var tasks = 1000
    var samplesPerTask = 1000
    var queries = 300
    var batch = 500

    init(_ arguments: [String]) throws {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw UsageError("\(flag) needs a value") }
            switch flag {
            case "--database": database = value
            case "--tasks": tasks = try Self.positive(flag, value)
            case "--samples": samplesPerTask = try Self.positive(flag, value)
            case "--queries": queries = try Self.positive(flag, value)
            case "--batch": batch = try Self.positive(flag, value)
            default: throw UsageError("unknown option \(flag)")
            }
        }
        guard !database.isEmpty else { throw UsageError("--database PATH is required") }
    }

    private static func positive(_ flag: String, _ value: String) throws -> Int {
        guard let number = Int(value), number > 0 else { throw UsageError("\(flag) must be a positive integer") }
        return number
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Latencies in milliseconds with nearest-rank percentiles.
struct Latencies {
    var values: [Double] = []

    mutating func add(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        values.append(Double(seconds) * 1000 + Double(attoseconds) / 1e15)
    }

    func percentile(_ percent: Int) -> Double {
        SampleStatistics.percentile(percent, ofSorted: values.sorted()) ?? .nan
    }

    var mean: Double { values.reduce(0, +) / Double(max(values.count, 1)) }
}

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

let options: Options
do {
    options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("store-query-bench: \(error)\n".utf8))
    exit(2)
}

let interval = 10.0
let start = Timestamp(microsecondsSinceEpoch: 1_736_935_200_000_000)
let taskIDs = (0..<options.tasks).map { String(format: "00000000-0000-4000-8000-%012d", $0) }
let store = try SQLiteStore(path: options.database, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })

// Fill: sample i of every task at start + i·interval, written in batches as ingestion would.
var random = SystemRandomNumberGenerator()
let clock = ContinuousClock()

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func sample(_ taskID: String, proplet: Int, step: Int) -> TaskSample {
    let cpu = Double.random(in: 0...200)
    return TaskSample(
        taskID: taskID,
        propletID: "proplet-\(proplet)",
        metrics: ProcessMetrics(
            cpuPercent: cpu,
            memoryBytes: Int64.random(in: 10_000_000...200_000_000),
            memoryPercent: cpu / 20,
            diskReadBytes: Int64(step) * 4096,
            diskWriteBytes: Int64(step) * 1024,
            uptimeSeconds: Int64(Double(step) * interval),
            threadCount: 4,
            fileDescriptorCount: 12
        ),
        aggregated: AggregatedMetrics(avgCPUUsage: cpu, maxCPUUsage: cpu, sampleCount: Int64(step + 1)),
        timestamp: start.adding(seconds: Double(step) * interval)
    )
}

/// CPU seconds (user + system) this process has used so far: on a shared machine, work per CPU
/// second is steadier than work per wall second.
func cpuSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Stores `steps` samples of every task, interleaved across tasks, in batches; returns
/// (stored, wall seconds, CPU seconds).
func fill(_ store: SQLiteStore, tasks: [String], steps: Int) async throws -> (Int, Double, Double) {
    var pending: [TaskSample] = []
    pending.reserveCapacity(options.batch)
    var stored = 0
    let began = clock.now
    let cpuBegan = cpuSeconds()
    for step in 0..<steps {
        for (index, taskID) in tasks.enumerated() {
            pending.append(sample(taskID, proplet: index % 10, step: step))
            if pending.count == options.batch {
                stored += try await store.insertTaskSamples(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
    }
    stored += try await store.insertTaskSamples(pending)
    return (stored, seconds(clock.now - began), cpuSeconds() - cpuBegan)
}

let (stored, fillSeconds, fillCPU) = try await fill(store, tasks: taskIDs, steps: options.samplesPerTask)

// The same number of samples from only 10 tasks (an ingestion flood from a few tasks), in a second file.
let fewStore = try SQLiteStore(
    path: options.database + "-few",
    logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
)
let (fewStored, fewSeconds, fewCPU) = try await fill(
    fewStore,
    tasks: Array(taskIDs.prefix(10)),
    steps: options.tasks * options.samplesPerTask / 10
)
try fewStore.close()

// Queries: a warm-up pass, then the measured passes over random tasks.
let span = Double(options.samplesPerTask) * interval
func oneHour() -> TimeRange {
    let from = start.adding(seconds: Double.random(in: 0...max(span - 3600, 0)))
    return TimeRange(from: from, to: from.adding(seconds: 3600))
}

struct Scenario {
    var name: String
    var range: () -> TimeRange
    var order: SampleOrder
    var total = Latencies()
    var page = Latencies()
    var aggregate = Latencies()
    var returned = 0
    var aggregated: Int64 = 0
}

var scenarios = [
    Scenario(name: "`limit=100`, all time", range: { .all }, order: .ascending),
    Scenario(name: "`limit=100`, 1-hour range", range: oneHour, order: .ascending),
    Scenario(name: "`limit=100&order=desc`, all time", range: { .all }, order: .descending),
]
for pass in 0..<2 {
    let count = pass == 0 ? min(50, options.queries) : options.queries
    for index in scenarios.indices {
        for _ in 0..<count {
            let taskID = taskIDs.randomElement(using: &random)!
            let range = scenarios[index].range()
            let began = clock.now
            let page = try await store.taskSamples(
                taskID: taskID,
                range: range,
                order: scenarios[index].order,
                page: Page(offset: 0, limit: 100)
            )
            let paged = clock.now
            let aggregate = try await store.taskAggregate(taskID: taskID, range: range)
            let ended = clock.now
            guard pass == 1 else { continue }
            scenarios[index].page.add(paged - began)
            scenarios[index].aggregate.add(ended - paged)
            scenarios[index].total.add(ended - began)
            scenarios[index].returned += page.items.count
            scenarios[index].aggregated += aggregate?.sampleCount ?? 0
        }
    }
}
// Retention: a pass with nothing to drop (the scan that finds series to trim), then a cap that drops
// the oldest 10 % of every task.
let lastSample = start.adding(seconds: span)
var began = clock.now
let keptAll = try await store.applyRetention(RetentionPolicy(), now: lastSample)
let scanSeconds = seconds(clock.now - began)
let cap = options.samplesPerTask * 9 / 10
began = clock.now
let dropped = try await store.applyRetention(RetentionPolicy(maxSamplesPerSeries: cap), now: lastSample)
let dropSeconds = seconds(clock.now - began)
// Task rows, so that run.sh can ask a real `propeller manager` on this file for these tasks over HTTP.
let createdAt = Timestamp.now()
for taskID in taskIDs {
    try await store.createTask(
        WasmTask(
            id: taskID,
            name: "bench",
            module: .file(digest: "sha256:" + String(repeating: "0", count: 64), sizeBytes: 8),
            monitoringProfile: .standard,
            state: .completed,
            createdAt: createdAt,
            updatedAt: createdAt
        )
    )
}
try store.close()  // checkpoints the WAL into the main file
let fileBytes = ["", "-wal"].reduce(0) { total, suffix in
    total + ((try? FileManager.default.attributesOfItem(atPath: options.database + suffix)[.size] as? Int) ?? 0)
}

let target = 10.0
let loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first ?? "?"
print("## Store query latency (SQLite, \(stored.formatted()) samples over \(options.tasks) tasks)")
print()
print(
    "Command: `Benchmarks/query/run.sh` (release build; runs `store-query-bench --tasks \(options.tasks) "
        + "--samples \(options.samplesPerTask) --queries \(options.queries) --batch \(options.batch)`)."
)
print("Each query is what `GET /tasks/{id}/metrics?limit=100` asks of the store: one page of 100 samples")
print("plus the aggregate (avg/max/p50/p95/totals) over **all** samples of the task in the range;")
print("\(options.queries) random tasks per row after a warm-up. Store calls only: the HTTP layer adds its own cost.")
print("SQLite in WAL mode, `synchronous=NORMAL`, 32 MiB page cache per connection; one process, no other load")
print("than the machine's own (1-minute load average at the end: \(loadAverage)).")
print()
print(
    "| query | samples aggregated (mean) | page p50 ms | aggregate p50 ms | total p50 ms | total p99 ms | "
        + "p99 vs 10 ms target |"
)
print("|---|---:|---:|---:|---:|---:|---:|")
for scenario in scenarios {
    let p99 = scenario.total.percentile(99)
    print(
        "| \(scenario.name) | \(scenario.aggregated / Int64(max(scenario.total.values.count, 1))) | "
            + "\(format(scenario.page.percentile(50))) | \(format(scenario.aggregate.percentile(50))) | "
            + "\(format(scenario.total.percentile(50))) | \(format(p99)) | \(format(p99 / target, 3))× |"
    )
}
print()
print(
    "| insert (batches of \(options.batch), one transaction each) | samples | wall s | samples/s (wall) "
        + "| vs 20,000/s target | CPU s | samples per CPU-second |"
)
print("|---|---:|---:|---:|---:|---:|---:|")
for (name, count, time, cpu) in [
    ("interleaved over \(options.tasks) tasks (the database queried above)", stored, fillSeconds, fillCPU),
    ("interleaved over 10 tasks (fresh file)", fewStored, fewSeconds, fewCPU),
] {
    let rate = Double(count) / time
    print(
        "| \(name) | \(count.formatted()) | \(format(time, 1)) | \(Int(rate).formatted()) | "
            + "\(format(rate / 20_000, 1))× | \(format(cpu, 1)) | \(Int(Double(count) / cpu).formatted()) |"
    )
}
print()
print(
    "Database file + WAL after the fill: \(format(Double(fileBytes) / 1_048_576, 0)) MiB (\(fileBytes / max(stored, 1)) bytes/sample)."
)
print()
print("| retention pass | samples removed | wall time |")
print("|---|---:|---:|")
print("| default policy (cap 100,000, 7 days): nothing to drop | \(keptAll) | \(format(scanSeconds * 1000, 0)) ms |")
print(
    "| cap \(cap) per task: oldest 10 % of every task | \(dropped.formatted()) | \(format(dropSeconds * 1000, 0)) ms |"
)
