import Foundation
import PropellerCore
import PropellerTestSupport
import Testing
import WAT

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `propeller dev --managers 2 --storage postgres`: a local PostgreSQL (initdb into the dev data dir, run
/// as a non-root user when the tests run as root) and two managers on two HTTP ports sharing it.
@Suite("propeller dev with two managers on PostgreSQL", .timeLimit(.minutes(3)))
struct DevManagersTests {
    private func get(_ url: String) async throws -> (Int, Data) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test("two managers share one PostgreSQL: a task made on one is started on the other, both answer the same")
    func twoManagers() async throws {
        if let reason = PostgresInstallation.missingReason { try Test.cancel(Comment(rawValue: reason)) }
        let postgresPort = try LoopbackPort.free()
        let arguments = ["--managers", "2", "--storage", "postgres", "--postgres-port", String(postgresPort)]
        try await withDevStack(arguments: arguments) { stack in
            let first = stack.managerURL
            let port = try #require(URL(string: first)?.port)
            let second = "http://127.0.0.1:\(port + 1)"
            #expect(stack.log.contains("PostgreSQL    127.0.0.1:\(postgresPort)"), "\(stack.log)")
            #expect(stack.log.contains("manager API   \(second)"), "\(stack.log)")
            // The cluster lives in the dev data dir and belongs to a non-root user.
            let cluster = stack.dataDir.appendingPathComponent("postgres")
            #expect(FileManager.default.fileExists(atPath: cluster.appendingPathComponent("PG_VERSION").path))
            let owner = try FileManager.default.attributesOfItem(atPath: cluster.path)[.ownerAccountID] as? Int
            #expect(owner != 0)
            let health = try await get("\(second)/health")
            #expect(health.0 == 200 && String(decoding: health.1, as: UTF8.self).contains(#""status":"ok""#))

            let module = try Data(contentsOf: repositoryRoot.appendingPathComponent("Examples/add.wat"))
            let wasm = try wat2wasm(String(decoding: module, as: UTF8.self))
            let body = #"{"name":"add","inputs":[20,22],"file":"\#(Data(wasm).base64EncodedString())"}"#
            let (created, task) = try await stack.request("POST", "/tasks", body: body)
            #expect(created == 201)
            let id = try #require(task["id"]?.stringValue)
            var request = URLRequest(url: URL(string: "\(second)/tasks/\(id)/start")!)
            request.httpMethod = "POST"
            let (_, started) = try await URLSession.shared.data(for: request)
            #expect((started as? HTTPURLResponse)?.statusCode == 200)
            let deadline = ContinuousClock.now + .seconds(60)
            var state = ""
            while ContinuousClock.now < deadline {
                state = try await stack.request("GET", "/tasks/\(id)").1["state"]?.stringValue ?? ""
                if state == "completed" || state == "failed" { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(state == "completed", "\(stack.log)")
            let onFirst = try await get("\(first)/tasks/\(id)")
            let onSecond = try await get("\(second)/tasks/\(id)")
            #expect(onFirst.0 == 200 && onFirst.1 == onSecond.1)
            #expect(String(decoding: onSecond.1, as: UTF8.self).contains("42"))
        }
    }

    @Test("--managers 2 without --storage postgres fails at once, saying why")
    func managersNeedPostgres() async throws {
        let result = try await runCommand(
            BinaryLocator.path(of: "propeller"),
            ["dev", "--managers", "2", "--data-dir", FileManager.default.temporaryDirectory.path + "/p-\(UUID())"],
            directory: repositoryRoot,
            timeout: .seconds(30)
        )
        #expect(result.status != 0)
        #expect(result.stderr.contains("--managers 2 needs --storage postgres"), "\(result.stderr)")
        let storage = try await runCommand(
            BinaryLocator.path(of: "propeller"),
            ["dev", "--storage", "mysql", "--data-dir", FileManager.default.temporaryDirectory.path + "/p-\(UUID())"],
            directory: repositoryRoot,
            timeout: .seconds(30)
        )
        #expect(storage.status != 0 && storage.stderr.contains("--storage must be sqlite or postgres"))
    }
}
