// swift-tools-version: 6.2
import PackageDescription

/// One set of compiler settings for every target: Swift 6 language mode, strict concurrency.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "propeller",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "propeller", targets: ["propeller"]),
        .executable(name: "propeller-wasm", targets: ["propeller-wasm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(
            url: "https://github.com/hummingbird-project/hummingbird.git",
            from: "2.28.1",
            traits: ["FullFoundation"]
        ),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swiftwasm/WasmKit.git", from: "0.4.2", traits: ["MultiThread"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        // MARK: System libraries
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),

        // MARK: Libraries
        .target(
            name: "PropellerCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PropellerMQTT",
            dependencies: [
                "CMosquitto",
                "PropellerCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PropellerMonitoring",
            dependencies: ["PropellerCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PropellerWasm",
            dependencies: [
                "PropellerCore",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WASI", package: "WasmKit"),
                .product(name: "WasmKitWASI", package: "WasmKit"),
                .product(name: "WasmParser", package: "WasmKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PropellerProplet",
            dependencies: [
                "PropellerCore",
                "PropellerMQTT",
                "PropellerMonitoring",
                "PropellerRegistry",
                "PropellerWasm",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PropellerManager",
            dependencies: [
                "PropellerCore",
                "PropellerMQTT",
                "PropellerMonitoring",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
            ],
            // The live web page: static files served as they are (no build step).
            resources: [.copy("Web/static")],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "PropellerLauncher",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "PropellerRegistry",
            dependencies: [
                "PropellerCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Executables
        .executableTarget(
            name: "propeller",
            dependencies: [
                "PropellerCore",
                "PropellerLauncher",
                "PropellerProplet",
                "PropellerManager",
                "PropellerRegistry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "WAT", package: "WasmKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "propeller-wasm",
            dependencies: ["PropellerCore", "PropellerWasm"],
            swiftSettings: swiftSettings
        ),

        // MARK: Test support and tests
        .target(
            name: "PropellerTestSupport",
            dependencies: [
                "PropellerLauncher",
                "PropellerMQTT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "WAT", package: "WasmKit"),
            ],
            path: "Tests/PropellerTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PropellerCoreTests",
            dependencies: ["PropellerCore", "PropellerTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PropellerMonitoringTests",
            dependencies: ["PropellerCore", "PropellerMonitoring", "PropellerTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PropellerMQTTTests",
            dependencies: [
                "PropellerCore",
                "PropellerLauncher",
                "PropellerMQTT",
                "PropellerTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PropellerWasmTests",
            dependencies: [
                "PropellerCore",
                "PropellerLauncher",
                "PropellerWasm",
                "PropellerTestSupport",
                .product(name: "WasmKit", package: "WasmKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PropellerPropletTests",
            dependencies: [
                "PropellerCore",
                "PropellerLauncher",
                "PropellerMQTT",
                "PropellerProplet",
                "PropellerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PropellerManagerTests",
            dependencies: [
                "PropellerCore",
                "PropellerLauncher",
                "PropellerMQTT",
                "PropellerManager",
                "PropellerMonitoring",
                "PropellerTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "PropellerCore",
                "PropellerLauncher",
                "PropellerMQTT",
                "PropellerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "WAT", package: "WasmKit"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "PropellerRegistryTests",
            dependencies: [
                "PropellerLauncher",
                "PropellerRegistry",
                "PropellerTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (each helper appends its own executable targets below this line)
        .executableTarget(
            name: "sampler-bench",
            dependencies: ["PropellerCore", "PropellerMonitoring"],
            path: "Benchmarks/sampler/Sources/sampler-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "naive-sampler",
            path: "Benchmarks/sampler/naive"
        ),
        .executableTarget(
            name: "propeller-mqtt-bench",
            dependencies: [
                "PropellerMQTT",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/mqtt/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "store-query-bench",
            dependencies: [
                "PropellerCore",
                "PropellerManager",
                "PropellerMonitoring",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/query/Sources/store-query-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "module-fetch-bench",
            dependencies: [
                "PropellerLauncher",
                "PropellerRegistry",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/module-fetch/Sources/module-fetch-bench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "postgres-store-bench",
            dependencies: [
                "PropellerCore",
                "PropellerManager",
                "PropellerMonitoring",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/postgres/Sources/postgres-store-bench",
            swiftSettings: swiftSettings
        ),
    ]
)
