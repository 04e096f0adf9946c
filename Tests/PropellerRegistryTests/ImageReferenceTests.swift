import Testing

@testable import PropellerRegistry

@Suite("OCI references")
struct ImageReferenceTests {
    private static let digest = "sha256:" + String(repeating: "ab", count: 32)

    @Test(
        "parses registry, repository, tag and digest",
        arguments: [
            ("127.0.0.1:5000/demo/add:v1", nil, "127.0.0.1:5000", "demo/add", "v1", nil),
            ("localhost/add", nil, "localhost", "add", "latest", nil),
            ("docker.io/myorg/compute:v1", nil, "registry-1.docker.io", "myorg/compute", "v1", nil),
            ("alpine", nil, "registry-1.docker.io", "library/alpine", "latest", nil),
            ("myorg/compute:v2", "127.0.0.1:5000", "127.0.0.1:5000", "myorg/compute", "v2", nil),
            ("myorg/compute:v2", "http://127.0.0.1:5000/", "127.0.0.1:5000", "myorg/compute", "v2", nil),
            ("ghcr.io/a/b@\(digest)", nil, "ghcr.io", "a/b", nil, digest),
            ("ghcr.io/a/b:v1@\(digest)", nil, "ghcr.io", "a/b", "v1", digest),
            ("oci://reg.lan:443/x/y_z.w-v:1.0", nil, "reg.lan:443", "x/y_z.w-v", "1.0", nil),
        ] as [(String, String?, String, String, String?, String?)]
    )
    func parses(
        text: String,
        defaultRegistry: String?,
        registry: String,
        repository: String,
        tag: String?,
        digest: String?
    ) throws {
        let reference = try ImageReference(parsing: text, defaultRegistry: defaultRegistry)
        #expect(reference.registry.hostPort == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
        #expect(reference.digest == digest)
        #expect(reference.manifestReference == (digest ?? tag))
    }

    @Test(
        "rejects malformed references with the reason",
        arguments: [
            ("", "empty"),
            ("reg.lan/Upper/case", "repository"),
            ("reg.lan/a//b", "repository"),
            ("reg.lan/a:-bad", "tag"),
            ("reg.lan/a@sha256:1234", "digest"),
            ("reg.lan/a@md5:" + String(repeating: "0", count: 32), "digest"),
            ("reg.lan:99999/a", "port"),
        ]
    )
    func rejects(text: String, reasonWord: String) {
        #expect {
            try ImageReference(parsing: text, defaultRegistry: nil)
        } throws: { error in
            guard case .badReference(let reference, let reason) = error as? ModuleFetchError else { return false }
            return reference == text && reason.contains(reasonWord)
        }
    }

    @Test("treats loopback hosts as loopback and others not")
    func loopback() throws {
        #expect(try RegistryEndpoint(parsing: "127.0.0.1:5000").isLoopback)
        #expect(try RegistryEndpoint(parsing: "localhost:5000").isLoopback)
        #expect(try RegistryEndpoint(parsing: "[::1]:5000").isLoopback)
        #expect(try !RegistryEndpoint(parsing: "registry.lan:5000").isLoopback)
    }

    @Test("parses WWW-Authenticate challenges")
    func challenges() throws {
        let bearer = try #require(
            AuthChallenge(
                header:
                    #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#
            )
        )
        #expect(bearer.scheme == "bearer")
        #expect(bearer.parameters["realm"] == "https://auth.example/token")
        #expect(bearer.parameters["service"] == "registry.example")
        #expect(bearer.parameters["scope"] == "repository:a/b:pull")
        let basic = try #require(AuthChallenge(header: "Basic realm=Registry"))
        #expect(basic.scheme == "basic")
        #expect(basic.parameters["realm"] == "Registry")
    }
}
