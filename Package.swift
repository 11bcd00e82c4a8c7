// swift-tools-version:6.0
import PackageDescription

/// The clinic revenue-cycle platform: six services that run in one process (`rcm serve`)
/// or one per process. Only the toolchain's modules and Debian C libraries are used.
let package = Package(
    name: "rcm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rcm", targets: ["rcm"]),
        .executable(name: "rcm-scrub-bench", targets: ["rcm-scrub-bench"]),
    ],
    targets: [
        // C libraries from Debian.
        .target(name: "CMicroHTTPD", linkerSettings: [.linkedLibrary("microhttpd")]),
        .target(name: "CSecurityShim", linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("argon2")]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // A VFS over SQLite's own that writes each WAL commit with one call (see vfs.c).
        .target(name: "CSQLiteVFS", linkerSettings: [.linkedLibrary("sqlite3")]),
        .systemLibrary(name: "CPostgreSQL", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Platform building blocks.
        .target(name: "RCMCore", dependencies: ["COpenSSL"]),
        .target(name: "RCMHTTP", dependencies: ["RCMCore", "CMicroHTTPD"]),
        .target(name: "RCMStorage", dependencies: ["RCMCore", "CSQLite", "CSQLiteVFS", "CPostgreSQL"]),
        .target(name: "RCMEvents", dependencies: ["RCMCore", "RCMStorage"]),
        .target(name: "RCMSecurity", dependencies: ["RCMCore", "CSecurityShim"]),
        .target(name: "RCMServiceKit", dependencies: ["RCMCore", "RCMHTTP", "RCMStorage", "RCMEvents", "RCMSecurity"]),
        // Event transport over RabbitMQ (AMQP 0-9-1, rabbitmq-c).
        .target(name: "RCMRabbitMQ", dependencies: ["RCMCore", "RCMEvents", "RCMStorage", "CRabbitMQ"]),
        // X12 5010 EDI: tokenizer, envelopes, loops, writer, validation, eligibility (270/271).
        .target(name: "RCMX12", dependencies: ["RCMCore"]),
        // Healthcare formats: FHIR R4 resources.
        .target(name: "RCMFHIR", dependencies: ["RCMCore"]),
        // Medical code sets: ICD-10-CM (full release), HCPCS Level II, CPT format checks, local codes.
        .target(
            name: "RCMCodes", dependencies: ["RCMCore"], exclude: ["README.md"],
            resources: [.copy("Resources/icd10cm-2026.tsv"), .copy("Resources/hcpcs-sample.txt")]),
        // Claim scrubber: rule catalog (data) and checks (code), NCCI PTP/MUE importers, payer tables.
        .target(name: "RCMScrubber", dependencies: ["RCMCore"], resources: [.copy("Resources")]),

        // Identity (users and tokens) and the six services.
        .target(name: "IdentityService", dependencies: ["RCMServiceKit"]),
        .target(name: "PatientService", dependencies: ["RCMServiceKit"]),
        .target(name: "InsuranceService", dependencies: ["RCMServiceKit", "RCMX12", "RCMFHIR"]),
        .target(name: "BillingService", dependencies: ["RCMServiceKit", "RCMCodes", "RCMScrubber"]),
        .target(name: "ClaimService", dependencies: ["RCMServiceKit"]),
        .target(name: "PaymentService", dependencies: ["RCMServiceKit"]),
        .target(name: "ReportingService", dependencies: ["RCMServiceKit"]),

        // Composition and the executable.
        .target(
            name: "RCMPlatform",
            dependencies: [
                "RCMServiceKit", "IdentityService", "PatientService", "InsuranceService", "BillingService",
                "ClaimService", "PaymentService", "ReportingService", "RCMX12", "RCMCodes", "RCMRabbitMQ",
            ]
        ),
        .executableTarget(name: "rcm", dependencies: ["RCMPlatform"]),
        // Scrubber benchmark: synthetic claims with labelled errors, recall/precision, throughput.
        .executableTarget(name: "rcm-scrub-bench", dependencies: ["RCMScrubber", "RCMCore"]),

        // Tests.
        .target(name: "RCMTestSupport", dependencies: ["RCMStorage"], path: "Tests/Support"),
        .testTarget(name: "RCMCoreTests", dependencies: ["RCMCore"]),
        .testTarget(name: "RCMHTTPTests", dependencies: ["RCMHTTP", "RCMSecurity"]),
        .testTarget(name: "RCMStorageTests", dependencies: ["RCMStorage", "RCMTestSupport"]),
        .testTarget(name: "RCMEventsTests", dependencies: ["RCMEvents", "RCMStorage", "RCMTestSupport"]),
        .testTarget(
            name: "RCMRabbitMQTests", dependencies: ["RCMRabbitMQ", "RCMEvents", "RCMStorage", "RCMTestSupport"]),
        .testTarget(name: "RCMSecurityTests", dependencies: ["RCMSecurity"]),
        .testTarget(name: "RCMServiceKitTests", dependencies: ["RCMServiceKit", "RCMTestSupport"]),
        .testTarget(name: "RCMPlatformTests", dependencies: ["RCMPlatform", "IdentityService", "RCMTestSupport"]),
        .testTarget(name: "BillingServiceTests", dependencies: ["BillingService"]),
        .testTarget(name: "ClaimServiceTests", dependencies: ["ClaimService"]),
        .testTarget(name: "RCMX12Tests", dependencies: ["RCMX12", "RCMCore"]),
        .testTarget(name: "RCMCodesTests", dependencies: ["RCMCodes", "RCMCore"]),
        .testTarget(name: "RCMScrubberTests", dependencies: ["RCMScrubber", "RCMCore"]),
    ],
    swiftLanguageModes: [.v6]
)
