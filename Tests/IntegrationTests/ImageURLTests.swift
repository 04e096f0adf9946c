import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

@Suite("Tasks from image_url through a real registry, manager and proplet", .timeLimit(.minutes(5)))
struct ImageURLTests {
    private func waitForEnd(_ stack: DevStack, _ id: String) async throws -> WasmTask {
        for _ in 0..<150 {
            let (_, body) = try await stack.request("GET", "/tasks/\(id)")
            let task = try body.decoded(as: WasmTask.self)
            if task.state.isFinished { return task }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("task \(id) did not finish")
    }

    @Test("propeller push, then tasks from the OCI reference run like file tasks; the second run uses the cache")
    func pushAndRun() async throws {
        try await withRegistry { registry in
            let reference = "\(registry.hostPort)/examples/add:v1"
            let pushed = try await runCommand(
                BinaryLocator.path(of: "propeller"),
                ["push", "Examples/add.wat", reference],
                directory: repositoryRoot
            )
            #expect(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")
            try await withDevStack { stack in
                for run in 1...2 {
                    let (created, task) = try await stack.request(
                        "POST",
                        "/tasks",
                        body: #"{"name":"add","image_url":"\#(reference)","inputs":[40,2]}"#
                    )
                    #expect(created == 201)
                    let id = try task.decoded(as: WasmTask.self).id
                    let (started, _) = try await stack.request("POST", "/tasks/\(id)/start", body: "{}")
                    #expect(started == 200)
                    let done = try await waitForEnd(stack, id)
                    #expect(done.state == .completed, "run \(run): \(done)")
                    #expect(done.results == "42")
                    let (_, samples) = try await stack.request("GET", "/tasks/\(id)/metrics")
                    #expect(try samples.decoded(as: TaskMetricsPage.self).metrics.isEmpty == false, "run \(run) has its final sample")
                }
                #expect(registry.blobGETs(repository: "examples/add") == 1, "the second run is served from the cache")

                let missing = "\(registry.hostPort)/examples/nothing:v1"
                let (_, task) = try await stack.request(
                    "POST",
                    "/tasks",
                    body: #"{"name":"add","image_url":"\#(missing)","inputs":[1,2]}"#
                )
                let id = try task.decoded(as: WasmTask.self).id
                _ = try await stack.request("POST", "/tasks/\(id)/start", body: "{}")
                let failed = try await waitForEnd(stack, id)
                #expect(failed.state == .failed)
                #expect(failed.error?.contains("examples/nothing") == true, "\(failed)")
            }
        }
    }
}
