// Times ModuleFetcher against a live registry: push, cold fetch (empty cache), warm fetch by tag
// (manifest GET + cache hit), warm fetch by digest (no network) — next to curl downloading the same blob
// (curl's own `time_total`, so the time to start curl is not counted).
// Usage: module-fetch-bench REGISTRY_HOST:PORT [ROUNDS]. Prints a Markdown table.
import Foundation
import Logging
import PropellerLauncher
import PropellerRegistry

/// A valid Wasm module of about `bytes` bytes: the header plus one custom section of padding.
func syntheticModule(bytes: Int) -> [UInt8] {
    var module: [UInt8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
    let name = Array("pad".utf8)
    let payload = max(0, bytes - 16)
    var size = UInt32(1 + name.count + payload)
    var leb: [UInt8] = []
    repeat {
        var byte = UInt8(size & 0x7f)
        size >>= 7
        if size != 0 { byte |= 0x80 }
        leb.append(byte)
    } while size != 0
    module.append(0x00)
    module += leb
    module.append(UInt8(name.count))
    module += name
    var state: UInt32 = 0x1234_5678
    module.reserveCapacity(module.count + payload)
    for _ in 0..<payload {
        state = state &* 1_664_525 &+ 1_013_904_223
        module.append(UInt8(truncatingIfNeeded: state >> 24))
    }
    return module
}

func milliseconds(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let elapsed = try await clock.measure { try await body() }
    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Downloads `url` with curl (started by `ProcessLauncher`); returns curl's own transfer time in ms.
func curl(_ url: String) async throws -> Double {
    let result = try await ProcessLauncher.run(
        "/usr/bin/curl",
        arguments: ["-s", "-f", "-o", "/dev/null", "-w", "%{time_total}", url]
    )
    guard result.status == 0, let seconds = Double(result.standardOutput) else {
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "curl \(url): \(result.status)"])
    }
    return seconds * 1000
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: module-fetch-bench REGISTRY_HOST:PORT [ROUNDS]\n".utf8))
    exit(2)
}
let registry = arguments[1]
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let logger = Logger(label: "module-fetch-bench") { _ in SwiftLogNoOpLogHandler() }
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("module-fetch-bench-\(getpid())")
defer { try? FileManager.default.removeItem(at: scratch) }

print(
    "| module size | push | cold fetch (download + sha256 + cache write) | curl GET of the blob (curl's time_total) | cold / curl | warm fetch by tag | warm fetch by digest |"
)
print("|---:|---:|---:|---:|---:|---:|---:|")
for size in [1 << 20, 16 << 20, 64 << 20] {
    let module = syntheticModule(bytes: size)
    let reference = "\(registry)/bench/module:\(size)"
    var configuration = ModuleFetcherConfiguration(cacheDirectory: scratch.appendingPathComponent("push").path)
    configuration.addressPolicy.allowPrivate = true
    var digest = ""
    let push = try await milliseconds {
        digest = try await ModulePusher(configuration: configuration, logger: logger).push(
            module: module,
            to: reference
        )
    }
    let layerURL = "http://\(registry)/v2/bench/module/blobs/\(SHA256.ociDigest(of: module))"
    var cold: [Double] = []
    var warmTag: [Double] = []
    var warmDigest: [Double] = []
    var curlTimes: [Double] = []
    for round in 0..<rounds {
        configuration.cacheDirectory = scratch.appendingPathComponent("cache-\(size)-\(round)").path
        let fetcher = ModuleFetcher(configuration: configuration, logger: logger)
        cold.append(try await milliseconds { _ = try await fetcher.fetch(reference) })
        _ = try await fetcher.fetch("\(registry)/bench/module@\(digest)")
        warmTag.append(try await milliseconds { _ = try await fetcher.fetch(reference) })
        warmDigest.append(try await milliseconds { _ = try await fetcher.fetch("\(registry)/bench/module@\(digest)") })
        curlTimes.append(try await curl(layerURL))
        guard fetcher.statistics.blobDownloads == 1 else { fatalError("warm fetches downloaded again") }
    }
    let row = [
        "\(size >> 20) MiB", String(format: "%.1f ms", push), String(format: "%.1f ms", median(cold)),
        String(format: "%.1f ms", median(curlTimes)), String(format: "%.2f×", median(cold) / median(curlTimes)),
        String(format: "%.2f ms", median(warmTag)), String(format: "%.2f ms", median(warmDigest)),
    ]
    print("| " + row.joined(separator: " | ") + " |")
}
