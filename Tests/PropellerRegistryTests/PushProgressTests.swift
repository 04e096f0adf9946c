import Foundation
import PropellerRegistry
import PropellerTestSupport
import Synchronization
import Testing

/// `ModulePusher`'s progress reports against a real registry.
@Suite("push progress")
struct PushProgressTests {
    @Test(
        "a layer's upload is reported as its bytes leave, in order, then once as uploaded; a second push as already present"
    )
    func reportsLayerUpload() async throws {
        let module = PaddedModule.bytes(8 << 20)
        let digest = SHA256.ociDigest(of: module)
        try await withRegistry { registry in
            try await RegistryTestContext.with { context in
                let reports = ProgressRecorder()
                let pusher = ModulePusher(configuration: context.configuration(), logger: context.logger) { progress in
                    reports.append(progress)
                }
                try await pusher.push(module: module, to: "\(registry.hostPort)/progress/large:v1")
                let layer = reports.all.filter { $0.digest == digest }
                #expect(layer.allSatisfy { $0.blob == "module.wasm" && $0.totalBytes == module.count })
                let uploading = layer.filter { $0.phase == .uploading }.map(\.bytesSent)
                #expect(uploading.count > 1, "reports while uploading: \(uploading)")
                #expect(uploading == uploading.sorted() && uploading.allSatisfy { $0 > 0 && $0 <= module.count })
                #expect(
                    layer.last
                        == PushProgress(
                            blob: "module.wasm",
                            digest: digest,
                            bytesSent: module.count,
                            totalBytes: module.count,
                            phase: .uploaded
                        )
                )
                #expect(layer.filter { $0.phase != .uploading }.count == 1)
                let config = reports.all.filter { $0.blob == "config" }
                #expect(config.last?.phase == .uploaded, "\(config)")

                reports.removeAll()
                try await pusher.push(module: module, to: "\(registry.hostPort)/progress/large:v2")
                let second = reports.all
                #expect(second.count == 2 && second.allSatisfy { $0.phase == .alreadyPresent }, "\(second)")
            }
        }
    }
}

/// The progress reports a pusher made, collected from URLSession's delegate queue.
final class ProgressRecorder: Sendable {
    private let reports = Mutex<[PushProgress]>([])

    var all: [PushProgress] { reports.withLock { $0 } }

    func append(_ progress: PushProgress) { reports.withLock { $0.append(progress) } }

    func removeAll() { reports.withLock { $0.removeAll() } }
}
