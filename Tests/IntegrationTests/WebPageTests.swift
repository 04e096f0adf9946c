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

    @Test(
        "with API tokens on, the overview lists the running demo task; its task page's charts grow while the daemon runs"
    )
    func pageRendersAndUpdates() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "Debian's chromium is not installed")
        let token = "web-page-test-token-\(UUID().uuidString)"
        try await withDevStack(apiToken: token) { stack in
            let id = try await startDemoTask(stack)
            let propletID = try await waitForSamples(stack, id, count: 2)

            let page = try await managerText(stack, "/")
            #expect(
                page.contains("<script src=\"/ui/app.js\">") && !page.contains("http://") && !page.contains("https://")
            )
            for file in ["app.js", "charts.js", "app.css"] {
                let text = try await managerText(stack, "/ui/\(file)")
                #expect(!text.contains("http://") && !text.contains("https://"), "\(file) fetches nothing from outside")
            }

            // Without the token the page loads but asks for one instead of showing data.
            let locked = try await inspect(
                stack.managerURL + "/",
                seconds: 2,
                screenshot: "token-needed.png",
                [
                    "asks": "!document.getElementById('token-form').hidden",
                    "rows": "document.querySelectorAll('tr[data-task-id]').length",
                ]
            )
            #expect(locked["asks"] == .bool(true), "the page asks for the API token: \(locked)")
            #expect(locked["rows"] == .integer(0), "no task is shown without the token: \(locked)")

            // The token in the address (moved into sessionStorage by the page), as docs/operations.md says.
            let overview = try await inspect(
                stack.managerURL + "/#token=\(token)",
                seconds: 4,
                screenshot: "overview.png",
                [
                    "view": "document.getElementById('view').dataset.view",
                    "state": "(document.querySelector('tr[data-task-id=\"\(id)\"]') || {dataset: {}}).dataset.state",
                    "proplet": "!!document.querySelector('tr[data-proplet-id=\"\(propletID)\"]')",
                    "bars": "(document.querySelector('[data-chart=compare-cpu]') || {dataset: {}}).dataset.bars",
                ]
            )
            #expect(overview["view"]?.stringValue == "overview", "\(overview)")
            #expect(overview["state"]?.stringValue == "running", "the running task is listed: \(overview)")
            #expect(overview["proplet"] == .bool(true), "the proplet is listed")
            #expect(overview["bars"]?.stringValue == "1", "per-task comparison bars: \(overview)")

            let taskPage = try await inspect(
                stack.managerURL + "/#/tasks/\(id)&token=\(token)",
                seconds: 8,
                screenshot: "task-page.png",
                [
                    "events": "Number(document.getElementById('view').dataset.streamEvents || 0)",
                    "points":
                        "Number((document.querySelector('[data-chart=cpu]') || {dataset: {}}).dataset.points || 0)",
                    "charts": "[...document.querySelectorAll('[data-chart]')].map(e => e.dataset.chart).join(',')",
                ]
            )
            let events = taskPage["events"].flatMap { Double($0.description) } ?? 0
            #expect(events >= 3, "samples arrived over the event stream while the page was open: \(taskPage)")
            let series = taskPage["points@t"]?.elements.compactMap { Double($0.description) } ?? []
            #expect((series.last ?? 0) > (series.first ?? 0), "the CPU chart grew while the page was open: \(series)")
            for chart in ["cpu", "memory", "disk", "gauge"] {
                #expect(taskPage["charts"]?.stringValue?.contains(chart) == true, "chart \(chart) drawn: \(taskPage)")
            }
        }
    }

    /// Runs `Tests/web/page_check.py`: opens the URL in headless Chromium (DevTools protocol), samples the
    /// expressions every second for `seconds`, saves a screenshot under `.build/test-artifacts/`.
    func inspect(
        _ url: String,
        seconds: Int,
        screenshot: String,
        _ expressions: [String: String]
    ) async throws
        -> JSONValue
    {
        let python = try #require(
            ProcessInfo.processInfo.environment["PROPELLER_PYTHON"],
            "PROPELLER_PYTHON is not set"
        )
        let directory = repositoryRoot.appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let shot = directory.appendingPathComponent(screenshot)
        let script = repositoryRoot.appendingPathComponent("Tests/web/page_check.py").path
        let encoded = String(decoding: try JSONEncoder().encode(expressions), as: UTF8.self)
        let result = try await runCommand(
            python,
            [script, Self.chromium, url, String(seconds), shot.path, encoded],
            timeout: .seconds(seconds + 90)
        )
        guard result.status == 0, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))
        else { throw HarnessError("page_check failed (\(result.status)): \(result.stdout)\(result.stderr)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: shot.path)[.size] as? Int) ?? 0
        #expect(size > 10_000, "screenshot \(shot.path) written (\(size) bytes)")
        return value
    }
}
