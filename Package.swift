// swift-tools-version:6.0
import PackageDescription

/// The clinic revenue-cycle platform: six services that run in one process (`rcm serve`)
/// or one per process. Only the toolchain's modules and Debian C libraries are used.
let package = Package(
    name: "rcm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rcm", targets: ["rcm"])
    ],
    targets: [
        // C libraries from Debian.
        .target(name: "CMicroHTTPD", linkerSettings: [.linkedLibrary("microhttpd")]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPostgreSQL", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Platform building blocks.
        .target(name: "RCMCore", dependencies: ["COpenSSL"]),
        .target(name: "RCMHTTP", dependencies: ["RCMCore", "CMicroHTTPD"]),
        .target(name: "RCMStorage", dependencies: ["RCMCore", "CSQLite", "CPostgreSQL"]),
        .target(name: "RCMEvents", dependencies: ["RCMCore", "RCMStorage"]),

        // The six services.
        .target(name: "PatientService", dependencies: ["RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents"]),
        .target(name: "InsuranceService", dependencies: ["RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents"]),
        .target(name: "BillingService", dependencies: ["RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents"]),
        .target(name: "ClaimService", dependencies: ["RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents"]),
        .target(name: "PaymentService", dependencies: ["RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents"]),
        .target(name: "ReportingService", dependencies: ["RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents"]),

        // Composition and the executable.
        .target(
            name: "RCMPlatform",
            dependencies: [
                "RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents",
                "PatientService", "InsuranceService", "BillingService",
                "ClaimService", "PaymentService", "ReportingService",
            ]
        ),
        .executableTarget(name: "rcm", dependencies: ["RCMPlatform"]),

        // Tests.
        .testTarget(name: "RCMCoreTests", dependencies: ["RCMCore"]),
        .testTarget(name: "RCMHTTPTests", dependencies: ["RCMHTTP"]),
        .testTarget(name: "RCMStorageTests", dependencies: ["RCMStorage"]),
        .testTarget(name: "RCMEventsTests", dependencies: ["RCMEvents", "RCMStorage"]),
        .testTarget(name: "RCMPlatformTests", dependencies: ["RCMPlatform"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)
