import Logging

/// `PROPELLER_LOG_LEVEL` (`trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`; default
/// `info`) and `PROPELLER_LOG_FORMAT` (`text` or `json`; default `text`), read once in `main`.
struct LogSettings: Equatable {
    var level: Logger.Level = .info
    var format: PropellerLogHandler.Format = .text

    /// Reads both variables; a value that does not parse is an error naming the variable and the
    /// accepted values.
    init(environment: [String: String]) throws(CLIError) {
        if let text = environment["PROPELLER_LOG_LEVEL"], !text.isEmpty {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw CLIError(
                    description: "PROPELLER_LOG_LEVEL must be one of "
                        + Logger.Level.allCases.map(\.rawValue).joined(separator: ", ") + "; got \"\(text.prefix(64))\""
                )
            }
            self.level = level
        }
        if let text = environment["PROPELLER_LOG_FORMAT"], !text.isEmpty {
            guard let format = PropellerLogHandler.Format(rawValue: text.lowercased()) else {
                throw CLIError(description: "PROPELLER_LOG_FORMAT must be text or json; got \"\(text.prefix(64))\"")
            }
            self.format = format
        }
    }

    /// Installs `PropellerLogHandler` for every logger of this process.
    func bootstrap() {
        let level = level
        let format = format
        LoggingSystem.bootstrap { label in PropellerLogHandler(label: label, format: format, level: level) }
    }
}
