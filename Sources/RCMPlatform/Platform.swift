import BillingService
import ClaimService
import Foundation
import IdentityService
import InsuranceService
import PatientService
import PaymentService
import RCMCore
import RCMEvents
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage
import ReportingService

/// The services of one process, wired together: each with its own database, outbox and relay;
/// one HTTP application for all of them; events delivered in-process.
public final class Platform: Sendable {
    /// Every service the platform has, in start order.
    public static let serviceTypes: [any PlatformService.Type] = [
        IdentityService.self, PatientService.self, InsuranceService.self, BillingService.self, ClaimService.self,
        PaymentService.self,
        ReportingService.self,
    ]

    public let configuration: PlatformConfiguration
    public let application: HTTPApplication
    public let databases: [String: any Database]
    public let services: [String: any PlatformService]
    /// Where each service answers: in this process, or over HTTP at its configured URL.
    public let directory: ServiceDirectory
    /// The token-signing keys, shared by every service of this installation.
    public let keys: KeyStore
    public let tokens: TokenSettings
    /// The audit trail of this process's requests (its own database, `audit`).
    public let audit: AuditLog
    let relays: [OutboxRelay]
    /// Set when events travel through RabbitMQ (BrokerWiring.swift).
    let broker: BrokerWiring?
    /// Timed work of the hosted services (eligibility of coming appointments, ...).
    let jobs: JobRunner
    let server: HTTPServer
    let logger = Logger(label: "platform")

    public init(configuration: PlatformConfiguration) throws {
        self.configuration = configuration
        let hosted = try Platform.selectedTypes(configuration.services)

        let subscriptions = Platform.subscriptions

        let directory = ServiceDirectory()
        let transport = InProcessTransport()
        let broker = try BrokerWiring.make(configuration)
        var databases: [String: any Database] = [:]
        var services: [String: any PlatformService] = [:]
        var relays: [OutboxRelay] = []
        var outboxes: [String: Outbox] = [:]
        let router = RouterBuilder()
        let keys = try KeyStore(directory: configuration.keysDirectory)
        let fields = try FieldEncryption(file: configuration.keysDirectory + "/data-keys.json")
        let tokens = TokenSettings()
        let auditDatabase = try Platform.openDatabase(configuration, service: configuration.auditDatabaseName)
        let audit = try AuditLog(database: auditDatabase, keys: keys)
        databases["audit"] = auditDatabase
        for type in hosted {
            let database = try Platform.openDatabase(configuration, service: type.name)
            try Migrator.migrate(database, type.migrations)
            let outbox = Outbox(service: type.name, database: database, subscriptions: subscriptions)
            let service = type.init(
                environment: ServiceEnvironment(
                    database: database, outbox: outbox, services: directory, currency: configuration.currency,
                    logger: Logger(label: type.name), keys: keys, tokens: tokens, fields: fields, audit: audit))
            service.registerRoutes(router)
            if let consumer = service.consumer {
                transport.register(consumer)
                broker?.add(consumer)
            }
            databases[type.name] = database
            outboxes[type.name] = outbox
            services[type.name] = service
            var relayPolicy = OutboxRelay.Policy()
            relayPolicy.niceness = configuration.relayNiceness
            relays.append(OutboxRelay(outbox: outbox, transport: broker?.transport ?? transport, policy: relayPolicy))
        }
        Platform.registerOperations(router, databases: databases, audit: audit)
        // Metrics of this platform (requests, gauges read from its databases) and of the process
        // (event delivery counters).
        let metrics = Metrics()
        PlatformMetrics.describe(metrics)
        metrics.collect(PlatformMetrics.collectors(databases: databases, outboxes: outboxes))
        router.get("/metrics") { _, _ in
            HTTPResponse(
                status: 200, headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]),
                body: Array((metrics.render() + Metrics.shared.render()).utf8))
        }

        let limiter =
            configuration.rateLimitPerSecond > 0
            ? RateLimiter(
                capacity: configuration.rateLimitPerSecond * 2, perSecond: Double(configuration.rateLimitPerSecond))
            : nil
        // Tokens are verified with this process's keys, or — when identity runs elsewhere — with the
        // identity service's JWKS, so that no other process needs its private key.
        let verification: any PublicKeySource
        if services["identity"] == nil, configuration.serviceURLs["identity"] != nil {
            verification = RemoteKeySet(services: directory, local: keys)
        } else {
            verification = keys
        }
        let guardian = AccessGuard(keys: verification, settings: tokens, audit: audit, limiter: limiter)
        let application = HTTPApplication(
            router: router.build(wrapping: { route, handler in
                PlatformMetrics.wrap(route, guardian.wrap(route, handler), metrics: metrics)
            }), limits: configuration.limits)
        // The audit trail is served by every process; export reads it in-process.
        directory.bind("audit", to: InProcessServiceClient(application: application))
        for type in Platform.serviceTypes {
            if services[type.name] != nil {
                directory.bind(type.name, to: InProcessServiceClient(application: application))
            } else if let url = configuration.serviceURLs[type.name] {
                directory.bind(type.name, to: RemoteServiceClient(baseURL: url))
            }
        }
        self.application = application
        self.directory = directory
        self.keys = keys
        self.tokens = tokens
        self.audit = audit
        self.databases = databases
        self.services = services
        self.relays = relays
        self.broker = broker
        self.jobs = JobRunner(jobs: services.values.flatMap(\.jobs))
        if let endpoint = configuration.traceEndpoint {
            Tracing.configure(
                endpoint: endpoint, serviceName: "rcm-" + services.keys.sorted().joined(separator: "+"),
                ratio: configuration.traceSampleRatio)
        }
        var tls: (key: String, certificate: String)?
        switch (configuration.tlsKeyFile, configuration.tlsCertificateFile) {
        case (let keyFile?, let certificateFile?):
            tls = (
                try String(contentsOfFile: keyFile, encoding: .utf8),
                try String(contentsOfFile: certificateFile, encoding: .utf8)
            )
        case (nil, nil):
            tls = nil
        default:
            throw UsageError("HTTPS needs both a key (--tls-key) and a certificate (--tls-cert)")
        }
        self.server = HTTPServer(
            application: application,
            configuration: HTTPServer.Configuration(
                host: configuration.host, port: configuration.port, limits: configuration.limits, tls: tls))
    }

    /// Which service consumes which events: every service's, hosted in this process or not.
    static var subscriptions: Subscriptions {
        var subscriptions = Subscriptions()
        for type in Platform.serviceTypes where !type.subscribedTypes.isEmpty {
            subscriptions.add(type.name, patterns: type.subscribedTypes)
        }
        return subscriptions
    }

    static func selectedTypes(_ names: [String]?) throws -> [any PlatformService.Type] {
        guard let names else { return serviceTypes }
        let known = Set(serviceTypes.map { $0.name })
        for name in names where !known.contains(name) {
            throw UsageError(
                "unknown service '\(name)'; services are \(serviceTypes.map { $0.name }.joined(separator: ", "))")
        }
        return serviceTypes.filter { names.contains($0.name) }
    }

    static func openDatabase(_ configuration: PlatformConfiguration, service: String) throws -> any Database {
        try DatabaseFactory.open(
            url: configuration.databaseURL, dataDirectory: configuration.dataDirectory, service: service,
            schemaPrefix: configuration.schemaPrefix)
    }

    /// A short-lived token for the installation's own work (loading demo data, tools): `sub` is
    /// `system`, with the roles given, in the configured organization.
    public func systemToken(roles: [Role] = [.admin], lifetime: Int64 = 300) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let claims = AccessClaims(
            iss: tokens.issuer, aud: tokens.audience, sub: "system", org: configuration.organizationId,
            roles: roles.map(\.rawValue), locations: [], iat: now, exp: now + lifetime, jti: Identifier.make("jti"))
        return try JWT.sign(claims, with: keys.active)
    }

    /// Starts event delivery; call `serve()` to take HTTP traffic too.
    public func startEventDelivery() {
        guard configuration.eventDelivery else {
            logger.warning("event delivery is off (RCM_EVENT_DELIVERY); events wait in the outboxes")
            return
        }
        broker?.start()
        relays.forEach { $0.start() }
        jobs.start()
    }

    /// Runs every scheduled job once, now (tests and tools).
    public func runJobsOnce() throws {
        for job in jobs.jobs { try job.run() }
    }

    /// Delivers everything due now, synchronously, until nothing moves (tests and `rcm` tools).
    public func drainEvents(maxRounds: Int = 50) throws {
        if let broker { return try broker.drain(relays: relays, maxRounds: maxRounds) }
        for _ in 0..<maxRounds {
            var moved = 0
            for relay in relays { moved += try relay.relayOnce() }
            if moved == 0 { return }
        }
    }

    /// Listens for HTTP; returns the bound port.
    @discardableResult
    public func serve() throws -> UInt16 {
        try server.start()
        logger.info(
            "listening",
            [
                "http.host": configuration.host, "http.port": String(server.port),
                "services": services.keys.sorted().joined(separator: ","),
                "storage": configuration.databaseURL == nil ? "sqlite" : "postgres",
                "http.scheme": configuration.tlsKeyFile == nil ? "http" : "https",
            ])
        return server.port
    }

    /// Graceful stop: no new connections, in-flight requests finish, relays finish their batch, databases close.
    public func shutdown() {
        server.shutdown()
        jobs.stop()
        relays.forEach { $0.stop() }
        broker?.stop()
        do {
            try audit.checkpoint()
        } catch {
            logger.error("could not sign the audit trail's head", ["error": String(describing: error)])
        }
        databases.values.forEach { $0.close() }
        logger.info("stopped")
    }

    /// Blocks until SIGTERM or SIGINT, then shuts down gracefully.
    public func waitForTermination() {
        let signalled = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { signalled.signal() }
            source.resume()
            sources.append(source)
        }
        signalled.wait()
        logger.info("signal received; shutting down")
        shutdown()
        sources.forEach { $0.cancel() }
    }

    // MARK: Health and operations

    static func registerOperations(_ router: RouterBuilder, databases all: [String: any Database], audit: AuditLog) {
        let databases = all.filter { $0.key != "audit" }  // the services' databases, which have outboxes
        router.get("/api/audit/events") { request, context in
            var filter = AuditLog.Filter()
            filter.actor = request.query["userId"]
            filter.resourceType = request.query["resourceType"]
            filter.resourceId = request.query["resourceId"] ?? request.query["patientId"]
            filter.from = request.query["from"]
            filter.to = request.query["to"]
            if let after = request.query["cursor"] {
                guard let seq = Int64(after) else { throw Problem.invalid(pointer: "query:cursor", "must be a number") }
                filter.after = seq
            }
            let limit = try request.pageLimit(fallback: 100, maximum: 1000)
            filter.limit = limit
            let events = try audit.events(organizationId: context.organizationId, filter)
            return try .json(Page(items: events, limit: limit, cursor: { String($0.seq) }))
        }
        let ok: [UInt8] = Array(#"{"status":"ok"}"#.utf8)
        router.get("/health/live") { _, _ in
            HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: ok)
        }
        router.get("/health/ready") { _, _ in
            var checks: [String: String] = [:]
            for (name, database) in all { checks[name] = database.ping() ? "up" : "down" }
            let ready = !checks.values.contains("down")
            struct Readiness: Encodable {
                let status: String
                let databases: [String: String]
            }
            return try .json(
                Readiness(status: ready ? "ready" : "unavailable", databases: checks), status: ready ? 200 : 503)
        }
        router.group("/api/events") { events in
            events.get("/dead-letters") { _, _ in
                var letters: [DeadLetter] = []
                for name in databases.keys.sorted() {
                    if let database = databases[name] { letters += try DeadLetters.list(in: database) }
                }
                return try .json(["items": letters])
            }
            events.post("/dead-letters/{eventId}/replay") { _, context in
                var replayed = 0
                for database in databases.values {
                    replayed += try DeadLetters.replay(eventId: context.parameter("eventId"), in: database)
                }
                guard replayed > 0 else {
                    throw Problem.notFound("No dead letter for event \(context.parameter("eventId")).")
                }
                return try .json(["replayed": replayed])
            }
        }
    }
}
