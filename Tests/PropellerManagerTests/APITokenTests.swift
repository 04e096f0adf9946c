import Foundation
import Hummingbird
import HummingbirdTesting
import PropellerCore
import PropellerTestSupport
import Testing

@testable import PropellerManager

@Suite("API tokens: 401 without, 403 for writes with a read token, health open")
struct APITokenTests {
    static let admin = "admin-token-0123456789abcdef"
    static let reader = "read-token-0123456789abcdef"
    static var file: String { "# tokens\n\(admin) admin\n\n\(reader)   read\n" }

    static func manager() throws -> TestManager {
        let tokens = try APITokens(parsing: file)
        return TestManager { $0.security.apiTokens = tokens }
    }

    static func headers(_ token: String?) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return headers
    }

    @Test("no token or a wrong one → 401 with WWW-Authenticate: Bearer; health answers without a token")
    func unauthorized() async throws {
        try await Self.manager().withClient { client in
            for token in [nil, "wrong-token-0123456789abcdef", String(Self.admin.dropLast()), Self.admin + "x"] {
                for path in ["/tasks", "/proplets", "/metrics"] {
                    let response = try await client.execute(uri: path, method: .get, headers: Self.headers(token))
                    #expect(response.status == .unauthorized, "\(path) with \(token ?? "no token")")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    #expect(response.errorMessage?.contains("Authorization: Bearer") == true)
                }
            }
            var basic = Self.headers(nil)
            basic[.authorization] = "Basic \(Data("a:\(Self.admin)".utf8).base64EncodedString())"
            #expect(try await client.execute(uri: "/tasks", method: .get, headers: basic).status == .unauthorized)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    @Test("a read token may GET (also /metrics) but POST/DELETE are 403; the admin token creates → 201")
    func roles() async throws {
        try await Self.manager().withClient { client in
            let body = ByteBuffer(string: taskBody())
            let readPost = try await client.execute(
                uri: "/tasks",
                method: .post,
                headers: Self.headers(Self.reader),
                body: body
            )
            #expect(readPost.status == .forbidden)
            #expect(readPost.errorMessage?.contains("admin token") == true)
            let created = try await client.execute(
                uri: "/tasks",
                method: .post,
                headers: Self.headers(Self.admin),
                body: body
            )
            #expect(created.status == .created)
            let id = try #require(try created.json["id"]?.stringValue)
            #expect(
                try await client.execute(uri: "/tasks/\(id)", method: .get, headers: Self.headers(Self.reader)).status
                    == .ok
            )
            #expect(
                try await client.execute(uri: "/metrics", method: .get, headers: Self.headers(Self.reader)).status
                    == .ok
            )
            let readDelete = try await client.execute(
                uri: "/tasks/\(id)",
                method: .delete,
                headers: Self.headers(Self.reader)
            )
            #expect(readDelete.status == .forbidden)
            var headers = HTTPFields()
            headers[.authorization] = "bearer \(Self.admin)"
            #expect(
                try await client.execute(uri: "/tasks/\(id)", method: .delete, headers: headers).status == .noContent
            )
        }
    }

    @Test("without tokens nothing is asked; the tokens file is validated line by line without echoing tokens")
    func parsing() throws {
        #expect(!APITokens.none.isEnabled)
        let tokens = try APITokens(parsing: Self.file)
        #expect(tokens.role(of: Substring(Self.admin)) == .admin)
        #expect(tokens.role(of: Substring(Self.reader)) == .read)
        #expect(tokens.role(of: "") == nil)
        #expect(!"\(tokens)".contains(Self.admin) && "\(tokens)" == "2 tokens (1 admin, 1 read)")
        for (text, problem) in [
            ("\(Self.admin) owner", "line 1: the role must be admin or read"),
            ("short admin", "line 1: a token must be at least 16"),
            ("# only a comment\n", "holds no token"),
            ("\(Self.admin)\n", "line 1: expected `TOKEN ROLE`"),
        ] {
            #expect {
                try APITokens(parsing: text)
            } throws: { error in
                "\(error)".contains(problem) && !"\(error)".contains(Self.admin)
            }
        }
        #expect(APITokens.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!APITokens.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!APITokens.constantTimeEqual(Array("abc".utf8), Array("ab".utf8)))
    }

    @Test("a non-loopback MANAGER_HTTP_HOST without tokens is refused unless MANAGER_ALLOW_UNAUTHENTICATED=true")
    func nonLoopbackBind() throws {
        #expect {
            try ManagerConfiguration(environment: ["MANAGER_HTTP_HOST": "0.0.0.0"])
        } throws: { error in
            "\(error)".contains("MANAGER_HTTP_HOST") && "\(error)".contains("MANAGER_API_TOKENS_FILE")
        }
        for host in ["127.0.0.1", "localhost", "::1"] {
            #expect(try ManagerConfiguration(environment: ["MANAGER_HTTP_HOST": host]).httpHost == host)
        }
        let open = try ManagerConfiguration(environment: [
            "MANAGER_HTTP_HOST": "0.0.0.0", "MANAGER_ALLOW_UNAUTHENTICATED": "true",
        ])
        #expect(open.security.allowUnauthenticated)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try Self.file.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let withTokens = try ManagerConfiguration(environment: [
            "MANAGER_HTTP_HOST": "0.0.0.0", "MANAGER_API_TOKENS_FILE": file.path,
        ])
        #expect(withTokens.security.apiTokens.isEnabled)
        #expect(throws: ConfigurationError.self) {
            try ManagerConfiguration(environment: ["MANAGER_API_TOKENS_FILE": "/nonexistent/tokens"])
        }
        #expect(throws: ConfigurationError.self) {
            try ManagerConfiguration(environment: ["MANAGER_TLS_CERT_FILE": file.path])
        }
    }
}
