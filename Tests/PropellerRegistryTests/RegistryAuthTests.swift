import Foundation
import PropellerRegistry
import PropellerTestSupport
import Testing

@Suite("Registry authentication")
struct RegistryAuthTests {
    @Test("a Bearer challenge is answered with a token from the realm, for push and for fetch")
    func bearerToken() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await withRegistryGate(registry, mode: .bearer, username: "alice", password: "s3cret") { gate in
                try await RegistryTestContext.with { context in
                    let reference = "\(gate.hostPort)/secure/add:v1"
                    let credentials: (inout ModuleFetcherConfiguration) -> Void = {
                        $0.username = "alice"
                        $0.password = "s3cret"
                    }
                    try await context.pusher(credentials).push(module: module, to: reference)
                    #expect(try await context.fetcher(credentials).fetch(reference) == module)
                    let tokenRequests = gate.requests().filter { $0.hasPrefix("REQ GET /token?") }
                        .map { $0.removingPercentEncoding ?? $0 }
                    #expect(tokenRequests.contains { $0.contains("service=test-registry") && $0.hasSuffix(" 200") })
                    #expect(tokenRequests.contains { $0.contains("scope=repository:secure/add:pull ") })
                    #expect(tokenRequests.contains { $0.contains("scope=repository:secure/add:pull,push") })
                    #expect(registry.blobGETs(repository: "secure/add") == 1)
                }
            }
        }
    }

    @Test("wrong or missing credentials fail as unauthorized, naming the reference")
    func bearerRejected() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await withRegistryGate(registry, mode: .bearer, username: "alice", password: "s3cret") { gate in
                try await RegistryTestContext.with { context in
                    let reference = "\(gate.hostPort)/secure/add:v1"
                    try await context.pusher(Self.credentials("alice", "s3cret")).push(module: module, to: reference)
                    for adjust in [Self.credentials("alice", "wrong"), { _ in }] {
                        await #expect {
                            try await context.fetcher(adjust).fetch(reference)
                        } throws: { error in
                            isFetchError(error, reference) { if case .unauthorized = $0 { true } else { false } }
                                && "\(error)".contains("unauthorized")
                        }
                    }
                }
            }
        }
    }

    @Test("a Basic challenge is answered with the configured credentials")
    func basic() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await withRegistryGate(registry, mode: .basic, username: "bob", password: "hunter2") { gate in
                try await RegistryTestContext.with { context in
                    let reference = "\(gate.hostPort)/basic/add:v1"
                    try await context.pusher(Self.credentials("bob", "hunter2")).push(module: module, to: reference)
                    #expect(try await context.fetcher(Self.credentials("bob", "hunter2")).fetch(reference) == module)
                    await #expect {
                        try await context.fetcher().fetch(reference)
                    } throws: { error in
                        isFetchError(error, reference) {
                            if case .unauthorized(_, let detail) = $0 {
                                return detail.contains("PROPLET_REGISTRY_USERNAME")
                            }
                            return false
                        }
                    }
                }
            }
        }
    }

    private static func credentials(
        _ username: String,
        _ password: String
    ) -> @Sendable (inout ModuleFetcherConfiguration) -> Void {
        {
            $0.username = username
            $0.password = password
        }
    }
}
