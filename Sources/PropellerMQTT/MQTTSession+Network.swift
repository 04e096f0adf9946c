import CMosquitto
import Foundation
import Logging
import Synchronization

/// The network thread: one dedicated OS thread per client owns the libmosquitto handle, runs
/// `mosquitto_loop`, reconnects with exponential backoff and makes a fresh handle for every attempt,
/// so nothing of a lost connection lingers inside libmosquitto — un-acknowledged messages are ours to
/// resend, in order, ahead of the outbox.
extension MQTTSession {
    /// Starts the network thread (once). Throws when the client was already stopped.
    func start() throws(MQTTError) {
        let shouldStart = try state.withLock { (state) throws(MQTTError) -> Bool in
            if state.stopRequested || state.phase == .stopped { throw .clientStopped(url: url) }
            guard !state.threadStarted else { return false }
            state.threadStarted = true
            state.phase = .connecting
            return true
        }
        guard shouldStart else { return }
        let thread = Thread { [self] in self.runNetworkLoop() }
        thread.name = "mqtt-network"
        thread.start()
    }

    /// Waits until the first connection has been accepted, or throws the definitive refusal.
    func waitForFirstConnection() async throws {
        let id = state.withLock { state in
            state.nextSubscriptionID += 1
            return state.nextSubscriptionID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                state.withLock { state in
                    if state.everConnected { return waiter.resume() }
                    if let refusal = state.refusal { return waiter.resume(throwing: refusal) }
                    if state.phase == .stopped || Task.isCancelled {
                        return waiter.resume(
                            throwing: Task.isCancelled ? CancellationError() : MQTTError.clientStopped(url: url)
                        )
                    }
                    state.connectWaiters[id] = waiter
                }
            }
        } onCancel: {
            state.withLock { $0.connectWaiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Asks the network thread to stop. It writes out what libmosquitto still holds (within
    /// `drainTimeout`), sends a clean DISCONNECT when connected (so the broker does not publish the
    /// will), and ends.
    func requestStop() {
        state.withLock { $0.stopRequested = true }
    }

    /// Sends DISCONNECT once; called on the network thread.
    private func sendDisconnect() {
        state.withLock { state in
            if state.phase == .connected, let handle = state.handle?.pointer, !state.disconnectSent {
                state.disconnectSent = true
                _ = mosquitto_disconnect(handle)
            }
        }
    }

    /// Waits until the network thread has ended (returns at once when it never started).
    func waitUntilStopped() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            state.withLock { state in
                if state.phase == .stopped || !state.threadStarted { return waiter.resume() }
                state.stopWaiters.append(waiter)
            }
        }
        if !state.withLock({ $0.threadStarted }) { finishStopped() }
    }

    private var isStopRequested: Bool { state.withLock { $0.stopRequested } }

    private func runNetworkLoop() {
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        var delay = configuration.minimumReconnectDelay
        var failures = 0
        while !isStopRequested {
            let (accepted, reason) = runOneConnection(userdata: userdata)
            if accepted {
                delay = configuration.minimumReconnectDelay
                failures = 0
            } else {
                failures += 1
            }
            if isStopRequested { break }
            // Logged on attempts 1, 2, 4, 8, …: visible without flooding the log during a long outage.
            if failures > 0 && failures & (failures - 1) == 0 {
                logger.warning(
                    "MQTT connection failed, retrying",
                    metadata: ["mqtt.attempts": "\(failures)", "mqtt.retry_in": "\(delay)", "mqtt.reason": "\(reason)"]
                )
            }
            sleepUnlessStopped(delay)
            delay = min(delay * 2, configuration.maximumReconnectDelay)
        }
        finishStopped()
    }

    /// One connection attempt and, when it succeeds, the whole life of that connection. Returns
    /// whether the broker accepted it, and why it ended.
    private func runOneConnection(userdata: UnsafeMutableRawPointer) -> (accepted: Bool, reason: String) {
        guard let handle = mosquitto_new(configuration.clientID, configuration.cleanSession, userdata) else {
            logger.error("MQTT client could not be created (out of memory or invalid client id)")
            return (false, "mosquitto_new failed")
        }
        if let problem = configure(handle) {
            mosquitto_destroy(handle)
            reject(.configurationRejected(url: url, reason: problem))
            return (false, problem)
        }
        state.withLock { state in
            state.handle = MosquittoHandle(pointer: handle)
            state.disconnectSent = false
        }
        var code = mosquitto_connect(handle, address.host, Int32(address.port), Int32(configuration.keepAlive))
        if code != MOSQ_ERR_SUCCESS.rawValue {
            logger.debug("MQTT connect failed", metadata: ["mqtt.error": "\(describe(code))"])
        }
        var drainDeadline: ContinuousClock.Instant?
        var stopDeadline: ContinuousClock.Instant?
        while code == MOSQ_ERR_SUCCESS.rawValue {
            code = mosquitto_loop(handle, 100, 1)
            guard code == MOSQ_ERR_SUCCESS.rawValue else { break }
            let (stopping, connected) = state.withLock { ($0.stopRequested, $0.phase == .connected) }
            guard stopping else { continue }
            if !connected { break }
            // QoS 0 packets queued in libmosquitto are written before the DISCONNECT goes out.
            let drainUntil = drainDeadline ?? ContinuousClock.now + configuration.drainTimeout
            drainDeadline = drainUntil
            if mosquitto_want_write(handle) && ContinuousClock.now < drainUntil { continue }
            sendDisconnect()
            let deadline = stopDeadline ?? ContinuousClock.now + .seconds(2)
            stopDeadline = deadline
            if ContinuousClock.now > deadline { break }
        }
        let reason = describe(code)
        let accepted = endConnection(reason: reason)
        mosquitto_destroy(handle)
        return (accepted, reason)
    }

    private func configure(_ handle: OpaquePointer) -> String? {
        _ = mosquitto_threaded_set(handle, true)
        _ = mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
        // Small control messages must not wait for the previous packet's ACK (Nagle): ≈40 ms per result.
        _ = mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1)
        _ = mosquitto_max_inflight_messages_set(handle, UInt32(max(1, configuration.inflightWindow)))
        if let username = configuration.username {
            let code = mosquitto_username_pw_set(handle, username, configuration.password)
            if code != MOSQ_ERR_SUCCESS.rawValue { return "username or password rejected: \(describe(code))" }
        }
        if let will = configuration.will {
            let code = mosquitto_will_set(
                handle,
                will.topic,
                Int32(will.payload.count),
                will.payload,
                will.qos.rawValue,
                will.retain
            )
            if code != MOSQ_ERR_SUCCESS.rawValue { return "last will on '\(will.topic)' rejected: \(describe(code))" }
        }
        if address.usesTLS {
            // Without a CA file the system's trusted certificates verify the broker.
            let caFile = configuration.caFile
            let code = mosquitto_tls_set(
                handle,
                caFile,
                caFile == nil ? "/etc/ssl/certs" : nil,
                configuration.certificateFile,
                configuration.keyFile,
                nil
            )
            if code != MOSQ_ERR_SUCCESS.rawValue {
                let files = [caFile, configuration.certificateFile, configuration.keyFile].compactMap { $0 }
                return "TLS files \(files) rejected: \(describe(code))"
            }
        }
        installCallbacks(on: handle)
        return nil
    }

    /// Ends the current connection: in-flight messages go back to the front of the outbox (in send
    /// order), pending SUBACK waits end. Returns whether this connection had been accepted.
    private func endConnection(reason: String) -> Bool {
        let (accepted, subackWaiters, listeners) = state.withLock { state in
            let accepted = state.phase == .connected
            state.handle = nil
            if state.phase != .stopped { state.phase = .connecting }
            let pending = state.inFlight.values.sorted { $0.sequence < $1.sequence }.map(\.message)
            state.inFlight.removeAll()
            inFlightCount.store(0, ordering: .sequentiallyConsistent)
            state.outbox.prepend(pending)
            let waiters = state.subackWaiters.values.flatMap { $0 }
            state.subackWaiters.removeAll()
            if !accepted { state.statistics.failedConnectionAttempts += 1 }
            return (accepted, waiters, Array(state.connectionListeners.values))
        }
        for waiter in subackWaiters { waiter.resume() }
        if accepted {
            let stopping = isStopRequested
            if stopping {
                logger.info("MQTT disconnected")
            } else {
                logger.warning("MQTT connection lost, reconnecting", metadata: ["mqtt.reason": "\(reason)"])
            }
            for listener in listeners { listener.yield(.disconnected(reason: stopping ? "disconnected" : reason)) }
        }
        return accepted
    }

    /// Fails every `connect()` waiting and stops the client: used for errors retrying cannot fix.
    func reject(_ error: MQTTError) {
        logger.error("MQTT connection not possible", metadata: ["mqtt.error": "\(error)"])
        let waiters = state.withLock { state in
            state.refusal = error
            let waiters = state.connectWaiters.values
            state.connectWaiters.removeAll()
            if !waiters.isEmpty || state.handle == nil { state.stopRequested = true }
            return Array(waiters)
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    private func finishStopped() {
        let (subscriptions, listeners, stopWaiters, connectWaiters, undelivered) = state.withLock { state in
            let undelivered = state.outbox.count + state.inFlight.count
            state.phase = .stopped
            state.stopRequested = true
            defer {
                state.subscriptions.removeAll()
                state.connectionListeners.removeAll()
                state.stopWaiters.removeAll()
                state.connectWaiters.removeAll()
            }
            return (
                state.subscriptions.values.map(\.continuation), Array(state.connectionListeners.values),
                state.stopWaiters, Array(state.connectWaiters.values), undelivered
            )
        }
        if undelivered > 0 {
            logger.warning(
                "MQTT client stopped with undelivered messages",
                metadata: ["mqtt.undelivered": "\(undelivered)"]
            )
        }
        for continuation in subscriptions { continuation.finish() }
        for listener in listeners { listener.finish() }
        for waiter in connectWaiters { waiter.resume(throwing: MQTTError.clientStopped(url: url)) }
        for waiter in stopWaiters { waiter.resume() }
    }

    private func sleepUnlessStopped(_ delay: Duration) {
        let deadline = ContinuousClock.now + delay
        while !isStopRequested && ContinuousClock.now < deadline {
            usleep(20_000)
        }
    }

    func describe(_ code: Int32) -> String {
        if code == MOSQ_ERR_ERRNO.rawValue { return String(cString: strerror(errno)) }
        return MosquittoLibrary.describe(error: code)
    }
}
