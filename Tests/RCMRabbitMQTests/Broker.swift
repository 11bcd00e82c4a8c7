import Foundation
import RCMCore
import RCMEvents
import RCMStorage
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMRabbitMQ

/// The RabbitMQ node the tests use: `RCM_TEST_AMQP_URL` (scripts/test.sh starts one with
/// scripts/rabbitmq.sh). Without it the broker tests fail, unless `RCM_SKIP_BROKER_TESTS=1`.
enum Broker {
    static var skipped: Bool { ProcessInfo.processInfo.environment["RCM_SKIP_BROKER_TESTS"] == "1" }

    struct NotConfigured: Error, CustomStringConvertible {
        let description =
            "RCM_TEST_AMQP_URL is not set: start a node with `bash scripts/rabbitmq.sh start` and export "
            + "RCM_TEST_AMQP_URL=$(bash scripts/rabbitmq.sh url), or set RCM_SKIP_BROKER_TESTS=1 to skip the broker tests"
    }

    /// Settings with exchange and queue names of their own, so that tests never share a queue.
    static func settings() throws -> RabbitMQSettings {
        guard let url = ProcessInfo.processInfo.environment["RCM_TEST_AMQP_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        var settings = try RabbitMQSettings(url: url).namespaced("t" + UUID().uuidString.prefix(8).lowercased())
        settings.baseBackoff = 0.05
        settings.maxBackoff = 0.5
        return settings
    }

    /// Runs `rabbitmqctl` against the test node (`RCM_TEST_RABBITMQ_NODE`, default rcm@localhost).
    static func control(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/lib/rabbitmq/bin/rabbitmqctl")
        let node = ProcessInfo.processInfo.environment["RCM_TEST_RABBITMQ_NODE"] ?? "rcm@localhost"
        process.arguments = ["-q", "-n", node] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw RabbitMQError("rabbitmqctl \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: TimeInterval = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < deadline
        return try condition()
    }
}

/// A consuming service that records each effect (with the instance that made it) in its own
/// table; events of type `thing.poison` always fail.
final class RecordingConsumer: EventConsumer {
    let name: String
    let subscribedTypes = ["thing.*"]
    let database: any Database
    let instance: String
    let delay: TimeInterval

    struct Poisoned: Error {}

    static func makeDatabase(_ name: String) throws -> any Database {
        let database = try TestDatabases.make(name)
        try Migrator.migrate(
            database,
            [
                Inbox.migration,
                Migration(
                    1, "effects", ["CREATE TABLE effects (event_id TEXT NOT NULL, instance TEXT NOT NULL)"]),
            ])
        return database
    }

    init(name: String = "counter", database: any Database, instance: String = "a", delay: TimeInterval = 0) {
        self.name = name
        self.database = database
        self.instance = instance
        self.delay = delay
    }

    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        if event.type == "thing.poison" { throw Poisoned() }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        try connection.execute("INSERT INTO effects (event_id, instance) VALUES (\(event.id), \(instance))")
    }

    func effectCount(instance: String? = nil) throws -> Int {
        try database.read { connection in
            if let instance {
                return try connection.queryFirst("SELECT COUNT(*) AS n FROM effects WHERE instance = \(instance)")?
                    .int("n") ?? -1
            }
            return try connection.queryFirst("SELECT COUNT(*) AS n FROM effects")?.int("n") ?? -1
        }
    }

    func distinctEffects() throws -> Int {
        try database.read { try $0.queryFirst("SELECT COUNT(DISTINCT event_id) AS n FROM effects")?.int("n") ?? -1 }
    }
}

/// A publishing service's outbox whose deliveries go through RabbitMQ.
struct Publisher {
    let database: any Database
    let outbox: Outbox
    let relay: OutboxRelay
    let transport: RabbitMQTransport
    let subscriber: String

    init(settings: RabbitMQSettings, subscriber: String = "counter") throws {
        self.subscriber = subscriber
        database = try TestDatabases.make("source")
        try Migrator.migrate(database, Outbox.migrations)
        var subscriptions = Subscriptions()
        subscriptions.add(subscriber, patterns: ["thing.*"])
        outbox = Outbox(service: "source", database: database, subscriptions: subscriptions)
        transport = RabbitMQTransport(settings: settings)
        var policy = OutboxRelay.Policy()
        policy.baseBackoffMillis = 10
        policy.idlePoll = 0.05
        relay = OutboxRelay(outbox: outbox, transport: transport, policy: policy)
    }

    @discardableResult
    func publish(_ count: Int, type: String = "thing.happened") throws -> [EventEnvelope] {
        let events = try (0..<count).map { index in
            try EventEnvelope.make(
                type: type, organizationId: "org_1", locationId: "loc_1",
                correlationId: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", source: "source",
                body: ["n": index])
        }
        try database.write { connection in
            for event in events { try outbox.publish(event, in: connection) }
        }
        outbox.notify()
        return events
    }

    func count(status: String) throws -> Int {
        try outbox.deliveries(to: subscriber).filter { $0.status == status }.count
    }

    /// Relays synchronously until nothing is due.
    func drain() throws {
        while try relay.relayOnce() > 0 {}
    }
}

/// A database that can be switched off: reads and writes fail and `ping` says no.
final class SwitchableDatabase: Database {
    let inner: any Database
    let down = Atomic<Bool>(false)

    init(_ inner: any Database) { self.inner = inner }

    var dialect: SQLDialect { inner.dialect }

    private func check() throws {
        if down.load(ordering: .relaxed) { throw DatabaseError(.connection, "switched off") }
    }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try check()
        return try inner.read(body)
    }

    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try check()
        return try inner.write(body)
    }

    func ping() -> Bool { !down.load(ordering: .relaxed) && inner.ping() }
    func close() { inner.close() }
}
