import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The live web page at `/` in a real headless Chromium (Debian `chromium`) against a running stack.
/// Screenshots are kept in `.build/test-artifacts/` (git-ignored) for a human to look at.
@Suite("Web page in headless Chromium", .serialized)
struct WebPageTests {
    static let chromium = "/usr/bin/chromium"

    @Test("the overview lists the running demo task; its task page's charts grow while the daemon runs")
    func pageRendersAndUpdates() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "Debian's chromium is not installed")
        try await withDevStack { stack in
            let id = try await startDemoTask(stack)
            _ = try await waitForSamples(stack, id, count: 2)

            let page = try await managerText(stack, "/")
            #expect(page.contains("<script src=\"/ui/app.js\">") && !page.contains("http://") && !page.contains("https://"))
            for file in ["app.js", "charts.js", "app.css"] {
                let text = try await managerText(stack, "/ui/\(file)")
                #expect(!text.contains("http://") && !text.contains("https://"), "\(file) fetches nothing from outside")
            }

            let overview = try await dumpDOM(stack.managerURL + "/", wait: 6)
            #expect(overview.contains(#"data-view="overview""#), "\(overview.prefix(2000))")
            #expect(overview.contains(#"data-task-id="\#(id)" data-state="running""#), "\(overview.prefix(4000))")
            #expect(overview.contains("dev-proplet"), "the proplet is listed")
            #expect(overview.contains(#"data-chart="compare-cpu" data-bars="1""#), "per-task comparison bars")

            let before = try await storedSampleCount(stack, id)
            let taskPage = try await dumpDOM(stack.managerURL + "/#/tasks/\(id)", wait: 8)
            let events = Self.attribute("data-stream-events", in: taskPage).flatMap { Int($0) } ?? 0
            #expect(events >= 3, "samples arrived over the event stream while the page was open: \(events)")
            let points = Self.attribute("data-points", in: taskPage).flatMap { Int($0) } ?? 0
            #expect(points >= before + 3, "the CPU chart grew from \(before) stored samples to \(points) points")
            for chart in ["cpu", "memory", "disk", "gauge"] {
                #expect(taskPage.contains(#"data-chart="\#(chart)""#), "chart \(chart) is drawn")
            }
            try await screenshot(stack.managerURL + "/#/tasks/\(id)", name: "task-page.png")
            try await screenshot(stack.managerURL + "/", name: "overview.png")
        }
    }

    /// The first value of an attribute in the DOM text.
    static func attribute(_ name: String, in dom: String) -> String? {
        guard let range = dom.range(of: "\(name)=\"") else { return nil }
        return String(dom[range.upperBound...].prefix { $0 != "\"" })
    }

    private func storedSampleCount(_ stack: DevStack, _ id: String) async throws -> Int {
        let (_, page) = try await stack.request("GET", "/tasks/\(id)/metrics?limit=1")
        return page["total"].flatMap { Int($0.description) } ?? 0
    }

    /// Loads a URL in headless Chromium, lets the page run for `wait` seconds, prints the DOM.
    func dumpDOM(_ url: String, wait seconds: Int) async throws -> String {
        let result = try await runCommand(
            Self.chromium,
            Self.flags + ["--timeout=\(seconds * 1000)", "--dump-dom", url],
            timeout: .seconds(seconds + 60)
        )
        guard !result.stdout.isEmpty else { throw HarnessError("chromium printed no DOM: \(result.stderr)") }
        return result.stdout
    }

    func screenshot(_ url: String, name: String) async throws {
        let directory = repositoryRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: file)
        _ = try await runCommand(
            Self.chromium,
            Self.flags + ["--timeout=5000", "--window-size=1280,900", "--screenshot=\(file.path)", url],
            timeout: .seconds(60)
        )
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        #expect(size > 10_000, "screenshot \(file.path) written (\(size) bytes)")
    }

    static let flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-extensions", "--disable-background-networking", "--user-data-dir=/tmp/propeller-chromium-\(getpid())",
    ]
}
