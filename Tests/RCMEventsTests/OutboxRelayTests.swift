import Foundation
import RCMCore
import RCMStorage
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMEvents

/// A consumer that counts its effects in its own table and can be told to fail.
final class CountingConsumer: EventConsumer {
    let name = "counter"
    let subscribedTypes = ["thing.*"]
    let database: any Database
    let failuresLeft = Atomic<Int>(0)

    init() throws {
        database = try TestDatabases.make("counter")
        try Migrator.migrate(
            database,
            [
                Inbox.migration,
                Migration(1, "effects", ["CREATE TABLE effects (event_id TEXT NOT NULL, type TEXT NOT NULL)"]),
            ])
    }

    struct Refused: Error {}

    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        if failuresLeft.load(ordering: .relaxed) > 0 {
            failuresLeft.subtract(1, ordering: .relaxed)
            throw Refused()
        }
        try connection.execute("INSERT INTO effects (event_id, type) VALUES (\(event.id), \(event.type))")
    }

    func effects() throws -> [String] {
        try database.read { try $0.query("SELECT event_id FROM effects ").map { try $0.string("event_id") } }
    }

    func effectCount() throws -> Int {
        try database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM effects")?.int("n") ?? -1 }
    }
}

@Suite("Outbox, relay, inbox and dead letters")
struct OutboxRelayTests {
    struct Fixture {
        let source: any Database
        let outbox: Outbox
        let consumer: CountingConsumer
        let relay: OutboxRelay

        init(maxAttempts: Int = 3) throws {
            source = try TestDatabases.make("source")
            try Migrator.migrate(source, Outbox.migrations)
            var subscriptions = Subscriptions()
            subscriptions.add("counter", patterns: ["thing.*"])
            subscriptions.add("elsewhere", patterns: ["other.*"])
            outbox = Outbox(service: "source", database: source, subscriptions: subscriptions)
            consumer = try CountingConsumer()
            let transport = InProcessTransport()
            transport.register(consumer)
            var policy = OutboxRelay.Policy()
            policy.maxAttempts = maxAttempts
            policy.baseBackoffMillis = 0
            relay = OutboxRelay(outbox: outbox, transport: transport, policy: policy)
        }

        func publish(_ type: String = "thing.happened") throws -> EventEnvelope {
            let event = try EventEnvelope.make(
                type: type, organizationId: "org", locationId: "loc", correlationId: "req-1", source: "source",
                body: ["n": 1])
            try source.write { try outbox.publish(event, in: $0) }
            return event
        }

        func status(of event: EventEnvelope) throws -> String? {
            try outbox.deliveryStatus(of: event.id, to: "counter")
        }

        func deliveryRows() throws -> Int {
            try source.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM outbox_deliveries")?.int("n") ?? -1 }
        }
    }

    @Test("the envelope carries id, type, version, time, organization, correlation and payload")
    func envelope() throws {
        let event = try EventEnvelope.make(
            type: "invoice.issued", schemaVersion: 2, organizationId: "org", locationId: nil, correlationId: "c",
            source: "billing", body: ["total": Money(minorUnits: 65000)])
        let decoded = try JSON.decode(EventEnvelope.self, from: try JSON.encode(event))
        #expect(decoded == event)
        #expect(decoded.schemaVersion == 2)
        #expect(try decoded.decode([String: Money].self) == ["total": Money(minorUnits: 65000)])
    }

    @Test("a published event reaches its subscriber once, and only its subscriber")
    func deliversOnce() throws {
        let fixture = try Fixture()
        let event = try fixture.publish()
        _ = try fixture.publish("other.thing")  // no subscriber in this process: postponed, not failed
        #expect(try fixture.relay.relayOnce() == 1)
        #expect(try fixture.consumer.effectCount() == 1)
        #expect(try fixture.status(of: event) == "delivered")
        #expect(try fixture.relay.relayOnce() == 0)
        #expect(try fixture.consumer.effectCount() == 1)
    }

    @Test("a redelivered event has one effect (inbox)")
    func redeliveryIsIdempotent() throws {
        let fixture = try Fixture()
        let event = try fixture.publish()
        try fixture.relay.relayOnce()
        // As if the process died after the consumer committed but before the delivery was marked
        // (PostgreSQL: and its claim on the row, the lease, then ran out; SQLite: the cursor had
        // not moved).
        try fixture.source.write {
            if fixture.outbox.tracksDeliveriesByCursor {
                try $0.execute("DELETE FROM outbox_cursors WHERE subscriber = 'counter'")
            } else {
                try $0.execute(
                    "UPDATE outbox_deliveries SET status = 'pending', next_attempt_at = 0 WHERE event_id = \(event.id)")
            }
        }
        #expect(try fixture.status(of: event) == "pending")
        try fixture.relay.relayOnce()
        #expect(try fixture.consumer.effectCount() == 1)
        #expect(try fixture.status(of: event) == "delivered")
    }

    @Test("failures retry, then dead-letter; a replay delivers")
    func retriesAndDeadLetters() throws {
        let fixture = try Fixture(maxAttempts: 3)
        fixture.consumer.failuresLeft.store(100, ordering: .relaxed)
        let event = try fixture.publish()
        for _ in 0..<3 { try fixture.relay.relayOnce() }
        #expect(try fixture.status(of: event) == "dead")
        #expect(try fixture.consumer.effectCount() == 0)
        let letters = try DeadLetters.list(in: fixture.source)
        #expect(letters.map(\.eventId) == [event.id])
        #expect(letters.first?.attempts == 3)
        #expect(letters.first?.lastError?.contains("Refused") == true)

        fixture.consumer.failuresLeft.store(0, ordering: .relaxed)
        #expect(try DeadLetters.replay(eventId: event.id, in: fixture.source) == 1)
        try fixture.relay.relayOnce()
        #expect(try fixture.status(of: event) == "delivered")
        #expect(try fixture.consumer.effectCount() == 1)
        #expect(try DeadLetters.list(in: fixture.source).isEmpty)
    }

    @Test("one failing event in a batch does not hold back the others")
    func poisonIsolated() throws {
        let fixture = try Fixture(maxAttempts: 5)
        let events = try (0..<5).map { _ in try fixture.publish() }
        fixture.consumer.failuresLeft.store(2, ordering: .relaxed)  // the batch, then the first event alone
        try fixture.relay.relayOnce()
        #expect(try fixture.consumer.effectCount() == 4)
        #expect(try fixture.status(of: events[0]) == "pending")
        try fixture.relay.relayOnce()
        #expect(try fixture.consumer.effectCount() == 5)
    }

    @Test("SQLite: a cursor per subscriber; only failed or postponed deliveries get rows")
    func cursors() throws {
        let fixture = try Fixture(maxAttempts: 5)
        guard fixture.outbox.tracksDeliveriesByCursor else { return }  // PostgreSQL: a row per delivery
        let first = try (0..<3).map { _ in try fixture.publish() }
        #expect(try fixture.deliveryRows() == 0, "publishing writes the event alone")
        #expect(try fixture.source.read { try fixture.outbox.backlog(in: $0) }.map(\.count) == [3])
        #expect(try fixture.relay.relayOnce() == 3)
        #expect(try fixture.deliveryRows() == 0)
        #expect(try fixture.source.read { try fixture.outbox.backlog(in: $0) }.isEmpty)
        #expect(try first.map { try fixture.status(of: $0) } == ["delivered", "delivered", "delivered"])

        // A failure gets a row (a retry); "elsewhere" is not in this process: a postponed row.
        fixture.consumer.failuresLeft.store(1, ordering: .relaxed)  // a batch of one is not retried alone
        let failing = try fixture.publish()
        let unreachable = try fixture.publish("other.thing")
        #expect(try fixture.relay.relayOnce() == 0)
        #expect(try fixture.deliveryRows() == 2)
        #expect(try fixture.status(of: failing) == "pending")
        #expect(try fixture.outbox.deliveryStatus(of: unreachable.id, to: "elsewhere") == "pending")
        let backlog = try fixture.source.read { try fixture.outbox.backlog(in: $0) }
        #expect(backlog.map(\.subscriber) == ["counter", "elsewhere"])
        // The cursor moved past both: the retry goes through the row, once.
        #expect(try fixture.relay.relayOnce() == 1)
        #expect(try fixture.status(of: failing) == "delivered")
        #expect(try fixture.consumer.effectCount() == 4)
        #expect(try fixture.relay.relayOnce() == 0)
        #expect(try fixture.consumer.effectCount() == 4)
    }

    @Test("SQLite: deliveries pending as rows when the cursors arrived are still delivered, once")
    func upgradeToCursors() throws {
        let source = try TestDatabases.make("upgraded")
        defer { source.close() }
        guard source.dialect == .sqlite else { return }
        // An outbox from before the cursors: its event has a pending delivery row.
        try Migrator.migrate(source, [Outbox.migration])
        var subscriptions = Subscriptions()
        subscriptions.add("counter", patterns: ["thing.*"])
        let rowsOutbox = Outbox(service: "source", database: source, subscriptions: subscriptions)
        let old = try EventEnvelope.make(
            type: "thing.happened", organizationId: "org", locationId: nil, correlationId: "c", source: "source",
            body: ["n": 1])
        try source.write { connection in
            try connection.execute(
                "INSERT INTO outbox_events (id, type, schema_version, occurred_at, organization_id, correlation_id, source, payload) VALUES (\(old.id), \(old.type), 1, \(old.occurredAt), 'org', 'c', 'source', \(old.payload))"
            )
            try connection.execute(
                "INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at) VALUES (1, \(old.id), 'counter', 'pending', 0, 0)"
            )
        }
        try Migrator.migrate(source, Outbox.migrations)
        let new = try EventEnvelope.make(
            type: "thing.happened", organizationId: "org", locationId: nil, correlationId: "c", source: "source",
            body: ["n": 2])
        try source.write { try rowsOutbox.publish(new, in: $0) }
        let consumer = try CountingConsumer()
        let transport = InProcessTransport()
        transport.register(consumer)
        let relay = OutboxRelay(outbox: rowsOutbox, transport: transport)
        #expect(try relay.relayOnce() == 2)
        #expect(try relay.relayOnce() == 0)
        #expect(try Set(consumer.effects()) == [old.id, new.id])
        #expect(try rowsOutbox.deliveryStatus(of: old.id, to: "counter") == "delivered")
        #expect(try rowsOutbox.deliveryStatus(of: new.id, to: "counter") == "delivered")
    }

    @Test("backoff grows exponentially to a cap")
    func backoff() {
        var policy = OutboxRelay.Policy()
        policy.baseBackoffMillis = 100
        policy.maxBackoffMillis = 1000
        #expect((1...6).map { policy.backoff(afterAttempts: $0) } == [100, 200, 400, 800, 1000, 1000])
    }

    @Test("the relay thread, where consumers run, takes its policy's nice value")
    func relayThreadNiceness() throws {
        final class PriorityConsumer: EventConsumer, @unchecked Sendable {
            let name = "counter"
            let subscribedTypes = ["thing.*"]
            let database: any Database
            let seen = Mutex<[Int32]>([])
            init() throws {
                database = try TestDatabases.make("priority")
                try Migrator.migrate(database, [Inbox.migration])
            }
            func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
                let niceness = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                seen.withLock { $0.append(niceness) }
            }
        }
        let source = try TestDatabases.make("source")
        try Migrator.migrate(source, Outbox.migrations)
        var subscriptions = Subscriptions()
        subscriptions.add("counter", patterns: ["thing.*"])
        let outbox = Outbox(service: "source", database: source, subscriptions: subscriptions)
        let consumer = try PriorityConsumer()
        let transport = InProcessTransport()
        transport.register(consumer)
        var policy = OutboxRelay.Policy()
        policy.niceness = 7
        let relay = OutboxRelay(outbox: outbox, transport: transport, policy: policy)
        relay.start()
        defer { relay.stop() }
        try source.write { connection in
            try outbox.publish(
                EventEnvelope(
                    type: "thing.happened", organizationId: "org", locationId: nil, correlationId: "c",
                    source: "source", payload: "{}"),
                in: connection)
        }
        outbox.notify()
        let deadline = Date().addingTimeInterval(5)
        while consumer.seen.withLock({ $0.isEmpty }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(consumer.seen.withLock { $0 } == [7])
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == 0, "the test's own thread is untouched")
    }

    @Test("the background relay delivers without being asked")
    func backgroundRelay() throws {
        let fixture = try Fixture()
        fixture.relay.start()
        defer { fixture.relay.stop() }
        _ = try fixture.publish()
        fixture.outbox.notify()
        let deadline = Date().addingTimeInterval(5)
        while try fixture.consumer.effectCount() == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try fixture.consumer.effectCount() == 1)
    }
}
