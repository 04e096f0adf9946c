import ArgumentParser
import Foundation
import PropellerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `propeller dev`: the whole local stack — a Mosquitto broker, the manager and one proplet — with one
/// set of settings, stopped cleanly on Ctrl-C.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a local broker, manager and proplet together (Ctrl-C stops everything)."
    )

    @Option(help: "Use this existing broker instead of starting Mosquitto.")
    var mqttURL: String?
    @Option(help: "Port for the Mosquitto broker this command starts (a free port is used if it is taken).")
    var mqttPort = 1883
    @Option(help: "Port of the manager's REST API.")
    var httpPort = 7070
    @Option(help: "Directory for the database, the proplet's state and the logs.")
    var dataDir = ".propeller"
    @Flag(help: "Also create and start an example task with the intensive profile and print its samples.")
    var demo = false
    @Option(help: "The module of the demo task.")
    var demoModule = "Examples/demo.wat"
    @Option(
        help: "How many managers to run (on --http-port, --http-port + 1, …); more than one needs --storage postgres."
    )
    var managers = 1
    @Option(help: "The managers' store: sqlite (one file in --data-dir) or postgres (shared; see --postgres-port).")
    var storage = "sqlite"
    @Option(help: "Port for the PostgreSQL server this command starts with --storage postgres.")
    var postgresPort = 5432
    @Option(
        help: "Use this existing PostgreSQL (MANAGER_DATABASE_URL) instead of starting one; implies --storage postgres."
    )
    var databaseURL: String?
    @Flag(
        help: """
            Also start a local OCI registry (Debian's docker-registry) for `propeller push` and image_url; the \
            proplet then fetches from it (PROPLET_REGISTRY_URL, PROPLET_REGISTRY_ALLOW_PRIVATE=true).
            """
    )
    var registry = false
    @Option(help: "Port of the registry --registry starts (on 127.0.0.1).")
    var registryPort = 5000

    func run() async throws {
        let stack = DevStack(dataDir: URL(fileURLWithPath: dataDir).standardizedFileURL)
        let signals = ShutdownSignals()
        do {
            let brokerURL: String
            if let mqttURL {
                brokerURL = mqttURL
            } else {
                brokerURL = try await stack.startBroker(preferredPort: mqttPort)
            }
            let managerURL = "http://127.0.0.1:\(httpPort)"
            let managerLines = try await startManagers(stack, brokerURL: brokerURL, signals: signals)
            let client = try ManagerAPIClient(baseURL: managerURL)
            // The proplet starts once the manager is subscribed: its registration is then received at
            // once, instead of at its first heartbeat (PROPLET_LIVELINESS_INTERVAL, 10 s by default).
            try await stack.waitForManager(client, signals: signals)
            let registryHost = registry ? try await stack.startRegistry(port: registryPort) : nil
            try await stack.startProplet(brokerURL: brokerURL, registry: registryHost)
            let managerClients = try (0..<max(1, managers)).map {
                try ManagerAPIClient(baseURL: "http://127.0.0.1:\(httpPort + $0)")
            }
            try await stack.waitForProplet(managerClients, signals: signals)
            let registryLine = registryHost.map { "\n  OCI registry  \($0) (log: \(stack.logPath("registry")))" } ?? ""
            let brokerDirectory = stack.dataDir.appendingPathComponent("broker").path
            let brokerNote =
                mqttURL != nil
                ? ""
                : """
                  (log: \(stack.logPath("mosquitto")))
                  broker auth   \(brokerDirectory) (passwords, ACL; anonymous clients only read metrics/#)
                """
            say(
                """
                propeller dev is running
                  MQTT broker   \(brokerURL)\(brokerNote)
                \(managerLines)\(registryLine)
                  proplet       log: \(stack.logPath("proplet"))
                  metrics       mosquitto_sub -h 127.0.0.1 -p \(URL(string: brokerURL)?.port ?? 1883) -t 'm/+/c/+/metrics/#' -v
                Press Ctrl-C to stop.
                """
            )
            if demo {
                try await DemoTask(client: client, modulePath: demoModule).run(until: signals)
            } else {
                await signals.wait()
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            await stack.stopAll()
            throw ExitCode.failure
        }
        say("\nstopping…")
        await stack.stopAll()
        say("stopped")
    }
}

/// Catches SIGINT and SIGTERM (Ctrl-C) instead of dying, so the children can be stopped first.
final class ShutdownSignals: Sendable {
    private let sources: Mutex<[any DispatchSourceSignal]>
    private let flag: Atomic<Bool>

    init() {
        let flag = Atomic<Bool>(false)
        var sources: [any DispatchSourceSignal] = []
        self.flag = flag
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            sources.append(source)
        }
        self.sources = Mutex(sources)
        self.sources.withLock { list in
            for source in list {
                source.setEventHandler { [weak self] in self?.flag.store(true, ordering: .releasing) }
                source.resume()
            }
        }
    }

    /// Whether a signal has arrived.
    var received: Bool { flag.load(ordering: .acquiring) }

    /// Suspends until a signal arrives.
    func wait() async {
        while !received { try? await Task.sleep(for: .milliseconds(100)) }
    }

    /// Suspends until a signal arrives or the duration passes; true when a signal arrived.
    func wait(for duration: Duration) async -> Bool {
        let deadline = ContinuousClock.now + duration
        while !received && ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
        return received
    }
}

/// Writes a line to stdout at once (unbuffered), so output redirected to a file or a pipe shows up as
/// it happens.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
