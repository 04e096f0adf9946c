import Foundation
import Logging
import PropellerRegistry
import PropellerTestSupport
import Testing

@Suite("image_url fetches refuse loopback and link-local hosts unless PROPLET_REGISTRY_ALLOW_PRIVATE=true")
struct AddressPolicyTests {
    @Test(
        "loopback, link-local, unspecified and IPv4-mapped forms of them are restricted; other addresses are not",
        arguments: [
            ([127, 0, 0, 1], true), ([127, 9, 8, 7], true), ([169, 254, 169, 254], true), ([0, 0, 0, 0], true),
            ([10, 0, 0, 5], false), ([192, 168, 1, 2], false), ([8, 8, 8, 8], false),
            ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], true),
            ([0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], true),
            ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1], true),
            ([0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], false),
        ] as [([UInt8], Bool)]
    )
    func restrictedAddresses(address: [UInt8], restricted: Bool) {
        #expect(AddressPolicy.isRestricted(address) == restricted)
    }

    @Test("host names are resolved before the check; allowPrivate lifts it")
    func hostNames() {
        for host in ["localhost", "127.0.0.1", "[::1]", "169.254.169.254"] {
            #expect(AddressPolicy().refusal(host: host)?.contains("PROPLET_REGISTRY_ALLOW_PRIVATE") == true, "\(host)")
            #expect(AddressPolicy(allowPrivate: true).refusal(host: host) == nil)
        }
        #expect(AddressPolicy().refusal(host: "10.1.2.3") == nil)
    }

    @Test("a fetch from a loopback server fails without a request, naming the variable; allowed with it set")
    func loopbackFetch() async throws {
        let module = try Fixtures.wasm("add")
        try await withFileServer(["/add.wasm": (module, "application/wasm")]) { server in
            let url = "\(server.baseURL)/add.wasm"
            let cache = FileManager.default.temporaryDirectory.appendingPathComponent("modules-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: cache) }
            let refused = try ModuleFetcherConfiguration(environment: [:], stateDirectory: cache.path)
            await #expect {
                try await ModuleFetcher(configuration: refused, logger: .init(label: "t")).fetch(url)
            } throws: { error in
                "\(error)".contains("PROPLET_REGISTRY_ALLOW_PRIVATE")
            }
            let allowed = try ModuleFetcherConfiguration(
                environment: ["PROPLET_REGISTRY_ALLOW_PRIVATE": "true"],
                stateDirectory: cache.path
            )
            #expect(try await ModuleFetcher(configuration: allowed, logger: .init(label: "t")).fetch(url) == module)
            #expect(throws: ModuleFetcherConfigurationError.self) {
                try ModuleFetcherConfiguration(
                    environment: ["PROPLET_REGISTRY_ALLOW_PRIVATE": "maybe"],
                    stateDirectory: "/tmp"
                )
            }
        }
    }
}
