import Foundation
import PropellerRegistry
import PropellerTestSupport
import Testing

@Suite("Fetching modules from a real registry")
struct RegistryFetchTests {
    @Test("a pushed module comes back byte for byte, and a second fetch is served from the cache")
    func roundTripAndCache() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/demo/add:v1"
                let digest = try await context.pusher().push(module: module, to: reference)
                #expect(ImageReference.isDigest(digest))

                let fetcher = context.fetcher()
                #expect(try await fetcher.fetch(reference) == module)
                #expect(registry.blobGETs(repository: "demo/add") == 1)
                #expect(fetcher.statistics.blobDownloads == 1)

                #expect(try await fetcher.fetch(reference) == module)
                #expect(fetcher.statistics.cacheHits == 1)
                #expect(fetcher.statistics.blobDownloads == 1)
                #expect(registry.blobGETs(repository: "demo/add") == 1)
                #expect(registry.manifestGETs(repository: "demo/add") == 2)

                // A new fetcher on the same cache directory (a restarted proplet) does not download either.
                #expect(try await context.fetcher().fetch(reference) == module)
                #expect(registry.blobGETs(repository: "demo/add") == 1)
            }
        }
    }

    @Test("a reference pinned by digest is served from the cache without asking the registry")
    func pinnedDigestFromCache() async throws {
        let module = try Fixtures.wasm("types")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let digest = try await context.pusher().push(module: module, to: "\(registry.hostPort)/demo/types:v1")
                let pinned = "\(registry.hostPort)/demo/types@\(digest)"
                #expect(try await context.fetcher().fetch(pinned) == module)
                let requestsBefore = registry.log().split(separator: "\n").filter { $0.contains("\"GET /v2/demo/") }
                    .count
                let fetcher = context.fetcher()
                #expect(try await fetcher.fetch(pinned) == module)
                #expect(fetcher.statistics == ModuleFetchStatistics(cacheHits: 1))
                let requestsAfter = registry.log().split(separator: "\n").filter { $0.contains("\"GET /v2/demo/") }
                    .count
                #expect(requestsAfter == requestsBefore)
            }
        }
    }

    @Test("references without a registry use the configured default registry")
    func defaultRegistry() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                try await context.pusher().push(module: module, to: "\(registry.hostPort)/myorg/compute:v1")
                let fetcher = context.fetcher { $0.defaultRegistry = registry.baseURL }
                #expect(try await fetcher.fetch("myorg/compute:v1") == module)
            }
        }
    }

    @Test("an unknown tag or repository fails as not found, naming the reference")
    func notFound() async throws {
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                try await context.pusher().push(
                    module: try Fixtures.wasm("add"),
                    to: "\(registry.hostPort)/demo/add:v1"
                )
                for reference in ["\(registry.hostPort)/demo/add:v9", "\(registry.hostPort)/nobody/here:v1"] {
                    await #expect {
                        try await context.fetcher().fetch(reference)
                    } throws: { error in
                        isFetchError(error, reference) {
                            if case .notFound(_, let detail) = $0 { return detail.contains("MANIFEST_UNKNOWN") }
                            return false
                        } && "\(error)".contains("not found")
                    }
                }
            }
        }
    }

    @Test("a tampered blob in the registry's storage fails with a digest mismatch and is not cached")
    func tamperedBlob() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/demo/tampered:v1"
                try await context.pusher().push(module: module, to: reference)
                let layerDigest = SHA256.ociDigest(of: module)
                let blobFile = registry.blobFile(digest: layerDigest)
                var bytes = [UInt8](try Data(contentsOf: blobFile))
                bytes[bytes.count - 1] ^= 0xff
                try Data(bytes).write(to: blobFile)

                let fetcher = context.fetcher()
                for _ in 0..<2 {
                    await #expect {
                        try await fetcher.fetch(reference)
                    } throws: { error in
                        isFetchError(error, reference) {
                            if case .digestMismatch(_, let expected, let actual) = $0 {
                                return expected == layerDigest && actual == SHA256.ociDigest(of: bytes)
                            }
                            return false
                        } && "\(error)".contains("digest mismatch")
                    }
                }
                #expect(fetcher.statistics.blobDownloads == 2)
                #expect(fetcher.statistics.cacheHits == 0)
            }
        }
    }

    @Test("a manifest whose layers are not Wasm fails with no Wasm layer, listing the media types")
    func noWasmLayer() async throws {
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/demo/container:v1"
                let tar = "application/vnd.oci.image.layer.v1.tar"
                try await context.pusher().push(
                    layers: [
                        PushLayer(mediaType: tar, bytes: Array("layer one".utf8)),
                        PushLayer(mediaType: tar + "+gzip", bytes: Array("layer two".utf8)),
                    ],
                    to: reference
                )
                await #expect {
                    try await context.fetcher().fetch(reference)
                } throws: { error in
                    isFetchError(error, reference) {
                        if case .noWasmLayer(_, let mediaTypes) = $0 { return mediaTypes == [tar, tar + "+gzip"] }
                        return false
                    } && "\(error)".contains("no Wasm layer")
                }
                #expect(registry.blobGETs(repository: "demo/container") == 0)
            }
        }
    }

    @Test("a single-layer image of another media type holding Wasm is accepted")
    func singleLayerImage() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/demo/single:v1"
                try await context.pusher().push(
                    layers: [PushLayer(mediaType: "application/vnd.oci.image.layer.v1.tar", bytes: module)],
                    to: reference
                )
                #expect(try await context.fetcher().fetch(reference) == module)
            }
        }
    }

    @Test("a single-layer image whose layer is not Wasm fails as not Wasm")
    func singleLayerNotWasm() async throws {
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/demo/text:v1"
                try await context.pusher().push(
                    layers: [PushLayer(mediaType: "text/plain", bytes: Array("hello, not a module".utf8))],
                    to: reference
                )
                await #expect {
                    try await context.fetcher().fetch(reference)
                } throws: { error in
                    isFetchError(error, reference) {
                        if case .notWasm(_, let detail) = $0 { return detail.contains("hello, not a mod") }
                        return false
                    }
                }
            }
        }
    }

    @Test("a module over the size cap fails as too large without being downloaded")
    func tooLarge() async throws {
        let module = try Fixtures.wasm("types")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/demo/big:v1"
                try await context.pusher().push(module: module, to: reference)
                let limit = module.count - 1
                await #expect {
                    try await context.fetcher { $0.maxModuleBytes = limit }.fetch(reference)
                } throws: { error in
                    isFetchError(error, reference) {
                        if case .tooLarge(_, let reportedLimit, let size) = $0 {
                            return reportedLimit == limit && size == module.count
                        }
                        return false
                    } && "\(error)".contains("too large")
                }
                #expect(registry.blobGETs(repository: "demo/big") == 0)
            }
        }
    }

    @Test("pushing the same module twice uploads its blob once and yields the same digest")
    func pushIsIdempotent() async throws {
        let module = try Fixtures.wasm("add")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let first = try await context.pusher().push(module: module, to: "\(registry.hostPort)/demo/again:v1")
                let second = try await context.pusher().push(module: module, to: "\(registry.hostPort)/demo/again:v2")
                #expect(first == second)
                let uploads = registry.log().split(separator: "\n").filter {
                    $0.contains("\"POST /v2/demo/again/blobs/uploads/")
                }
                #expect(uploads.count == 2)  // the config blob and the layer, once each
            }
        }
    }

    @Test("pushing bytes that are not Wasm is refused before any upload")
    func pushRejectsNonWasm() async throws {
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reference = "\(registry.hostPort)/demo/bad:v1"
                await #expect {
                    try await context.pusher().push(module: Array("<html></html>".utf8), to: reference)
                } throws: { error in
                    isFetchError(error, reference) { if case .notWasm = $0 { true } else { false } }
                }
                #expect(!registry.log().contains("/v2/demo/bad/"))
            }
        }
    }

    @Test("plain HTTP to a registry that is neither loopback nor listed insecure is refused")
    func insecureRefused() async throws {
        try await RegistryTestContext.with { context in
            let fetcher = context.fetcher { $0.defaultRegistry = "http://registry.invalid:5000" }
            await #expect {
                try await fetcher.fetch("demo/add:v1")
            } throws: { error in
                isFetchError(error, "demo/add:v1") { if case .insecureRegistry = $0 { true } else { false } }
                    && "\(error)".contains("PROPLET_REGISTRY_INSECURE")
            }
        }
    }
}
