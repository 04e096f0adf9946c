import CMosquitto

/// Process-wide libmosquitto set-up and error texts.
enum MosquittoLibrary {
    /// Runs `mosquitto_lib_init()` exactly once (a `static let` initialiser is thread-safe and runs once).
    static let initialized: Void = {
        _ = mosquitto_lib_init()
    }()

    /// libmosquitto's text for an error code (`MOSQ_ERR_*`).
    static func describe(error code: Int32) -> String {
        String(cString: mosquitto_strerror(code))
    }

    /// libmosquitto's text for a CONNACK return code.
    static func describe(connack code: Int32) -> String {
        String(cString: mosquitto_connack_string(code))
    }

    /// Whether a CONNACK refusal cannot be fixed by retrying: 1 protocol version, 2 identifier
    /// rejected, 4 bad username or password, 5 not authorised. (3, server unavailable, is retried.)
    static func isDefinitive(connack code: Int32) -> Bool {
        [1, 2, 4, 5].contains(code)
    }
}
