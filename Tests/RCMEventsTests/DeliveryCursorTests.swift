import Foundation
import RCMCore
import RCMStorage
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMEvents

/// Counts deliveries per event; can hold its first call until released, refuse everything, or
/// be unreachable.
final class ControlledTransport: EventTransport, @unchecked Sendable {
    let counts = Mutex<[String: Int]>([:])
    let release = DispatchSemaphore(value: 0)
    let holding = DispatchSemaphore(value: 0)
    let holdFirst = Atomic<Bool>(false)
    let refuse = Atomic<Bool>(false)
    let unreachable = Atomic<Bool>(false)

    func deliver(_ events: [EventEnvelope], to subscriber: String) throws -> [String: String] {
        if unreachable.load(ordering: .relaxed) { throw SubscriberUnavailable(subscriber: subscriber) }
        if holdFirst.compareExchange(expected: true, desired: false, ordering: .relaxed).exchanged {
            holding.signal()
            release.wait()
        }
        counts.withLock { counts in for event in events { counts[event.id, default: 0] += 1 } }
        guard refuse.load(ordering: .relaxed) else { return [:] }
        return Dictionary(uniqueKeysWithValues: events.map { ($0.id, "refused") })
    }
}

/// SQLite's delivery cursors (PostgreSQL keeps a row per delivery: these return early there).
@Suite("Delivery cursors on SQLite")
struct DeliveryCursorTests {
    struct Fixture {
        let source: any Database
        let outbox: Outbox
        let transport = ControlledTransport()

        init?(_ name: String) throws {
            source = try TestDatabases.make(name)
            guard source.dialect == .sqlite else {
                source.close()
                return nil
            }
            try Migrator.migrate(source, Outbox.migrations)
            var subscriptions = Subscriptions()
            subscriptions.add("counter", patterns: ["thing.*"])
            outbox = Outbox(service: "source", database: source, subscriptions: subscriptions)
        }

        func relay(_ configure: (inout OutboxRelay.Policy) -> Void = { _ in }) -> OutboxRelay {
            var policy = OutboxRelay.Policy()
            configure(&policy)
            return OutboxRelay(outbox: outbox, transport: transport, policy: policy)
        }

        @discardableResult
        func publish(_ count: Int) throws -> [EventEnvelope] {
            let events = try (0..<count).map { n in
                try EventEnvelope.make(
                    type: "thing.happened", organizationId: "org", locationId: nil, correlationId: "c",
                    source: "source", body: ["n": n])
            }
            try source.write { connection in for event in events { try outbox.publish(event, in: connection) } }
            return events
        }

        func cursor() throws -> Int64? {
            try source.read {
                try $0.queryFirst("SELECT delivered_seq FROM outbox_cursors WHERE subscriber = 'counter'")?.int64(
                    "delivered_seq")
            }
        }
    }

    @Test("a cursor never moves back, even when a slower pass records after a faster one")
    func monotonic() throws {
        guard let fixture = try Fixture("monotonic") else { return }
        defer { fixture.source.close() }
        let slow = fixture.relay()
        let fast = fixture.relay()
        try fixture.publish(3)
        fixture.transport.holdFirst.store(true, ordering: .relaxed)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? slow.relayOnce()  // read events 1–3, held in delivery
            done.signal()
        }
        fixture.transport.holding.wait()
        try fixture.publish(3)
        #expect(try fast.relayOnce() == 6)
        #expect(try fixture.cursor() == 6)
        fixture.transport.release.signal()
        done.wait()
        #expect(try fixture.cursor() == 6, "the slower pass must not move the cursor back to 3")
        #expect(try fast.relayOnce() == 0)
    }

    @Test("a delivery that already has a row is the row's: a dead letter stays dead, not delivered again")
    func rowsWin() throws {
        guard let fixture = try Fixture("rows-win") else { return }
        defer { fixture.source.close() }
        // As an older binary would leave it after the migration: an event with a dead row.
        let events = try fixture.publish(2)
        try fixture.source.write { connection in
            try connection.execute(
                """
                INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at, last_error)
                SELECT seq, id, 'counter', 'dead', 8, 0, 'refused 8 times' FROM outbox_events WHERE id = \(events[0].id)
                """)
        }
        // Pending: the second event only (the first is dead, counted as a dead letter).
        #expect(try fixture.source.read { try fixture.outbox.backlog(in: $0) }.map(\.count) == [1])
        let relay = fixture.relay()
        #expect(try relay.relayOnce() == 1)
        #expect(fixture.transport.counts.withLock { $0 } == [events[1].id: 1])
        #expect(try fixture.outbox.deliveryStatus(of: events[0].id, to: "counter") == "dead")
        let letters = try DeadLetters.list(in: fixture.source)
        #expect(letters.map(\.eventId) == [events[0].id])
        #expect(letters.first?.attempts == 8)
        // The replay delivers it through its row, once.
        #expect(try DeadLetters.replay(eventId: events[0].id, in: fixture.source) == 1)
        #expect(try relay.relayOnce() == 1)
        #expect(try fixture.outbox.deliveryStatus(of: events[0].id, to: "counter") == "delivered")
        #expect(fixture.transport.counts.withLock { $0 } == [events[0].id: 1, events[1].id: 1])
    }

    @Test("rows that are all postponed again do not make the relay sweep them without pause")
    func postponedRowsWait() throws {
        guard let fixture = try Fixture("postponed") else { return }
        defer { fixture.source.close() }
        fixture.transport.unreachable.store(true, ordering: .relaxed)
        let relay = fixture.relay {
            $0.batchSize = 10
            $0.maxBackoffMillis = 0  // postponed rows are due again at once
        }
        try fixture.publish(25)
        _ = try relay.relayPass()  // the cursor passes all 25: postponed rows
        #expect(try fixture.outbox.deliveries(to: "counter").filter { $0.status == "pending" }.count == 25)
        let pass = try relay.relayPass()
        #expect(pass.settled == 0)
        #expect(!pass.full, "a batch with nothing settled waits for the idle poll")
    }

    @Test("concurrent writers in group commits, some rolled back, the relay running: every committed event once")
    func groupCommitsSkipNothing() throws {
        guard let fixture = try Fixture("group-commits") else { return }
        defer { fixture.source.close() }
        let relay = fixture.relay {
            $0.batchSize = 7
            $0.coalesce = 0
            $0.idlePoll = 0.001
        }
        relay.start()
        struct Rollback: Error {}
        let committed = Mutex<Set<String>>([])
        let group = DispatchGroup()
        for thread in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                for n in 0..<100 {
                    guard
                        let pair = try? [0, 1].map({ half in
                            try EventEnvelope.make(
                                type: "thing.happened", organizationId: "org", locationId: nil, correlationId: "c",
                                source: "source", body: ["n": thread * 1000 + n * 2 + half])
                        })
                    else { continue }
                    do {
                        try fixture.source.write { connection in
                            for event in pair { try fixture.outbox.publish(event, in: connection) }
                            if n % 3 == 1 { throw Rollback() }  // its savepoint (or transaction) rolls back
                        }
                        committed.withLock { $0.formUnion(pair.map(\.id)) }
                        fixture.outbox.notify()
                    } catch {}
                }
            }
        }
        group.wait()
        relay.stop()
        while try relay.relayOnce() > 0 {}
        let counts = fixture.transport.counts.withLock { $0 }
        #expect(Set(counts.keys) == committed.withLock { $0 })
        #expect(counts.values.allSatisfy { $0 == 1 })
    }
}
