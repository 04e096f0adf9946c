import Foundation
import PropellerRegistry
import PropellerTestSupport
import Testing

@Suite("Fetching modules from http URLs")
struct URLFetchTests {
    @Test("application/wasm and application/octet-stream bodies are returned as the module")
    func wasmServed() async throws {
        let module = try Fixtures.wasm("add")
        try await withFileServer([
            "/add.wasm": (module, "application/wasm"),
            "/add.bin": (module, "application/octet-stream; charset=binary"),
        ]) { server in
            try await RegistryTestContext.with { context in
                let fetcher = context.fetcher()
                let wasmURL = "\(server.baseURL)/add.wasm"
                let binaryURL = "\(server.baseURL)/add.bin"
                let fromWasmURL = try await fetcher.fetch(wasmURL)
                let fromBinaryURL = try await fetcher.fetch(binaryURL)
                #expect(fromWasmURL == module)
                #expect(fromBinaryURL == module)
                #expect(fetcher.statistics.urlDownloads == 2)
            }
        }
    }

    @Test("an HTML page fails as not Wasm, naming the URL and the content type")
    func htmlRejected() async throws {
        try await withFileServer([
            "/index.html": (Array("<!doctype html><p>hello</p>".utf8), "text/html; charset=utf-8")
        ]) { server in
            try await RegistryTestContext.with { context in
                let url = "\(server.baseURL)/index.html"
                await #expect {
                    try await context.fetcher().fetch(url)
                } throws: { error in
                    isFetchError(error, url) {
                        if case .notWasm(_, let detail) = $0 { return detail.contains("text/html") }
                        return false
                    } && "\(error)".contains("is not Wasm")
                }
            }
        }
    }

    @Test("an octet-stream body without the \\0asm magic fails as not Wasm")
    func magicChecked() async throws {
        try await withFileServer(["/fake.wasm": (Array("MZ not a module at all".utf8), "application/wasm")]) { server in
            try await RegistryTestContext.with { context in
                let url = "\(server.baseURL)/fake.wasm"
                await #expect {
                    try await context.fetcher().fetch(url)
                } throws: { error in
                    isFetchError(error, url) {
                        if case .notWasm(_, let detail) = $0 { return detail.contains("\\0asm") }
                        return false
                    }
                }
            }
        }
    }

    @Test("a missing file fails as not found")
    func missing() async throws {
        try await withFileServer([:]) { server in
            try await RegistryTestContext.with { context in
                let url = "\(server.baseURL)/nothing.wasm"
                await #expect {
                    try await context.fetcher().fetch(url)
                } throws: { error in
                    isFetchError(error, url) { if case .notFound = $0 { true } else { false } }
                }
            }
        }
    }

    @Test("a body over the size cap fails as too large")
    func tooLarge() async throws {
        let module = try Fixtures.wasm("types")
        try await withFileServer(["/types.wasm": (module, "application/wasm")]) { server in
            try await RegistryTestContext.with { context in
                let url = "\(server.baseURL)/types.wasm"
                await #expect {
                    try await context.fetcher { $0.maxModuleBytes = 16 }.fetch(url)
                } throws: { error in
                    isFetchError(error, url) {
                        if case .tooLarge(_, let limit, _) = $0 { return limit == 16 }
                        return false
                    }
                }
            }
        }
    }

    @Test("a closed port fails as a network error naming the URL")
    func connectionRefused() async throws {
        let port = try LoopbackPort.free()
        try await RegistryTestContext.with { context in
            let url = "http://127.0.0.1:\(port)/add.wasm"
            await #expect {
                try await context.fetcher().fetch(url)
            } throws: { error in
                isFetchError(error, url) { if case .network = $0 { true } else { false } }
            }
        }
    }
}
