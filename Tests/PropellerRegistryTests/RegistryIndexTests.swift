import Foundation
import PropellerRegistry
import PropellerTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Image indexes")
struct RegistryIndexTests {
    @Test("an OCI image index resolves to its wasm platform entry")
    func indexPicksWasmPlatform() async throws {
        let wasmModule = try Fixtures.wasm("add")
        let otherModule = try Fixtures.wasm("types")
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let pusher = context.pusher()
                let other = try await pusher.push(module: otherModule, to: "\(registry.hostPort)/demo/multi:amd64")
                let wasm = try await pusher.push(module: wasmModule, to: "\(registry.hostPort)/demo/multi:wasm")
                let index = """
                    {"schemaVersion":2,"mediaType":"\(OCIMediaType.imageIndex)","manifests":[\
                    {"mediaType":"\(OCIMediaType.imageManifest)","digest":"\(other)","size":\(try await size(of: other, registry)),\
                    "platform":{"architecture":"amd64","os":"linux"}},\
                    {"mediaType":"\(OCIMediaType.imageManifest)","digest":"\(wasm)","size":\(try await size(of: wasm, registry)),\
                    "platform":{"architecture":"wasm","os":"wasip1"}}]}
                    """
                var request = URLRequest(url: URL(string: "\(registry.baseURL)/v2/demo/multi/manifests/v1")!)
                request.httpMethod = "PUT"
                request.setValue(OCIMediaType.imageIndex, forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(index.utf8)
                let (_, response) = try await URLSession.shared.data(for: request)
                #expect((response as? HTTPURLResponse)?.statusCode == 201)

                let fetched = try await context.fetcher().fetch("\(registry.hostPort)/demo/multi:v1")
                #expect(fetched == wasmModule)
            }
        }
    }

    private func size(of digest: String, _ registry: TestRegistry) async throws -> Int {
        var request = URLRequest(url: URL(string: "\(registry.baseURL)/v2/demo/multi/manifests/\(digest)")!)
        request.setValue(OCIMediaType.imageManifest, forHTTPHeaderField: "Accept")
        let (data, _) = try await URLSession.shared.data(for: request)
        return data.count
    }
}
