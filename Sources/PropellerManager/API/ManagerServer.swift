import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import NIOSSL
import Synchronization

/// How the manager's HTTP server is built from `ManagerSecurityConfiguration` (SPEC §7 "slow or huge
/// clients"): HTTP/1.1, HTTPS when a certificate is configured, an idle timeout that closes a
/// connection sending nothing (a half-open connection, a stalled header or body), and a bound on
/// concurrent connections.
enum ManagerServer {
    /// The server builder.
    ///
    /// - Throws: `ManagerServerError` naming the file when the certificate or key cannot be loaded.
    static func builder(_ security: ManagerSecurityConfiguration) throws -> HTTPServerBuilder {
        let limiter = ConnectionLimiter(limit: security.maxConnections)
        let http = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionLimitHandler(limiter: limiter)],
                idleTimeout: .seconds(Int64(security.idleTimeoutSeconds))
            )
        )
        guard let certificateFile = security.tlsCertificateFile, let keyFile = security.tlsKeyFile else { return http }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ManagerServerError(file: certificateFile, reason: "not a PEM certificate chain (\(error))")
        }
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw ManagerServerError(file: keyFile, reason: "not an unencrypted PEM private key (\(error))")
        }
        guard !chain.isEmpty else { throw ManagerServerError(file: certificateFile, reason: "holds no certificate") }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        tls.minimumTLSVersion = .tlsv12
        return try .tls(http, tlsConfiguration: tls)
    }
}

/// The manager's TLS certificate or key could not be loaded.
public struct ManagerServerError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// Why it was rejected.
    public var reason: String
    /// `FILE: reason`.
    public var description: String { "\(file): \(reason)" }
}

/// Counts the server's open connections.
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot; false (and nothing taken) when every slot is in use.
    func acquire() -> Bool {
        if open.add(1, ordering: .relaxed).newValue <= limit { return true }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    /// Gives a slot back.
    func release() {
        open.subtract(1, ordering: .relaxed)
    }

    /// Connections open now.
    var count: Int { open.load(ordering: .relaxed) }
}

/// Closes a new connection when `ConnectionLimiter` has no free slot; frees the slot when the
/// connection ends.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let limiter: ConnectionLimiter
    private var holdsSlot = false

    init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        holdsSlot = limiter.acquire()
        if !holdsSlot { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if holdsSlot { limiter.release() }
        holdsSlot = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }
}
