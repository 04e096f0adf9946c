// Store benchmark, PostgreSQL next to SQLite: batched sample ingestion (samples/s and samples per CPU
// second, counting the database server's CPU too) and what `GET /tasks/{id}/metrics?limit=100` asks of
// the store (one page + the aggregate over all of the task's samples) with TASKS × SAMPLES samples.
//
// Usage: postgres-store-bench --url postgres://… --sqlite PATH [--server-uid UID] [--tasks 1000]
//        [--samples 1000] [--queries 300] [--batch 500]
// Prints a Markdown section on stdout. Benchmarks/postgres/run.sh starts the server and runs this.
import Foundation
import Logging
import PropellerCore
import PropellerManager
import PropellerMonitoring

struct Options {
    var url = ""
    var sqlite = ""
    var serverUID: UInt32?
    var tasks = 1000
    var samplesPerTask = 1000
    var queries = 300
    var batch = 500

    init(_ arguments: [String]) throws {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw UsageError("\(flag) needs a value") }
            switch flag {
            case "--url": url = value
            case "--sqlite": sqlite = value
            case "--server-uid": serverUID = UInt32(value)
            case "--tasks": tasks = try Self.positive(flag, value)
            case "--samples": samplesPerTask = try Self.positive(flag, value)
            case "--queries": queries = try Self.positive(flag, value)
            case "--batch": batch = try Self.positive(flag, value)
            default: throw UsageError("unknown option \(flag)")
            }
        }
        guard DatabaseURL(url) != nil else {
            throw UsageError("--url postgres://USER:PASSWORD@HOST:PORT/DB is required")
        }
        guard !sqlite.isEmpty else { throw UsageError("--sqlite PATH is required") }
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

let options: Options
do {
    options = try Options(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("postgres-store-bench: \(error)\n".utf8))
    exit(2)
}

let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
let clock = ContinuousClock()
let interval = 10.0
let start = Timestamp(microsecondsSinceEpoch: 1_736_935_200_000_000)
let taskIDs = (0..<options.tasks).map { String(format: "00000000-0000-4000-8000-%012d", $0) }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1000 }

func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

/// CPU seconds used so far by this process plus, with `--server-uid`, every process of that user (the
/// PostgreSQL server and its backends).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    var total =
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
        / 1e6
    guard let uid = options.serverUID else { return total }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
        guard let owner = try? FileManager.default.attributesOfItem(atPath: "/proc/\(entry)")[.ownerAccountID] as? Int,
            owner == uid,
            let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
            total += (user + system) / ticks
        }
    }
    return total
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

/// Stores every task's samples interleaved across tasks, in batches; returns (stored, wall s, CPU s).
func fill(_ store: any Store, tasks: [String], steps: Int) async throws -> (Int, Double, Double) {
    var pending: [TaskSample] = []
    var stored = 0
    let cpuBegan = cpuSeconds()
    let began = clock.now
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

/// p50 and p99 (ms) of page + aggregate (one `taskMetrics` call) for random tasks, over all time, after a warm-up.
func queries(_ store: any Store, range: @escaping () -> TimeRange) async throws -> (Double, Double) {
    var latencies: [Double] = []
    for pass in 0..<2 {
        for _ in 0..<(pass == 0 ? 50 : options.queries) {
            let taskID = taskIDs.randomElement()!
            let chosen = range()
            let began = clock.now
            // What `GET /tasks/{id}/metrics?limit=100` asks of the store (`TaskService.samples`).
            _ = try await store.taskMetrics(taskID: taskID, range: chosen, order: .ascending, page: Page(limit: 100))
            if pass == 1 { latencies.append(milliseconds(clock.now - began)) }
        }
    }
    latencies.sort()
    return (
        SampleStatistics.percentile(50, ofSorted: latencies) ?? .nan,
        SampleStatistics.percentile(99, ofSorted: latencies) ?? .nan
    )
}

struct Row {
    var store: String
    var stored: Int
    var wall: Double
    var cpu: Double
    var allTime: (Double, Double)
    var hour: (Double, Double)
}

let span = Double(options.samplesPerTask) * interval
func oneHour() -> TimeRange {
    let from = start.adding(seconds: Double.random(in: 0...max(span - 3600, 0)))
    return TimeRange(from: from, to: from.adding(seconds: 3600))
}

func measure(_ name: String, _ store: any Store) async throws -> Row {
    let (stored, wall, cpu) = try await fill(store, tasks: taskIDs, steps: options.samplesPerTask)
    // What autovacuum does shortly after a fill in a running deployment (index-only scans need it).
    try await (store as? PostgresStore)?.vacuumSamples()
    return Row(
        store: name,
        stored: stored,
        wall: wall,
        cpu: cpu,
        allTime: try await queries(store) { .all },
        hour: try await queries(store, range: oneHour)
    )
}

var rows: [Row] = []
let sqlite = try SQLiteStore(path: options.sqlite, logger: quiet)
rows.append(try await measure("SQLite (WAL, synchronous=NORMAL)", sqlite))
try sqlite.close()
let url = DatabaseURL(options.url)!
rows.append(
    try await PostgresStore.withStore(url: url, logger: quiet) { store in
        try await measure("PostgreSQL 15 (fsync on, synchronous_commit on)", store)
    }
)

let loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first ?? "?"
print("## Store ingestion and query latency: PostgreSQL next to SQLite")
print()
print(
    "Command: `Benchmarks/postgres/run.sh` (release build; `postgres-store-bench --tasks \(options.tasks) "
        + "--samples \(options.samplesPerTask) --queries \(options.queries) --batch \(options.batch)`): "
        + "\((options.tasks * options.samplesPerTask).formatted()) samples over \(options.tasks) tasks, "
        + "interleaved as ingestion writes them, in batches of \(options.batch) (one transaction each); then "
        + "\(options.queries) random `GET /tasks/{id}/metrics?limit=100` store calls (page + aggregate over all "
        + "of the task's samples). PostgreSQL runs on this machine over loopback TCP; its CPU is counted in "
        + "\"samples per CPU-second\". Queries on PostgreSQL run after a `VACUUM ANALYZE` (what autovacuum "
        + "does shortly after a fill). 1-minute load average at the end: \(loadAverage)."
)
print()
print(
    "| store | samples | wall s | samples/s | vs 20,000/s target | CPU s (client + server) | samples per CPU-second "
        + "| query p50 ms | query p99 ms | 1-hour range p99 ms | p99 vs 10 ms target |"
)
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for row in rows {
    let rate = Double(row.stored) / row.wall
    print(
        "| \(row.store) | \(row.stored.formatted()) | \(format(row.wall, 1)) | \(Int(rate).formatted()) | "
            + "\(format(rate / 20_000, 1))× | \(format(row.cpu, 1)) | \(Int(Double(row.stored) / row.cpu).formatted()) | "
            + "\(format(row.allTime.0)) | \(format(row.allTime.1)) | \(format(row.hour.1)) | "
            + "\(format(row.allTime.1 / 10, 3))× |"
    )
}
