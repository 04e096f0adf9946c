import ArgumentParser
import Foundation
import PropellerCore

#if canImport(Glibc)
import Glibc
#endif

/// `propeller top`: every running task live, like `docker stats` — CPU, memory, disk rates, threads,
/// fds and uptime, sorted by CPU or memory, in human units, never wider than the terminal.
///
/// Keys (on a terminal): `c` sorts by CPU, `m` by memory, `n` by name, `q` quits (Ctrl-C too).
/// Disk rates are the difference of the two newest cumulative samples over their time apart.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Live table of every running task (CPU, memory, disk rates), like docker stats."
    )

    enum SortKey: String, ExpressibleByArgument, CaseIterable {
        case cpu, memory, name
    }

    @OptionGroup var manager: ManagerOptions
    @Option(help: "Sort by cpu, memory or name.")
    var sort = SortKey.cpu
    @Option(help: "Seconds between refreshes.")
    var interval = 2
    @Option(help: "Stop after this many refreshes (default: until q or Ctrl-C).")
    var count: Int?

    func run() async throws {
        try await CLIRunner.run {
            guard (1...3600).contains(interval) else {
                throw CLIError(
                    description: "--interval must be a whole number of seconds from 1 to 3600, got \(interval)"
                )
            }
            let client = try manager.client()
            let terminal = TerminalMode.enterIfInteractive()
            defer { terminal?.restore() }
            let signals = ShutdownSignals()
            var sortKey = sort
            var refreshes = 0
            while count.map({ refreshes < $0 }) ?? true {
                let rows = try await TopRow.fetchAll(client)
                let size = TerminalMode.size()
                let screen = TopScreen(rows: rows, sort: sortKey, width: size.columns, height: size.rows)
                let clear = terminal == nil ? "" : "\u{1B}[H\u{1B}[2J"
                FileHandle.standardOutput.write(Data((clear + screen.render()).utf8))
                refreshes += 1
                if count.map({ refreshes >= $0 }) ?? false { break }
                let deadline = ContinuousClock.now + .seconds(interval)
                var quit = false
                while ContinuousClock.now < deadline && !quit {
                    if signals.received { quit = true }
                    switch terminal?.readKey() {
                    case "q"?: quit = true
                    case "c"?: sortKey = .cpu
                    case "m"?: sortKey = .memory
                    case "n"?: sortKey = .name
                    default: break
                    }
                    if sortKey != screen.sort { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                if quit { break }
            }
        }
    }
}

/// One running task as `top` shows it.
struct TopRow {
    var id: String
    var name: String
    var propletID: String
    var cpu: Double?
    var memory: Double?
    var readRate: Double?
    var writeRate: Double?
    var threads: Int?
    var fds: Int?
    var uptime: Int?

    /// Every running task with its two newest samples (one request for the list, one per task).
    static func fetchAll(_ client: ManagerAPIClient) async throws -> [TopRow] {
        let page = try await client.fetch(TaskPage.self, "GET", "tasks", query: ["state": "running", "limit": "1000"])
        var rows: [TopRow] = []
        for task in page.tasks {
            let samples =
                (try? await client.fetch(
                    TaskMetricsPage.self,
                    "GET",
                    "tasks/\(task.id)/metrics",
                    query: ["order": "desc", "limit": "2"]
                ))?.metrics ?? []
            rows.append(TopRow(task: task, samples: samples))
        }
        return rows
    }

    /// A row from a task and its newest samples, newest first.
    init(task: WasmTask, samples: [TaskSample]) {
        id = task.id
        name = task.name
        propletID = task.propletID ?? "-"
        let latest = samples.first?.metrics
        cpu = latest?.cpuPercent
        memory = latest?.memoryBytes.map(Double.init)
        threads = latest?.threadCount.map { Int($0) }
        fds = latest?.fileDescriptorCount.map { Int($0) }
        uptime = latest?.uptimeSeconds.map { Int($0) }
        if samples.count >= 2, samples[0].timestamp > samples[1].timestamp {
            let seconds = samples[0].timestamp.secondsSinceEpoch - samples[1].timestamp.secondsSinceEpoch
            func rate(_ value: (ProcessMetrics) -> Int64?) -> Double? {
                guard let new = value(samples[0].metrics), let old = value(samples[1].metrics) else { return nil }
                return Double(max(0, new - old)) / seconds
            }
            readRate = rate(\.diskReadBytes)
            writeRate = rate(\.diskWriteBytes)
        }
    }

    init(id: String, name: String, propletID: String, cpu: Double?, memory: Double?) {
        self.id = id
        self.name = name
        self.propletID = propletID
        self.cpu = cpu
        self.memory = memory
    }
}

/// One frame of `top`, cut to the terminal: every line at most `width` columns, at most `height` lines.
struct TopScreen {
    var rows: [TopRow]
    var sort: TopCommand.SortKey
    var width: Int
    var height: Int

    func render() -> String {
        let sorted: [TopRow]
        switch sort {
        case .cpu: sorted = rows.sorted { ($0.cpu ?? -1, $1.id) > ($1.cpu ?? -1, $0.id) }
        case .memory: sorted = rows.sorted { ($0.memory ?? -1, $1.id) > ($1.memory ?? -1, $0.id) }
        case .name: sorted = rows.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
        }
        let wide = width >= 100
        let fixed: [(String, Int)] =
            [("CPU%", 6), ("MEM", 9), ("READ/s", 9), ("WRITE/s", 9), ("THR", 3), ("FDS", 4), ("UP", 6)]
        let idWidth = 8
        let propletWidth = wide ? 8 : 0
        let used = idWidth + (wide ? propletWidth + 1 : 0) + fixed.reduce(0) { $0 + $1.1 + 1 } + 1
        let nameWidth = max(4, min(32, width - used))
        var columns: [(String, Int, Bool)] = [("TASK", idWidth, false), ("NAME", nameWidth, false)]
        if wide { columns.append(("PROPLET", propletWidth, false)) }
        columns += fixed.map { ($0.0, $0.1, true) }
        func line(_ cells: [String]) -> String {
            zip(columns, cells).map { column, cell in
                let text = cell.count > column.1 ? String(cell.prefix(column.1 - 1)) + "…" : cell
                let pad = String(repeating: " ", count: max(0, column.1 - text.count))
                return column.2 ? pad + text : text + pad
            }.joined(separator: " ")
        }
        let totalCPU = rows.compactMap(\.cpu).reduce(0, +)
        let totalMemory = rows.compactMap(\.memory).reduce(0, +)
        let clock = String(Timestamp.now().rfc3339.dropFirst(11).prefix(8))
        var lines = [
            "propeller top  \(rows.count) running  cpu \(String(format: "%.1f", totalCPU))%  mem \(Table.bytes(totalMemory))  by \(sort.rawValue)  \(clock)Z",
            line(columns.map(\.0)),
        ]
        for row in sorted {
            var cells = [String(row.id.prefix(idWidth)), row.name]
            if wide { cells.append(String(row.propletID.prefix(propletWidth))) }
            cells += [
                row.cpu.map { String(format: "%.1f", $0) } ?? "-", Table.bytes(row.memory), rate(row.readRate),
                rate(row.writeRate), row.threads.map(String.init) ?? "-", row.fds.map(String.init) ?? "-",
                row.uptime.map(Self.duration) ?? "-",
            ]
            lines.append(line(cells))
        }
        if rows.isEmpty { lines.append("no running task") }
        let room = max(3, height - 1)
        if lines.count > room {
            let hidden = lines.count - room + 1
            lines = Array(lines.prefix(room - 1)) + ["… \(hidden) more (a taller terminal shows them)"]
        }
        lines.append("c cpu · m memory · n name · q quit")
        return lines.map { String($0.prefix(width)) }.joined(separator: "\n") + "\n"
    }

    private func rate(_ value: Double?) -> String {
        value.map { Table.bytes($0) } ?? "-"
    }

    static func duration(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        if seconds < 86400 { return "\(seconds / 3600)h\(seconds % 3600 / 60)m" }
        return "\(seconds / 86400)d\(seconds % 86400 / 3600)h"
    }
}

/// The terminal in "keys without Enter, no echo" mode while `top` runs; restored on exit.
final class TerminalMode {
    private var original = termios()

    /// Switches stdin to non-canonical, no-echo, non-blocking reads when stdin and stdout are terminals.
    static func enterIfInteractive() -> TerminalMode? {
        guard isatty(0) == 1, isatty(1) == 1 else { return nil }
        let mode = TerminalMode()
        guard tcgetattr(0, &mode.original) == 0 else { return nil }
        var raw = mode.original
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { bytes in
            bytes[Int(VMIN)] = 0
            bytes[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSANOW, &raw)
        FileHandle.standardOutput.write(Data("\u{1B}[?25l".utf8))
        return mode
    }

    /// One pressed key, or nil.
    func readKey() -> Character? {
        var byte: UInt8 = 0
        return Glibc.read(0, &byte, 1) == 1 ? Character(UnicodeScalar(byte)) : nil
    }

    func restore() {
        tcsetattr(0, TCSANOW, &original)
        FileHandle.standardOutput.write(Data("\u{1B}[?25h".utf8))
    }

    /// Columns and rows of the terminal on stdout; 80×24 when it is not one (or `COLUMNS`/`LINES`).
    static func size() -> (columns: Int, rows: Int) {
        var window = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &window) == 0, window.ws_col > 0, window.ws_row > 0 {
            return (Int(window.ws_col), Int(window.ws_row))
        }
        let environment = ProcessInfo.processInfo.environment
        return (Int(environment["COLUMNS"] ?? "") ?? 80, Int(environment["LINES"] ?? "") ?? 24)
    }
}
