import Foundation
import PropellerCore
import PropellerMQTT
import Testing

@testable import PropellerManager

/// SPEC §4 reconciliation through the manager's services (in-memory PubSub, manual time).
@Suite("Reconciliation and stop of processes that still run")
struct ReconciliationTests {
    func stops(_ manager: TestManager, propletID: String) -> [String] {
        manager.pubsub.publishedMessages.filter { $0.topic == manager.topics.topic(.managerStop, propletID: propletID) }
            .compactMap { try? WireCoding.decode(StopCommand.self, from: $0.payload).id }
    }

    @Test("a task failed as proplet lost can be stopped, and goes back to running when its proplet lists it")
    func lostTaskComesBack() async throws {
        let manager = TestManager { $0.propletTimeoutSeconds = 30 }
        let registry = manager.components.registry
        let tasks = manager.components.tasks
        try await registry.register(PropletRegistration(propletID: "p1", name: "p1", metadata: TestManager.metadata))
        let task = try await tasks.create(try TaskRequest(json: Data(taskBody(extra: #""daemon": true"#).utf8)))
        _ = try await tasks.start(id: task.id, propletID: "p1")
        manager.time.advance(seconds: 31)
        #expect(try await registry.sweep() == ["p1"])
        #expect(try await manager.store.task(id: task.id)?.error == WasmTask.propletLostError)

        // The process may still run: stop is sent, not refused.
        _ = try await tasks.stop(id: task.id)
        #expect(stops(manager, propletID: "p1") == [task.id])

        // The proplet returns and lists the task: running again, and the stop asked for is sent again.
        try await registry.heartbeat(
            PropletHeartbeat(propletID: "p1", status: .alive, runningTasks: 1, taskIDs: [task.id], timestamp: .now())
        )
        try await tasks.reconcile(propletID: "p1", taskIDs: [task.id])
        #expect(try await manager.store.task(id: task.id)?.state == .running)
        #expect(stops(manager, propletID: "p1") == [task.id, task.id])
    }

    @Test("a proplet that lists a deleted or moved task is told to stop it; a finished listed task is stoppable")
    func strays() async throws {
        let manager = TestManager()
        let tasks = manager.components.tasks
        try await manager.addProplet(id: "p1")
        let finished = try await tasks.create(try TaskRequest(json: Data(taskBody().utf8)))
        _ = try await tasks.start(id: finished.id, propletID: "p1")
        try await tasks.apply(
            TaskResult(taskID: finished.id, propletID: "p1", state: .completed, results: "4")
        )
        await #expect(throws: ManagerError.self) { _ = try await tasks.stop(id: finished.id) }
        let unknown = UUID().uuidString.lowercased()
        try await tasks.reconcile(propletID: "p1", taskIDs: [unknown, finished.id])
        #expect(stops(manager, propletID: "p1") == [unknown])
        // Its proplet still reports the finished task's process: stop reaches it.
        _ = try await tasks.stop(id: finished.id)
        #expect(stops(manager, propletID: "p1") == [unknown, finished.id])
    }
}
