import Foundation
import Hummingbird
import NIOCore
import PropellerCore

/// `/tasks`: create, list, read, delete, start, stop, results, module bytes and samples of tasks (SPEC §4).
struct TaskRoutes<Context: RequestContext> {
    let tasks: TaskService
    let maxBodyBytes: Int

    func register(on router: Router<Context>) {
        let group = router.group("tasks")
        group.post { request, _ in try await create(request) }
        group.get { request, _ in try await list(request) }
        group.get(":id") { request, context in
            let id = try context.parameters.require("id")
            _ = try QueryParameters(request, accepted: [])
            return try JSONBody.response(try await tasks.task(id: id))
        }
        group.delete(":id") { request, context in
            _ = try QueryParameters(request, accepted: [])
            try await tasks.delete(id: try context.parameters.require("id"))
            return Response(status: .noContent)
        }
        group.post(":id/start") { request, context in
            try await start(request, id: try context.parameters.require("id"))
        }
        group.post(":id/stop") { request, context in
            _ = try QueryParameters(request, accepted: [])
            return try JSONBody.response(try await tasks.stop(id: try context.parameters.require("id")))
        }
        group.get(":id/results") { request, context in
            _ = try QueryParameters(request, accepted: [])
            let task = try await tasks.task(id: try context.parameters.require("id"))
            return try JSONBody.response(
                ResultsBody(
                    taskID: task.id,
                    state: task.state,
                    results: task.results,
                    error: task.error,
                    exitCode: task.exitCode
                )
            )
        }
        group.get(":id/module") { request, context in
            _ = try QueryParameters(request, accepted: [])
            let bytes = try await tasks.module(id: try context.parameters.require("id"))
            return Response(
                status: .ok,
                headers: [.contentType: "application/wasm"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
        group.get(":id/metrics") { request, context in
            try await samples(request, id: try context.parameters.require("id"))
        }
    }

    private func create(_ request: Request) async throws -> Response {
        var request = request
        _ = try QueryParameters(request, accepted: [])
        let body = try await JSONBody.read(&request, limit: maxBodyBytes)
        let taskRequest: TaskRequest
        do {
            taskRequest = try TaskRequest(json: body ?? Data())
        } catch {
            throw ManagerError.badRequest(error.description)
        }
        let task = try await tasks.create(taskRequest)
        return try JSONBody.response(task, status: .created, headers: [.location: "/tasks/\(task.id)"])
    }

    private func list(_ request: Request) async throws -> Response {
        let query = try QueryParameters(request, accepted: ["offset", "limit", "state"])
        let page = try query.page()
        let state = try query.state()
        let result = try await tasks.list(state: state, page: page)
        return try JSONBody.response(
            TaskPageBody(offset: page.offset, limit: page.limit, total: result.total, tasks: result.items)
        )
    }

    private func start(_ request: Request, id: String) async throws -> Response {
        var request = request
        _ = try QueryParameters(request, accepted: [])
        var propletID: String?
        if let body = try await JSONBody.read(&request, limit: maxBodyBytes, allowEmpty: true) {
            propletID = try StartBody.propletID(from: body)
        }
        return try JSONBody.response(try await tasks.start(id: id, propletID: propletID))
    }

    private func samples(_ request: Request, id: String) async throws -> Response {
        let query = try QueryParameters(request, accepted: ["offset", "limit", "from", "to", "order"])
        let page = try query.page()
        let range = try query.range()
        let order = try query.order()
        let (task, result, aggregated) = try await tasks.samples(id: id, range: range, order: order, page: page)
        return try JSONBody.response(
            TaskSamplesBody(
                taskID: task.id,
                offset: page.offset,
                limit: page.limit,
                total: result.total,
                metrics: result.items,
                aggregated: aggregated
            )
        )
    }
}

/// The optional body of `POST /tasks/{id}/start`: `{"proplet_id": "…"}`.
enum StartBody {
    static func propletID(from data: Data) throws(ManagerError) -> String? {
        let value: JSONValue
        do {
            value = try WireCoding.decode(JSONValue.self, from: data)
        } catch {
            throw .badRequest(error.description)
        }
        guard case .object(let object) = value else {
            throw .badRequest("body must be a JSON object like {\"proplet_id\": \"…\"}, got \(value.description)")
        }
        for key in object.keys.sorted() where key != "proplet_id" {
            throw .badRequest("unknown key \"\(key.prefix(64))\"; accepted keys: proplet_id")
        }
        switch object["proplet_id"] {
        case nil, .null?: return nil
        case .string(let id)? where !id.isEmpty: return id
        case let other?: throw .badRequest("proplet_id must be a non-empty string, got \(other.description)")
        }
    }
}
