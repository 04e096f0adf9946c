import Foundation
import PropellerCore
import PropellerTestSupport
import Testing
import WAT

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Several `propeller manager` processes on one PostgreSQL database behind one broker (SPEC §1
/// "Scale-out"): real PostgreSQL, real Mosquitto, real managers and proplets.
@Suite("Several managers on PostgreSQL", .timeLimit(.minutes(5)))
struct MultiManagerTests {
    /// A WASI daemon that sleeps in 1 s steps until stopped (monitored without burning the 2 cores).
    static let sleeper = """
        (module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (loop $forever
              (i64.store (i32.const 64) (i64.const 0))
              (i32.store8 (i32.const 72) (i32.const 0))
              (i32.store (i32.const 80) (i32.const 1))
              (i64.store (i32.const 88) (i64.const 1000000000))
              (i64.store (i32.const 96) (i64.const 0))
              (i32.store16 (i32.const 104) (i32.const 0))
              (drop (call $poll (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 160)))
              (br $forever))))
        """

    private static func request(_ method: String, _ url: String, body: String? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// An API response body decoded as its `PropellerCore` type.
    private func decoded<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try WireCoding.decode(type, from: data)
    }

    private func eventually(_ what: String, within seconds: Int, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("timed out after \(seconds) s waiting for: \(what)")
    }

    /// The value of the first series of `family` whose labels contain `label` on one manager.
    private func counter(_ base: String, _ family: String, _ label: String) async throws -> Double {
        let (_, data) = try await Self.request("GET", "\(base)/metrics")
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("\(family){") && $0.contains(label) }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// Two managers on one PostgreSQL and two proplets (heartbeats and task metrics every second, plus
    /// `propletEnvironment`) on one Mosquitto, all under `domain`, in a temporary directory; once every manager lists both proplets alive, `body` gets
    /// the managers, their base URLs and the proplets, which are terminated afterwards.
    private func withTwoManagers(
        domain: String,
        propletEnvironment: [String: String],
        _ body: (_ managers: [ServiceProcess], _ bases: [String], _ proplets: [ServiceProcess]) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(domain)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withPostgres { database in
            try await withMosquitto { broker in
                let common = [
                    "PROPELLER_MQTT_URL": broker.url, "PROPELLER_DOMAIN_ID": domain, "PROPELLER_CHANNEL_ID": "c1",
                ]
                var managers: [ServiceProcess] = []
                var bases: [String] = []
                for _ in 0..<2 {
                    let port = try LoopbackPort.free()
                    bases.append("http://127.0.0.1:\(port)")
                    managers.append(
                        try await ServiceProcess(
                            ["manager"],
                            environment: common.merging([
                                "MANAGER_HTTP_PORT": String(port), "MANAGER_STORAGE": "postgres",
                                "MANAGER_DATABASE_URL": database.url,
                            ]) { _, new in new },
                            directory: directory
                        )
                    )
                }
                var proplets: [ServiceProcess] = []
                for index in 0..<2 {
                    proplets.append(
                        try await ServiceProcess(
                            ["proplet"],
                            environment: common.merging(
                                [
                                    "PROPLET_STATE_DIR": directory.appendingPathComponent("proplet-\(index)").path,
                                    "PROPLET_LIVELINESS_INTERVAL": "1", "PROPLET_METRICS_INTERVAL": "1",
                                ].merging(propletEnvironment) { _, extra in extra }
                            ) { _, new in new },
                            directory: directory
                        )
                    )
                }
                do {
                    for base in bases {
                        try await eventually("two live proplets on \(base)", within: 60) {
                            let page = try decoded(
                                PropletPage.self,
                                try await Self.request("GET", "\(base)/proplets").1
                            )
                            return page.proplets.filter(\.alive).count == 2
                        }
                    }
                    try await body(managers, bases, proplets)
                } catch {
                    for process in proplets + managers { await process.terminate() }
                    throw error
                }
                for process in proplets + managers { await process.terminate() }
            }
        }
    }

    @Test("two managers, two proplets: samples split, stored once, same answers; 100 starts run one")
    func twoManagers() async throws {
        if let reason = PostgresInstallation.missingReason { try Test.cancel(Comment(rawValue: reason)) }
        try await withTwoManagers(domain: "scale", propletEnvironment: [:]) { managers, bases, proplets in
            let file = Data(try wat2wasm(Self.sleeper)).base64EncodedString()
            let body = #"{"name":"_start","daemon":true,"monitoring_profile":"intensive","file":"\#(file)"}"#
            var ids: [String] = []
            for index in 0..<6 {
                let (status, data) = try await Self.request("POST", "\(bases[index % 2])/tasks", body: body)
                #expect(status == 201)
                ids.append(try decoded(WasmTask.self, data).id)
            }
            for (index, id) in ids.enumerated() {
                #expect(
                    try await Self.request("POST", "\(bases[(index + 1) % 2])/tasks/\(id)/start", body: "{}").0
                        == 200
                )
            }

            // 100 concurrent starts of one more task, half through each manager: exactly one runs.
            let (_, created) = try await Self.request("POST", "\(bases[0])/tasks", body: body)
            let contested = try decoded(WasmTask.self, created).id
            let targets = bases.map { "\($0)/tasks/\(contested)/start" }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<100 {
                    group.addTask { try await Self.request("POST", targets[index % 2], body: "{}").0 }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 409 }.count == 99, "\(statuses)")
            ids.append(contested)

            try await eventually("samples of every task", within: 60) {
                for id in ids {
                    let page = try decoded(
                        TaskMetricsPage.self,
                        try await Self.request("GET", "\(bases[0])/tasks/\(id)/metrics").1
                    )
                    guard page.total >= 3 else { return false }
                }
                return true
            }
            for id in ids {
                #expect(try await Self.request("POST", "\(bases[0])/tasks/\(id)/stop", body: "{}").0 == 200)
            }
            try await eventually("every task stopped", within: 60) {
                for id in ids {
                    let task = try decoded(
                        WasmTask.self,
                        try await Self.request("GET", "\(bases[1])/tasks/\(id)").1
                    )
                    guard task.state == .stopped else { return false }
                }
                return true
            }

            // The shared subscription split the work: each manager received a part of the samples,
            // together about as many as were stored (without it each would receive all of them).
            var received: [Double] = []
            for base in bases {
                received.append(
                    try await counter(base, "propeller_ingest_messages_received_total", "\"task_metrics\"")
                )
            }
            var storedTotal = 0.0
            for id in ids {
                let page = try decoded(
                    TaskMetricsPage.self,
                    try await Self.request("GET", "\(bases[0])/tasks/\(id)/metrics").1
                )
                storedTotal += Double(page.total)
            }
            #expect(received.allSatisfy { $0 > 0 }, "task samples received per manager: \(received)")
            #expect(received.reduce(0, +) < storedTotal * 1.5, "received \(received), stored \(storedTotal)")
            for id in ids {
                let first = try await Self.request("GET", "\(bases[0])/tasks/\(id)")
                let second = try await Self.request("GET", "\(bases[1])/tasks/\(id)")
                #expect(first.0 == 200 && first.1 == second.1, "GET /tasks/\(id) differs between managers")
                let metricsA = try await Self.request("GET", "\(bases[0])/tasks/\(id)/metrics?limit=1000")
                let metricsB = try await Self.request("GET", "\(bases[1])/tasks/\(id)/metrics?limit=1000")
                #expect(metricsA.1 == metricsB.1, "GET /tasks/\(id)/metrics differs between managers")
                let timestamps = try decoded(TaskMetricsPage.self, metricsA.1).metrics.map(\.timestamp)
                #expect(!timestamps.isEmpty)
                #expect(Set(timestamps).count == timestamps.count, "a sample of \(id) is stored twice")
            }
        }
    }

    @Test("SIGKILL of one manager mid-run: the other keeps ingesting; after 30 s 0 samples lost, no task failed")
    func managerKilled() async throws {
        if let reason = PostgresInstallation.missingReason { try Test.cancel(Comment(rawValue: reason)) }
        try await withTwoManagers(domain: "kill", propletEnvironment: ["PROPLET_ACK_TIMEOUT": "2"]) {
            managers,
            bases,
            proplets in
            let survivor = bases[1]
            func logs() -> String {
                (managers + proplets).map { "--- \($0.logURL.lastPathComponent) ---\n\($0.log.suffix(2500))" }
                    .joined(separator: "\n")
            }

            // Six intensive daemons (one sample a second each), three per proplet, created and started
            // through both managers.
            let file = Data(try wat2wasm(Self.sleeper)).base64EncodedString()
            let body = #"{"name":"_start","daemon":true,"monitoring_profile":"intensive","file":"\#(file)"}"#
            var ids: [String] = []
            for index in 0..<6 {
                let (status, data) = try await Self.request("POST", "\(bases[index % 2])/tasks", body: body)
                #expect(status == 201)
                let id = try decoded(WasmTask.self, data).id
                #expect(
                    try await Self.request("POST", "\(bases[index % 2])/tasks/\(id)/start", body: "{}").0 == 200
                )
                ids.append(id)
            }
            func samples(_ id: String) async throws -> TaskMetricsPage {
                try decoded(
                    TaskMetricsPage.self,
                    try await Self.request("GET", "\(survivor)/tasks/\(id)/metrics?limit=1000").1
                )
            }
            func storedTotal() async throws -> Int {
                var total = 0
                for id in ids { total += try await samples(id).total }
                return total
            }
            try await eventually("3 samples of every task", within: 60) {
                for id in ids where try await samples(id).total < 3 { return false }
                return true
            }
            // Both managers ingest before the kill (the shared subscription splits the messages).
            for base in bases {
                try await eventually("task samples received by \(base)", within: 30) {
                    try await counter(base, "propeller_ingest_messages_received_total", "\"task_metrics\"") > 0
                }
            }

            await managers[0].terminate(SIGKILL)
            let killedAt = Timestamp.now()
            let storedAtKill = try await storedTotal()

            // For 30 s: manager B answers, lists both proplets alive, every task stays running, and the
            // stored count grows; a task started through B after the kill runs and is sampled too.
            let (created, data) = try await Self.request("POST", "\(survivor)/tasks", body: body)
            #expect(created == 201)
            let late = try decoded(WasmTask.self, data).id
            #expect(try await Self.request("POST", "\(survivor)/tasks/\(late)/start", body: "{}").0 == 200)
            var notAlive: [String] = []
            var notRunning: [String] = []
            var growth: [Int] = []
            let observeUntil = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < observeUntil {
                let page = try decoded(PropletPage.self, try await Self.request("GET", "\(survivor)/proplets").1)
                for proplet in page.proplets where !proplet.alive {
                    notAlive.append("\(proplet.id) at \(Timestamp.now())")
                }
                for id in ids + [late] {
                    let task = try decoded(
                        WasmTask.self,
                        try await Self.request("GET", "\(survivor)/tasks/\(id)").1
                    )
                    if task.state != .running { notRunning.append("\(id): \(task.state) \(task.error ?? "")") }
                }
                growth.append(try await storedTotal())
                try await Task.sleep(for: .seconds(1))
            }
            let observedUntil = Timestamp.now()
            #expect(notRunning.isEmpty, "tasks not running after the kill: \(notRunning)\n\(logs())")
            #expect(notAlive.isEmpty, "proplets listed not alive after the kill: \(notAlive)\n\(logs())")
            // 6 tasks × 30 s ≈ 180 samples; at least half of them stored during the 30 s.
            #expect((growth.last ?? 0) - storedAtKill >= 90, "stored \(storedAtKill) at the kill, then \(growth)")
            #expect(try await samples(late).total >= 10, "the task started after the kill is sampled")

            // 0 lost: every second of every task's life up to the end of the 30 s has its sample, once
            // (what manager A had received but not committed is resent by the proplets and stored by B).
            var coverage: [String: String] = [:]
            do {
                try await eventually("every second of every task stored through the 30 s", within: 30) {
                    coverage = [:]
                    for id in ids {
                        let page = try await samples(id)
                        let times = page.metrics.map(\.timestamp)
                        let seconds = times.map { Double($0.microsecondsSinceEpoch) / 1e6 }
                        let gaps = zip(seconds.dropFirst(), seconds).map { $0 - $1 }
                        let last = times.last ?? killedAt
                        if (gaps.max() ?? 99) >= 1.8 || last < observedUntil {
                            coverage[id] = "\(times.count) samples, largest gap \(gaps.max() ?? 0) s, last \(last)"
                        }
                    }
                    return coverage.isEmpty
                }
            } catch {
                Issue.record("samples missing: \(coverage)\n\(logs())")
            }
            var lost = 0.0
            for id in ids {
                let page = try await samples(id)
                let times = page.metrics.map(\.timestamp)
                #expect(Set(times).count == times.count, "a sample of \(id) is stored twice")
                #expect(page.total == times.count)
                #expect(
                    times.first.map { $0 < killedAt.adding(seconds: -1) } == true,
                    "\(id) sampled before the kill"
                )
            }
            for proplet in try decoded(PropletPage.self, try await Self.request("GET", "\(survivor)/proplets").1)
                .proplets
            {
                lost += try await counter(survivor, "propeller_samples_lost_total", proplet.id)
            }
            #expect(lost == 0, "seqs counted lost by manager B: \(lost)")
            for id in ids + [late] {
                #expect(
                    try decoded(WasmTask.self, try await Self.request("GET", "\(survivor)/tasks/\(id)").1).state
                        == .running
                )
                #expect(try await Self.request("POST", "\(survivor)/tasks/\(id)/stop", body: "{}").0 == 200)
            }
            try await eventually("every task stopped", within: 60) {
                for id in ids + [late] {
                    let task = try decoded(
                        WasmTask.self,
                        try await Self.request("GET", "\(survivor)/tasks/\(id)").1
                    )
                    guard task.state == .stopped else { return false }
                }
                return true
            }
        }
    }

    @Test("PostgreSQL stopped for 5 s mid-run: no sample lost, only documented 503s, both managers recover")
    func databaseRestart() async throws {
        if let reason = PostgresInstallation.missingReason { try Test.cancel(Comment(rawValue: reason)) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withPostgres { database in
            try await withMosquitto { broker in
                let common = [
                    "PROPELLER_MQTT_URL": broker.url, "PROPELLER_DOMAIN_ID": "restart", "PROPELLER_CHANNEL_ID": "c1",
                ]
                var bases: [String] = []
                var processes: [ServiceProcess] = []
                for _ in 0..<2 {
                    let port = try LoopbackPort.free()
                    bases.append("http://127.0.0.1:\(port)")
                    processes.append(
                        try await ServiceProcess(
                            ["manager"],
                            environment: common.merging([
                                "MANAGER_HTTP_PORT": String(port), "MANAGER_STORAGE": "postgres",
                                "MANAGER_DATABASE_URL": database.url, "MANAGER_DATABASE_TIMEOUT": "2",
                            ]) { _, new in new },
                            directory: directory
                        )
                    )
                }
                processes.append(
                    try await ServiceProcess(
                        ["proplet"],
                        environment: common.merging([
                            "PROPLET_STATE_DIR": directory.appendingPathComponent("proplet").path,
                            "PROPLET_LIVELINESS_INTERVAL": "1", "PROPLET_METRICS_INTERVAL": "1",
                        ]) { _, new in new },
                        directory: directory
                    )
                )
                defer { _ = processes }
                try await eventually("a live proplet", within: 60) {
                    let page = try decoded(PropletPage.self, try await Self.request("GET", "\(bases[1])/proplets").1)
                    return page.proplets.first?.alive == true
                }
                let file = Data(try wat2wasm(Self.sleeper)).base64EncodedString()
                let body = #"{"name":"_start","daemon":true,"monitoring_profile":"intensive","file":"\#(file)"}"#
                var ids: [String] = []
                for index in 0..<3 {
                    let (_, data) = try await Self.request("POST", "\(bases[index % 2])/tasks", body: body)
                    let id = try decoded(WasmTask.self, data).id
                    #expect(
                        try await Self.request("POST", "\(bases[index % 2])/tasks/\(id)/start", body: "{}").0 == 200
                    )
                    ids.append(id)
                }
                try await Task.sleep(for: .seconds(3))

                await database.stop()
                var statuses: [Int] = []
                let outage = ContinuousClock.now
                while ContinuousClock.now - outage < .seconds(5) {
                    for base in bases {
                        statuses.append(try await Self.request("GET", "\(base)/tasks/\(ids[0])").0)
                        statuses.append(try await Self.request("GET", "\(base)/tasks").0)
                    }
                    try await Task.sleep(for: .milliseconds(500))
                }
                try await database.start()
                #expect(
                    statuses.allSatisfy { $0 == 200 || $0 == 503 },
                    "answers while the database was down: \(statuses)"
                )
                #expect(statuses.contains(503), "requests during the outage are answered 503")

                try await Task.sleep(for: .seconds(4))
                for id in ids {
                    #expect(try await Self.request("POST", "\(bases[0])/tasks/\(id)/stop", body: "{}").0 == 200)
                }
                try await eventually("every task stopped", within: 60) {
                    for id in ids {
                        let task = try decoded(
                            WasmTask.self,
                            try await Self.request("GET", "\(bases[1])/tasks/\(id)").1
                        )
                        guard task.state == .stopped else { return false }
                    }
                    return true
                }
                // One sample a second throughout: no gap where the database was down.
                for id in ids {
                    let page = try decoded(
                        TaskMetricsPage.self,
                        try await Self.request("GET", "\(bases[0])/tasks/\(id)/metrics?limit=1000").1
                    )
                    let seconds = page.metrics.map { Double($0.timestamp.microsecondsSinceEpoch) / 1e6 }
                    #expect(seconds.count >= 10, "task \(id) has \(seconds.count) samples")
                    let gaps = zip(seconds.dropFirst(), seconds).map { $0 - $1 }
                    #expect((gaps.max() ?? 0) < 2.5, "task \(id): samples missing (largest gap \(gaps.max() ?? 0) s)")
                }
                for process in processes { await process.terminate() }
            }
        }
    }
}
