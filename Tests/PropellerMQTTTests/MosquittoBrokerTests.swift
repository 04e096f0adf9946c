import PropellerLauncher
import PropellerTestSupport
import Synchronization
import Testing

@Suite("withMosquitto test broker")
struct MosquittoBrokerTests {
    @Test("the broker accepts connections while the body runs and is gone afterwards")
    func startsAndStops() async throws {
        let port = try await withMosquitto { broker in
            #expect(broker.url == "mqtt://127.0.0.1:\(broker.port)")
            #expect(LoopbackPort.acceptsConnections(broker.port))
            return broker.port
        }
        #expect(!LoopbackPort.acceptsConnections(port))
    }

    @Test("the broker is stopped even when the body throws")
    func stopsOnError() async throws {
        struct Expected: Error {}
        let port = Mutex(0)
        await #expect(throws: Expected.self) {
            try await withMosquitto { broker in
                port.withLock { $0 = broker.port }
                throw Expected()
            }
        }
        #expect(!LoopbackPort.acceptsConnections(port.withLock { $0 }))
    }

    @Test("stop and start restart the broker on the same port")
    func restartsOnSamePort() async throws {
        try await withMosquitto { broker in
            await broker.stop()
            #expect(!LoopbackPort.acceptsConnections(broker.port))
            try await broker.start()
            #expect(LoopbackPort.acceptsConnections(broker.port))
        }
    }

    @Test("a password file refuses a wrong password and accepts the right one")
    func passwordFile() async throws {
        try await withMosquitto(users: ["alice": "s3cret"]) { broker in
            let good = try await runSubscribeOnce(port: broker.port, user: "alice", password: "s3cret")
            let bad = try await runSubscribeOnce(port: broker.port, user: "alice", password: "wrong")
            #expect(good == 27)  // mosquitto_sub -W: connected, then timed out waiting for a message
            #expect(bad != 0 && bad != 27)
        }
    }

    /// Runs `mosquitto_sub -C 1 -W 1` and returns its exit status (27 = timed out after connecting).
    private func runSubscribeOnce(port: Int, user: String, password: String) async throws -> Int32? {
        let process = try await ProcessLauncher.launch(
            "/usr/bin/mosquitto_sub",
            arguments: [
                "-h", "127.0.0.1", "-p", "\(port)", "-u", user, "-P", password, "-t", "x", "-C", "1", "-W", "1",
            ]
        )
        return await process.waitForExit(timeout: .seconds(10))
    }
}
