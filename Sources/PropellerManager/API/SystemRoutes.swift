import Hummingbird
import NIOCore
import PropellerCore

/// `GET /health`, `GET /health/ready` and `GET /metrics` (Prometheus text exposition 0.0.4).
///
/// `/health` always answers 200 with `{status, version, mqtt, storage}`: `status` is `ok` when MQTT is
/// connected and the store is writable, else `degraded`. `/health/ready` answers 200 only then, 503
/// otherwise, with the same body (for load balancers and orchestrators).
struct SystemRoutes<Context: RequestContext> {
    let metrics: ManagerMetrics
    let health: HealthCheck

    func register(on router: Router<Context>) {
        router.get("health") { request, _ in
            _ = try QueryParameters(request, accepted: [])
            return try JSONBody.response(HealthBody(await health.run()))
        }
        router.get("health/ready") { request, _ in
            _ = try QueryParameters(request, accepted: [])
            let report = await health.run()
            return try JSONBody.response(HealthBody(report), status: report.isReady ? .ok : .serviceUnavailable)
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

extension HealthBody {
    init(_ report: HealthCheck.Report) {
        self.init(
            status: report.isReady ? "ok" : "degraded",
            version: PropellerVersion.current,
            mqtt: report.mqttConnected ? "connected" : "disconnected",
            storage: report.storageError ?? "ok"
        )
    }
}
