import Foundation
import PropellerCore
import PropellerLauncher
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The child processes of `propeller dev`: started in order, stopped in reverse order.
final class DevStack: Sendable {
    let dataDir: URL
    private let children = Mutex<[(name: String, child: LaunchedProcess)]>([])
    /// The broker identities when this stack started the broker (nil with `--mqtt-url`).
    private let brokerAuth = Mutex<DevBrokerAuth?>(nil)

    init(dataDir: URL) {
        self.dataDir = dataDir
        try? FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
    }

    func logPath(_ name: String) -> String { dataDir.appendingPathComponent("\(name).log").path }

    /// Starts Mosquitto on 127.0.0.1 with authentication on (`DevBrokerAuth`: `propeller broker-config`'s
    /// files); returns its URL. The manager and the proplet started next connect with their identities.
    func startBroker(preferredPort: Int) async throws -> String {
        let port = preferredPort
        try Self.requireFree(port, option: "--mqtt-port (or --mqtt-url to use that broker)")
        say("starting Mosquitto on 127.0.0.1:\(port)…")
        let auth = try await DevBrokerAuth.prepare(dataDir: dataDir, port: port)
        brokerAuth.withLock { $0 = auth }
        let config = auth.configurationFile
        guard
            let mosquitto = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]
                .first(where: FileManager.default.isExecutableFile(atPath:))
        else {
            throw CLIError(description: "mosquitto is not installed (apt-get install mosquitto), or pass --mqtt-url")
        }
        try await spawn("mosquitto", executable: mosquitto, arguments: ["-c", config.path], environment: [:])
        let deadline = Date().addingTimeInterval(10)
        while !Self.canConnect(port: port) {
            guard Date() < deadline else {
                throw CLIError(description: "mosquitto did not start on port \(port); see \(logPath("mosquitto"))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return "mqtt://127.0.0.1:\(port)"
    }

    /// Starts a manager named `name` (its log is `<name>.log`); `storage` replaces the SQLite settings
    /// (`propeller dev --storage postgres` passes `MANAGER_STORAGE`/`MANAGER_DATABASE_URL`).
    func startManager(
        brokerURL: String,
        httpPort: Int,
        name: String = "manager",
        storage: [String: String]? = nil
    ) async throws {
        try Self.requireFree(httpPort, option: "--http-port")
        say("starting the \(name) on http://127.0.0.1:\(httpPort)…")
        try await spawn(
            name,
            executable: Self.selfExecutable,
            arguments: ["manager"],
            environment: brokerAuth.withLock { $0?.managerEnvironment ?? [:] }.merging(
                [
                    "PROPELLER_MQTT_URL": brokerURL,
                    "MANAGER_HTTP_HOST": "127.0.0.1",
                    "MANAGER_HTTP_PORT": String(httpPort),
                ].merging(
                    storage ?? [
                        "MANAGER_STORAGE": "sqlite",
                        "MANAGER_DB_PATH": dataDir.appendingPathComponent("propeller.db").path,
                    ]
                ) { _, new in new }
            ) { _, explicit in explicit }
        )
    }

    /// Whether the child `name` is still running.
    func isRunning(_ name: String) -> Bool {
        children.withLock { $0.first { $0.name == name }?.child.isRunning ?? false }
    }

    /// Starts the proplet; `registry` (`127.0.0.1:<port>` from `startRegistry`) becomes its default
    /// registry, and fetches from loopback are allowed for it (`PROPLET_REGISTRY_ALLOW_PRIVATE=true`).
    func startProplet(brokerURL: String, registry: String? = nil) async throws {
        say("starting a proplet…")
        var environment = [
            "PROPELLER_MQTT_URL": brokerURL,
            "PROPLET_STATE_DIR": dataDir.appendingPathComponent("proplet").path,
            "PROPLET_NAME": Self.propletName,
        ]
        if let registry {
            environment["PROPLET_REGISTRY_URL"] = registry
            environment["PROPLET_REGISTRY_ALLOW_PRIVATE"] = "true"
        }
        try await spawn(
            "proplet",
            executable: Self.selfExecutable,
            arguments: ["proplet"],
            environment: brokerAuth.withLock { $0?.propletEnvironment ?? [:] }.merging(environment) { _, explicit in
                explicit
            }
        )
    }

    /// Starts Debian's `docker-registry` (CNCF distribution) on 127.0.0.1:`port` with its storage in
    /// `<data dir>/registry` (kept across runs), for `propeller push` and `image_url`; returns `host:port`.
    func startRegistry(port: Int) async throws -> String {
        try Self.requireFree(port, option: "--registry-port")
        guard
            let executable = ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry", "/usr/bin/registry"]
                .first(where: FileManager.default.isExecutableFile(atPath:))
        else {
            throw CLIError(
                description: "--registry: docker-registry is not installed (apt-get install docker-registry)"
            )
        }
        let hostPort = "127.0.0.1:\(port)"
        say("starting an OCI registry on \(hostPort)…")
        let storage = dataDir.appendingPathComponent("registry")
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true)
        let config = dataDir.appendingPathComponent("registry.yml")
        do {
            try """
            # Written by propeller dev --registry on every start.
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: \(storage.path)
              delete:
                enabled: true
            http:
              addr: \(hostPort)
            """.write(to: config, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError(description: "cannot write \(config.path): \(error.localizedDescription)")
        }
        try await spawn("registry", executable: executable, arguments: ["serve", config.path], environment: [:])
        let deadline = Date().addingTimeInterval(15)
        while !Self.canConnect(port: port) {
            guard Date() < deadline, isRunning("registry") else {
                throw CLIError(description: "the registry did not start on \(hostPort); see \(logPath("registry"))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return hostPort
    }

    /// The name the dev proplet registers with.
    static let propletName = "dev-proplet"

    /// Polls each manager's `/proplets` until the dev proplet is listed alive with its metadata (it has
    /// registered), so that a task started once `propeller dev` says it is running finds a proplet on any
    /// manager. Not registered within 30 s (a very slow first start): says so and runs on — the proplet
    /// registers again at every manager hello and heartbeat.
    func waitForProplet(_ clients: [ManagerAPIClient], signals: ShutdownSignals) async throws {
        say("waiting for the proplet to register…")
        let deadline = ContinuousClock.now + .seconds(30)
        for client in clients {
            while true {
                if let page = try? await client.fetch(PropletPage.self, "GET", "proplets"),
                    page.proplets.contains(where: { $0.name == Self.propletName && $0.alive && $0.metadata != nil })
                {
                    break
                }
                if let dead = children.withLock({ $0.first { !$0.child.isRunning } }) {
                    throw CLIError(description: "\(dead.name) exited early; see \(logPath(dead.name))")
                }
                guard ContinuousClock.now < deadline else {
                    say("the proplet has not registered within 30 s; running anyway (see \(logPath("proplet")))")
                    return
                }
                if await signals.wait(for: .milliseconds(100)) { throw CLIError(description: "interrupted") }
            }
        }
    }

    /// Polls `/health/ready` until the manager is connected to the broker and subscribed (or a child
    /// dies, or Ctrl-C). A manager that answers `/health` but is not ready within 10 s of that (a broker
    /// given with `--mqtt-url` that is down) is waited for no longer: the stack runs and the manager keeps
    /// reconnecting.
    func waitForManager(_ client: ManagerAPIClient, signals: ShutdownSignals) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var answeredSince: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            if (try? await client.send("GET", "health/ready")) != nil { return }
            if answeredSince == nil, (try? await client.send("GET", "health")) != nil {
                answeredSince = ContinuousClock.now
            }
            if let answeredSince, ContinuousClock.now - answeredSince > .seconds(10) {
                say("the manager is not connected to the broker yet; starting anyway (see \(logPath("manager")))")
                return
            }
            if let dead = children.withLock({ $0.first { !$0.child.isRunning } }) {
                throw CLIError(description: "\(dead.name) exited early; see \(logPath(dead.name))")
            }
            if await signals.wait(for: .milliseconds(50)) { throw CLIError(description: "interrupted") }
        }
        throw CLIError(description: "the manager did not answer within 30 s; see \(logPath("manager"))")
    }

    /// SIGTERM to every child (its process group) in reverse start order; SIGKILL after 5 s; waits for each.
    func stopAll() async {
        let all = children.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for entry in all.reversed() {
            await entry.child.terminate(grace: .seconds(5))
        }
    }

    /// Starts a child through the one launcher: in its own process group (Ctrl-C in the terminal reaches
    /// only `propeller dev`, which then stops the children one by one: proplet, manager, broker), every
    /// signal at its default action, stdin from /dev/null, stdout and stderr to a fresh log file.
    func spawn(
        _ name: String,
        executable: String,
        arguments: [String],
        environment: [String: String]
    ) async throws {
        let log = open(logPath(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw CLIError(description: "cannot write \(logPath(name))") }
        defer { close(log) }
        let child: LaunchedProcess
        do {
            child = try await ProcessLauncher.launch(
                executable,
                arguments: arguments,
                environment: ProcessLauncher.inheritedEnvironment().merging(environment) { _, new in new },
                output: .descriptor(log),
                ownProcessGroup: true
            )
        } catch {
            throw CLIError(description: "cannot start \(executable): \(error)")
        }
        children.withLock { $0.append((name, child)) }
    }

    static var selfExecutable: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    }

    static func isPortFree(_ port: Int) -> Bool { !canConnect(port: port) && canBind(port: port) }

    /// Throws naming who holds the port when it is not free. A port in TIME_WAIT after a previous run
    /// counts as free (the probe binds with SO_REUSEADDR, as Mosquitto and the manager do).
    static func requireFree(_ port: Int, option: String) throws {
        guard !isPortFree(port) else { return }
        let holder = PortHolder.describe(port: port).map { "held by \($0)" } ?? "in use"
        throw CLIError(description: "port \(port) is \(holder); stop that process or pass \(option)")
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func canBind(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
