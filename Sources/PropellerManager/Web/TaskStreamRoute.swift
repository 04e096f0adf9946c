import Hummingbird
import NIOCore
import PropellerCore

/// `GET /tasks/{id}/metrics/stream`: Server-Sent Events (`text/event-stream`), one `message` event per
/// newly stored sample of the task (`id:` its timestamp, `data:` the sample JSON as in
/// `GET /tasks/{id}/metrics`), a `: keepalive` comment every 15 s, and a final `end` event
/// (`{"task_id": …, "state": …}`) when the task finishes. A task that is not running gets the `end`
/// event at once. Unknown task: 404.
struct TaskStreamRoute<Context: RequestContext> {
    let tasks: TaskService
    let feed: TaskSampleFeed

    func register(on router: Router<Context>) {
        router.get("tasks/:id/metrics/stream") { request, context in
            _ = try QueryParameters(request, accepted: [])
            let id = try context.parameters.require("id")
            // Subscribe before reading the state: a result applied in between still ends this stream.
            let events = feed.subscribe(taskID: id)
            let task = try await tasks.task(id: id)
            let running = task.state == .running || task.state == .pending
            let state = task.state
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/event-stream; charset=utf-8",
                    .cacheControl: "no-cache",
                    .init("X-Accel-Buffering")!: "no",
                ],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "retry: 2000\n: stream of task \(id)\n\n"))
                    if running {
                        for await event in events {
                            try await writer.write(ByteBuffer(string: try Self.text(of: event, taskID: id)))
                            if case .ended = event { break }
                        }
                    } else {
                        try await writer.write(ByteBuffer(string: try Self.text(of: .ended(state), taskID: id)))
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    /// One event in the SSE wire format.
    static func text(of event: TaskSampleFeed.Event, taskID: String) throws -> String {
        switch event {
        case .sample(let sample):
            let json = String(decoding: try WireCoding.encode(sample), as: UTF8.self)
            return "id: \(sample.timestamp.rfc3339)\ndata: \(json)\n\n"
        case .ended(let state):
            let json = String(decoding: try WireCoding.encode(StreamEnd(taskID: taskID, state: state)), as: UTF8.self)
            return "event: end\ndata: \(json)\n\n"
        case .keepalive:
            return ": keepalive\n\n"
        }
    }
}

/// Data of the stream's `end` event.
struct StreamEnd: Encodable {
    var taskID: String
    var state: TaskState

    enum CodingKeys: String, CodingKey {
        case taskID = "task_id"
        case state
    }
}
