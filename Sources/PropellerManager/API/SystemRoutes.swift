import Hummingbird
import NIOCore
import PropellerCore

/// `GET /health` and `GET /metrics` (Prometheus text exposition 0.0.4).
struct SystemRoutes<Context: RequestContext> {
    let metrics: ManagerMetrics

    func register(on router: Router<Context>) {
        router.get("health") { request, _ in
            _ = try QueryParameters(request, accepted: [])
            return try JSONBody.response(HealthBody(status: "ok", version: PropellerVersion.current))
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
    }
}
