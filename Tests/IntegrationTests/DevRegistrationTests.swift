import Foundation
import PropellerCore
import PropellerTestSupport
import Testing

/// Issue 11: `propeller dev` starts the proplet before the manager subscribes; the registration must
/// not be lost (the proplet registers on every connect and on the manager's hello).
@Suite("propeller dev: the proplet is registered at once", .timeLimit(.minutes(3)))
struct DevRegistrationTests {
    @Test("as soon as the proplet is alive it is listed with its name and metadata and accepts a task")
    func registeredAtStart() async throws {
        try await withDevStack { stack in
            // withDevStack returns once a proplet is alive; registration comes before the first heartbeat,
            // so within one heartbeat interval (10 s) it is registered — here it must be at most 2 s later.
            let deadline = ContinuousClock.now + .seconds(2)
            var proplet: Proplet?
            while ContinuousClock.now < deadline {
                let (_, page) = try await stack.request("GET", "/proplets")
                proplet = try page.decoded(as: PropletPage.self).proplets.first { $0.alive }
                if proplet?.metadata != nil { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let listed = try #require(proplet)
            #expect(listed.name == "dev-proplet")
            #expect(listed.metadata?.cpuCount ?? 0 > 0, "metadata missing:\n\(stack.log)")
            let (created, task) = try await stack.request(
                "POST",
                "/tasks",
                body:
                    #"{"name":"add","file":"\#(Data(try Fixtures.wasm("add")).base64EncodedString())","inputs":[1,2]}"#
            )
            #expect(created == 201)
            let id = try task.decoded(as: WasmTask.self).id
            let (started, _) = try await stack.request("POST", "/tasks/\(id)/start", body: "{}")
            #expect(started == 200, "\(stack.log)")
        }
    }
}
