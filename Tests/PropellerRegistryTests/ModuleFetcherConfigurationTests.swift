import Testing

@testable import PropellerRegistry

@Suite("Module fetcher configuration")
struct ModuleFetcherConfigurationTests {
    @Test("defaults: 100 MiB cap, 60 s timeout, cache under the state directory")
    func defaults() throws {
        let configuration = try ModuleFetcherConfiguration(environment: [:], stateDirectory: "/var/lib/proplet")
        #expect(configuration.cacheDirectory == "/var/lib/proplet/modules")
        #expect(configuration.maxModuleBytes == 100 * 1024 * 1024)
        #expect(configuration.timeoutSeconds == 60)
        #expect(configuration.defaultRegistry == nil)
        #expect(configuration.insecureRegistries.isEmpty)
        #expect(configuration.username == nil)
    }

    @Test("reads every PROPLET_REGISTRY_* variable and the size cap")
    func readsEnvironment() throws {
        let configuration = try ModuleFetcherConfiguration(
            environment: [
                "PROPLET_REGISTRY_URL": "http://127.0.0.1:5000",
                "PROPLET_REGISTRY_USERNAME": "alice",
                "PROPLET_REGISTRY_PASSWORD": "secret",
                "PROPLET_REGISTRY_INSECURE": "registry.lan:5000, 10.0.0.5:5000",
                "PROPLET_MODULE_MAX_BYTES": "2048",
            ],
            stateDirectory: "/tmp/state/"
        )
        #expect(configuration.cacheDirectory == "/tmp/state/modules")
        #expect(configuration.defaultRegistry == "http://127.0.0.1:5000")
        #expect(configuration.username == "alice")
        #expect(configuration.password == "secret")
        #expect(configuration.insecureRegistries == ["registry.lan:5000", "10.0.0.5:5000"])
        #expect(configuration.maxModuleBytes == 2048)
    }

    @Test(
        "names the variable with a bad value",
        arguments: [
            ("PROPLET_MODULE_MAX_BYTES", "lots"),
            ("PROPLET_MODULE_MAX_BYTES", "0"),
            ("PROPLET_REGISTRY_URL", "ftp://x"),
            ("PROPLET_REGISTRY_URL", "host:port"),
            ("PROPLET_REGISTRY_INSECURE", "a b"),
            ("PROPLET_REGISTRY_PASSWORD", "secret"),
        ]
    )
    func rejects(variable: String, value: String) {
        #expect {
            try ModuleFetcherConfiguration(environment: [variable: value], stateDirectory: "/tmp")
        } throws: { error in
            let error = error as? ModuleFetcherConfigurationError
            return error?.variable == variable && error?.description.hasPrefix(variable) == true
        }
    }
}
