import Foundation
import RCMCore
import RCMHTTP
import RCMStorage
import RCMTestSupport

@testable import RCMPlatform

/// A whole platform in this process, on a fresh database, with the demo organization loaded.
final class TestPlatform: Sendable {
    let platform: Platform
    let configuration: PlatformConfiguration
    var app: HTTPApplication { platform.application }

    static let specificationBody = """
        {"patientId": "P10001",
         "services": [{"code": "OPD001", "description": "Doctor Consultation", "cost": 400},
                      {"code": "LAB025", "description": "Blood Test", "cost": 250}]}
        """

    /// An admin's token for the requests of `post`, `get` and `request`.
    let token: String

    init(
        demo: Bool = true, deliverInBackground: Bool = false, services: [String]? = nil,
        serviceURLs: [String: URL] = [:], keysDirectory: String? = nil, rateLimit: Int = 0,
        transport: EventTransportKind? = nil, amqpNamespace: String? = nil,
        configure: (inout PlatformConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = PlatformConfiguration()
        if (transport ?? TestPlatform.defaultTransport) == .rabbitmq {
            // Events through the test broker, with exchange and queue names of this platform's own.
            configuration.eventTransport = .rabbitmq
            configuration.amqpURL = try TestPlatform.amqpURL()
            configuration.amqpNamespace = amqpNamespace ?? "t" + UUID().uuidString.prefix(8).lowercased()
        }
        configuration.keysDirectoryOverride = keysDirectory
        configuration.rateLimitPerSecond = rateLimit
        configuration.services = services
        configuration.serviceURLs = serviceURLs
        configuration.dataDirectory = TestDatabases.temporaryDirectory()
        configuration.databaseURL = TestDatabases.postgresURL
        configuration.schemaPrefix = TestDatabases.schemaPrefix()
        configuration.port = 0
        configure(&configuration)
        self.configuration = configuration
        platform = try Platform(configuration: configuration)
        token = try platform.systemToken(roles: [.admin], lifetime: 3600)
        if demo {
            try DemoData.load(into: platform)
            try platform.drainEvents()
        }
        if deliverInBackground { platform.startEventDelivery() }
    }

    /// `RCM_TEST_EVENT_TRANSPORT=rabbitmq` runs every platform test with events through RabbitMQ.
    static var defaultTransport: EventTransportKind {
        ProcessInfo.processInfo.environment["RCM_TEST_EVENT_TRANSPORT"].flatMap(EventTransportKind.init(name:))
            ?? .inProcess
    }

    struct BrokerNotConfigured: Error, CustomStringConvertible {
        let description =
            "RCM_TEST_AMQP_URL is not set: start a node with `bash scripts/rabbitmq.sh start` and export "
            + "RCM_TEST_AMQP_URL=$(bash scripts/rabbitmq.sh url), or set RCM_SKIP_BROKER_TESTS=1 to skip the broker tests"
    }

    static func amqpURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["RCM_TEST_AMQP_URL"], !url.isEmpty else {
            throw BrokerNotConfigured()
        }
        return url
    }

    static var brokerTestsSkipped: Bool { ProcessInfo.processInfo.environment["RCM_SKIP_BROKER_TESTS"] == "1" }

    deinit {
        platform.shutdown()
        platform.broker?.deleteTopology()
        try? FileManager.default.removeItem(atPath: configuration.dataDirectory)
    }

    /// A request with the admin's token (unless `headers` bring their own Authorization).
    func request(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: String = ""
    ) -> HTTPResponse {
        let authorization = headers.contains { $0.0 == "Authorization" } ? [] : [("Authorization", "Bearer " + token)]
        return app.test(method, path, headers: authorization + headers, body: Array(body.utf8))
    }

    func post(_ path: String, _ body: String, headers: [(String, String)] = []) -> HTTPResponse {
        request(.POST, path, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    func get(_ path: String, headers: [(String, String)] = []) -> HTTPResponse { request(.GET, path, headers: headers) }

    func json(_ path: String) throws -> [String: Any] {
        let response = get(path)
        guard response.status == 200 else {
            throw DemoData.LoadError(description: "\(path): \(response.status) \(response.bodyText)")
        }
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
    }

    /// Rows of a service's own table, for checking that nothing was written.
    func count(_ service: String, _ table: String) throws -> Int {
        guard let database = platform.databases[service] else { return -1 }
        return try database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)")?.int("n") ?? -1 }
    }
}

extension HTTPResponse {
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
    }
}

/// Numbers from JSONSerialization, compared exactly as decimals.
func decimal(_ value: Any?) -> Decimal? {
    switch value {
    case let number as NSNumber: return Decimal(string: number.stringValue)
    case let text as String: return Decimal(string: text)
    default: return nil
    }
}
