import Foundation
import RCMHTTP

/// Settings of one `rcm` process, from flags first, then `RCM_*` environment variables, then defaults.
public struct PlatformConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 8080
    public var dataDirectory = "./data"
    /// Where the token-signing keys live (`RCM_KEYS_DIR`); `<data-dir>/keys` when unset.
    public var keysDirectoryOverride: String?
    public var keysDirectory: String { keysDirectoryOverride ?? dataDirectory + "/keys" }
    /// `postgres://…` selects PostgreSQL (one schema per service); unset means SQLite files in `dataDirectory`.
    public var databaseURL: String?
    /// Prefix of the PostgreSQL schema names (`<prefix><service>`), from `RCM_SCHEMA_PREFIX`.
    public var schemaPrefix = ""
    /// When false, events stay in the outboxes until a process with delivery on starts
    /// (`RCM_EVENT_DELIVERY=off`; for maintenance windows and crash tests).
    public var eventDelivery = true
    /// Nice value of the threads that deliver events and run the consumers (`RCM_RELAY_NICE`,
    /// 0–19): derived work yields the CPU to request handling (OutboxRelay.Policy.niceness).
    public var relayNiceness: Int32 = 10
    /// How events travel between services (`RCM_EVENT_TRANSPORT`): in-process (the default) or
    /// through RabbitMQ at `amqpURL` (`RCM_AMQP_URL`), with exchange and queue names under
    /// `amqpNamespace` (`RCM_AMQP_NAMESPACE`, default `rcm`: `rcm.events`, `rcm.claim`, ...).
    public var eventTransport = EventTransportKind.inProcess
    public var amqpURL = "amqp://guest:guest@127.0.0.1:5672/"
    public var amqpNamespace = "rcm"
    public var demo = false
    /// The services this process hosts; all six when nil.
    public var services: [String]?
    /// Where the services this process does not host answer (`RCM_<SERVICE>_URL`).
    public var serviceURLs: [String: URL] = [:]
    /// The organization of the demo data and of the first admin (requests take theirs from tokens).
    public var organizationId = "org_demo"
    public var currency = "INR"
    public var limits = HTTPLimits()
    /// PEM files of the server's key and certificate chain: serve HTTPS (`RCM_TLS_KEY`, `RCM_TLS_CERT`).
    /// Requests per second each caller (token subject) may make, with bursts of twice that;
    /// 0 turns the limit off (`RCM_RATE_LIMIT`).
    public var rateLimitPerSecond = 50
    public var tlsKeyFile: String?
    public var tlsCertificateFile: String?
    /// Names this process among several instances of the same services on one database: each
    /// instance keeps its own audit hash chain (`audit_<instance>`), since a chain has one writer.
    public var instanceId: String?
    /// The database (SQLite file or PostgreSQL schema) of this process's audit trail.
    public var auditDatabaseName: String {
        instanceId.map { "audit_" + $0.replacingOccurrences(of: "-", with: "_") } ?? "audit"
    }
    /// OTLP/HTTP endpoint for spans (`http://collector:4318/v1/traces`); none: no export.
    public var traceEndpoint: URL?
    /// Share of new traces that are sampled (a caller's `traceparent` decision is kept).
    public var traceSampleRatio = 0.0

    public init() {}

    /// Reads the environment's `RCM_*` variables.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> PlatformConfiguration
    {
        var configuration = PlatformConfiguration()
        if let value = environment["RCM_HOST"] { configuration.host = value }
        if let value = environment["RCM_PORT"] { configuration.port = try parsePort(value, "RCM_PORT") }
        if let value = environment["RCM_DATA_DIR"] { configuration.dataDirectory = value }
        if let value = environment["RCM_DATABASE_URL"], !value.isEmpty { configuration.databaseURL = value }
        if let value = environment["RCM_KEYS_DIR"], !value.isEmpty { configuration.keysDirectoryOverride = value }
        if let value = environment["RCM_SCHEMA_PREFIX"] { configuration.schemaPrefix = try checkSchemaPrefix(value) }
        if let value = environment["RCM_EVENT_DELIVERY"] {
            configuration.eventDelivery = !["0", "off", "false", "no"].contains(value.lowercased())
        }
        if let value = environment["RCM_RELAY_NICE"] {
            guard let niceness = Int32(value), (0...19).contains(niceness) else {
                throw UsageError("RCM_RELAY_NICE must be a nice value from 0 to 19")
            }
            configuration.relayNiceness = niceness
        }
        if let value = environment["RCM_EVENT_TRANSPORT"], !value.isEmpty {
            guard let kind = EventTransportKind(name: value) else {
                throw UsageError("RCM_EVENT_TRANSPORT must be in-process or rabbitmq")
            }
            configuration.eventTransport = kind
        }
        if let value = environment["RCM_AMQP_URL"], !value.isEmpty {
            guard value.hasPrefix("amqp://") else { throw UsageError("RCM_AMQP_URL must be an amqp:// URL") }
            configuration.amqpURL = value
        }
        if let value = environment["RCM_AMQP_NAMESPACE"], !value.isEmpty { configuration.amqpNamespace = value }
        if let value = environment["RCM_DEMO"] {
            configuration.demo = ["1", "true", "yes"].contains(value.lowercased())
        }
        if let value = environment["RCM_SERVICES"], !value.isEmpty {
            configuration.services = value.split(separator: ",").map { String($0) }
        }
        for service in Platform.serviceTypes.map({ $0.name }) {
            let key = "RCM_\(service.uppercased())_URL"
            guard let value = environment[key], !value.isEmpty else { continue }
            guard let url = URL(string: value), url.scheme == "http" || url.scheme == "https" else {
                throw UsageError("\(key) must be an http(s) URL")
            }
            configuration.serviceURLs[service] = url
        }
        if let value = environment["RCM_CORS_ORIGINS"], !value.isEmpty {
            configuration.limits.corsOrigins = Set(
                value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        if let value = environment["RCM_RATE_LIMIT"] {
            guard let rate = Int(value), rate >= 0 else { throw UsageError("RCM_RATE_LIMIT must be 0 or more") }
            configuration.rateLimitPerSecond = rate
        }
        if let value = environment["RCM_TLS_KEY"], !value.isEmpty { configuration.tlsKeyFile = value }
        if let value = environment["RCM_INSTANCE_ID"], !value.isEmpty {
            guard value.count <= 40, value.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
            else { throw UsageError("RCM_INSTANCE_ID must be 1 to 40 lower-case letters, digits or '-'") }
            configuration.instanceId = value
        }
        if let value = environment["RCM_OTLP_ENDPOINT"], !value.isEmpty {
            guard let url = URL(string: value), url.scheme == "http" || url.scheme == "https" else {
                throw UsageError("RCM_OTLP_ENDPOINT must be an http(s) URL such as http://127.0.0.1:4318/v1/traces")
            }
            configuration.traceEndpoint = url
        }
        if let value = environment["RCM_TRACE_SAMPLE_RATIO"] {
            guard let ratio = Double(value), (0...1).contains(ratio) else {
                throw UsageError("RCM_TRACE_SAMPLE_RATIO must be a number from 0 to 1")
            }
            configuration.traceSampleRatio = ratio
        }
        if let value = environment["RCM_TLS_CERT"], !value.isEmpty { configuration.tlsCertificateFile = value }
        if let value = environment["RCM_ORGANIZATION_ID"] { configuration.organizationId = value }
        if let value = environment["RCM_CURRENCY"] { configuration.currency = value }
        if let value = environment["RCM_MAX_BODY_BYTES"] {
            guard let bytes = Int(value), bytes > 0 else {
                throw UsageError("RCM_MAX_BODY_BYTES must be a positive integer")
            }
            configuration.limits.maxBodyBytes = bytes
        }
        if let value = environment["RCM_THREADS"] {
            guard let threads = Int(value), threads > 0 else {
                throw UsageError("RCM_THREADS must be a positive integer")
            }
            configuration.limits.threads = threads
        }
        return configuration
    }

    /// Schema names are identifiers in SQL text, so the prefix may hold only `a-z`, `0-9` and `_`.
    static func checkSchemaPrefix(_ text: String) throws -> String {
        guard text.utf8.count <= 32,
            text.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 })
        else { throw UsageError("the schema prefix may hold only a-z, 0-9 and _ (at most 32)") }
        return text
    }

    static func parsePort(_ text: String, _ name: String) throws -> UInt16 {
        guard let port = UInt16(text) else { throw UsageError("\(name) must be a port number (0-65535)") }
        return port
    }
}

/// How events travel from outboxes to consuming services.
public enum EventTransportKind: String, Sendable {
    case inProcess = "in-process"
    case rabbitmq

    public init?(name: String) {
        switch name.lowercased() {
        case "in-process", "inprocess", "embedded": self = .inProcess
        case "rabbitmq", "amqp": self = .rabbitmq
        default: return nil
        }
    }
}

public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
