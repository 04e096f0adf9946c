import Foundation

/// Runs `body` with a real Mosquitto started from a configuration written by someone else (for
/// example `propeller broker-config`): `directory/mosquitto.conf`, listening on 127.0.0.1:`port`.
/// The broker is always stopped afterwards; the directory is left to the caller.
public func withConfiguredMosquitto<T>(
    directory: URL,
    port: Int,
    _ body: (MosquittoBroker) async throws -> T
) async throws -> T {
    let process = MosquittoProcess(port: port, directory: directory)
    try await process.start()
    let broker = MosquittoBroker(url: "mqtt://127.0.0.1:\(port)", port: port, directory: directory, process: process)
    do {
        let result = try await body(broker)
        await process.stop()
        return result
    } catch {
        await process.stop()
        throw error
    }
}

/// A `KEY=VALUE` env file (as `propeller broker-config` writes them) read into a dictionary.
public func readEnvironmentFile(_ url: URL) throws -> [String: String] {
    let text = try String(contentsOf: url, encoding: .utf8)
    var values: [String: String] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return values
}
