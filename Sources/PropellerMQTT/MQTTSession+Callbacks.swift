import CMosquitto
import Logging

/// libmosquitto's callbacks. They run on the network thread inside `mosquitto_loop`; the userdata
/// pointer is the (unretained) session, which the network thread keeps alive until the handle is
/// destroyed. Topic and payload are copied before the callback returns (libmosquitto frees them).
extension MQTTSession {
    func installCallbacks(on handle: OpaquePointer) {
        mosquitto_connect_callback_set(handle) { _, userdata, code in
            MQTTSession.from(userdata)?.didConnect(returnCode: code)
        }
        mosquitto_publish_callback_set(handle) { _, userdata, mid in
            MQTTSession.from(userdata)?.didPublish(mid: mid)
        }
        mosquitto_subscribe_callback_set(handle) { _, userdata, mid, _, _ in
            MQTTSession.from(userdata)?.didSubscribe(mid: mid)
        }
        mosquitto_message_callback_set(handle) { _, userdata, message in
            guard let session = MQTTSession.from(userdata), let message else { return }
            session.didReceive(message.pointee)
        }
    }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> MQTTSession? {
        guard let userdata else { return nil }
        return Unmanaged<MQTTSession>.fromOpaque(userdata).takeUnretainedValue()
    }

    private func didConnect(returnCode: Int32) {
        guard returnCode == 0 else {
            let reason = MosquittoLibrary.describe(connack: returnCode)
            let listeners = state.withLock { Array($0.connectionListeners.values) }
            for listener in listeners { listener.yield(.refused(reason: reason)) }
            if MosquittoLibrary.isDefinitive(connack: returnCode) {
                reject(.connectionRefused(url: url, reason: reason))
            } else {
                logger.warning("MQTT broker refused the connection, retrying", metadata: ["mqtt.reason": "\(reason)"])
            }
            return
        }
        let (waiters, listeners, reconnect, outboxed) = state.withLock { state in
            let reconnect = state.everConnected
            state.phase = .connected
            state.everConnected = true
            state.refusal = nil
            if reconnect { state.statistics.reconnects += 1 }
            if let handle = state.handle?.pointer {
                for (filter, qos) in state.filtersToSubscribe {
                    _ = mosquitto_subscribe(handle, nil, filter, qos.rawValue)
                }
            }
            let outboxed = state.outbox.count
            pump(&state)
            let waiters = Array(state.connectWaiters.values)
            state.connectWaiters.removeAll()
            return (waiters, Array(state.connectionListeners.values), reconnect, outboxed)
        }
        logger.info(
            reconnect ? "MQTT reconnected" : "MQTT connected",
            metadata: ["mqtt.outbox": "\(outboxed)"]
        )
        for waiter in waiters { waiter.resume() }
        for listener in listeners { listener.yield(.connected(reconnect: reconnect)) }
    }

    private func didPublish(mid: Int32) {
        if inFlightCount.load(ordering: .sequentiallyConsistent) == 0 {
            lockFreePublished.add(1, ordering: .relaxed)
            return
        }
        state.withLock { state in
            if state.inFlight.removeValue(forKey: mid) != nil {
                inFlightCount.subtract(1, ordering: .sequentiallyConsistent)
            }
            state.statistics.published += 1
            pump(&state)
        }
    }

    private func didSubscribe(mid: Int32) {
        let waiters = state.withLock { $0.subackWaiters.removeValue(forKey: mid) } ?? []
        for waiter in waiters { waiter.resume() }
    }

    private func didReceive(_ raw: mosquitto_message) {
        let topic = String(cString: raw.topic)
        let payload: [UInt8] =
            if let bytes = raw.payload, raw.payloadlen > 0 {
                Array(UnsafeRawBufferPointer(start: bytes, count: Int(raw.payloadlen)))
            } else {
                []
            }
        let message = PubSubMessage(
            topic: topic,
            payload: payload,
            qos: QoS(rawValue: raw.qos) ?? .atMostOnce,
            retain: raw.retain
        )
        let targets = state.withLock { state in
            state.statistics.delivered += 1
            return state.streams(for: topic)
        }
        for continuation in targets { continuation.yield(message) }
    }
}
