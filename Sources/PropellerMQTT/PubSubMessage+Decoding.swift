import Logging
import PropellerCore

extension PubSubMessage {
    /// Decodes the payload as `T` with `WireCoding`. A payload that is not valid UTF-8, not JSON, or
    /// JSON of the wrong shape is logged (warning, with the topic, size and the decoder's reason) and
    /// yields nil, so one bad message never stops a subscriber loop.
    public func decode<T: Decodable>(_ type: T.Type, logger: Logger) -> T? {
        do {
            return try WireCoding.decode(type, from: payload)
        } catch {
            logger.warning(
                "MQTT message rejected",
                metadata: [
                    "mqtt.topic": "\(topic)", "mqtt.payload_bytes": "\(payload.count)",
                    "mqtt.expected": "\(T.self)", "mqtt.reason": "\(error.description)",
                ]
            )
            return nil
        }
    }
}
