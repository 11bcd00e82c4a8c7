import RCMCore
import RCMEvents
import RCMHTTP
import RCMSecurity
import RCMStorage
import Synchronization

/// What a service is given by the platform that hosts it.
public struct ServiceEnvironment: Sendable {
    public let database: any Database
    public let outbox: Outbox
    public let services: ServiceDirectory
    /// ISO 4217 code of the organization's currency.
    public let currency: String
    public let logger: Logger
    /// The token-signing keys (the identity service signs; every service verifies).
    public let keys: KeyStore
    public let tokens: TokenSettings
    /// Field-level encryption of identifiers and sensitive PHI.
    public let fields: FieldEncryption
    /// The audit trail, for events a route's own entry cannot name (whose login failed).
    public let audit: AuditLog?

    public init(
        database: any Database, outbox: Outbox, services: ServiceDirectory, currency: String, logger: Logger,
        keys: KeyStore, tokens: TokenSettings, fields: FieldEncryption, audit: AuditLog? = nil
    ) {
        self.fields = fields
        self.audit = audit
        self.database = database
        self.outbox = outbox
        self.services = services
        self.currency = currency
        self.logger = logger
        self.keys = keys
        self.tokens = tokens
    }
}

/// One of the six services: its name, schema, routes and the events it consumes.
public protocol PlatformService: Sendable {
    static var name: String { get }
    /// Event type patterns this service consumes (empty when it consumes none).
    static var subscribedTypes: [String] { get }
    static var migrations: [Migration] { get }
    init(environment: ServiceEnvironment)
    func registerRoutes(_ router: RouterBuilder)
    /// The consumer of `subscribedTypes`, when there are any.
    var consumer: (any EventConsumer)? { get }
    /// Work the service does on a timer.
    var jobs: [ScheduledJob] { get }
}

extension PlatformService {
    public var jobs: [ScheduledJob] { [] }
}

/// Finds the other services to call: in-process when they run in this process, over HTTP otherwise.
public final class ServiceDirectory: Sendable {
    private let clients = Mutex<[String: any ServiceClient]>([:])

    public init() {}

    public func bind(_ service: String, to client: any ServiceClient) {
        clients.withLock { $0[service] = client }
    }

    public func client(for service: String) throws -> any ServiceClient {
        guard let client = clients.withLock({ $0[service] }) else {
            throw Problem.unavailable("The \(service) service is not configured.")
        }
        return client
    }
}
