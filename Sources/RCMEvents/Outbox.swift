import Foundation
import RCMCore
import RCMStorage

/// The transactional outbox of one service: events are written in the same transaction as the
/// state change they announce, so nothing committed is lost and nothing is announced that did not
/// commit.
///
/// What each subscriber has been given is tracked in one of two ways:
/// - **PostgreSQL: a delivery row per subscriber per event** (`outbox_deliveries`), written with
///   the event. Instances of a service share its outbox and claim rows with `FOR UPDATE SKIP
///   LOCKED`; sequence numbers there become visible out of order (a transaction that took seq 10
///   can commit after one that took 11), so a position in the sequence could skip an event.
/// - **SQLite: a cursor per subscriber** (`outbox_cursors`: the last sequence number it was given).
///   One process owns the file and writes one transaction at a time, so events become visible in
///   sequence order and a position cannot skip one. Publishing writes the event alone; a relay
///   pass moves the cursors past what it delivered. Only a delivery that failed (or whose
///   subscriber was not reachable) gets a row, where retries, dead letters and replays work as
///   on PostgreSQL. A billed invoice's five deliveries had been five row inserts and five row
///   updates (each row in three B-trees); measured (BENCHMARKS.md) 0.94 → 0.86 ms of CPU per
///   invoice. Which subscriber wants which event is read when the relay runs, not when the event
///   is published: a subscriber that first appears after the cursors were introduced starts from
///   the baseline (it is given the events published since then), and one that stops subscribing
///   to a type is not given that type's backlog. A binary from before the cursors (a downgrade)
///   would not deliver events published after them.
public final class Outbox: Sendable {
    public let service: String
    public let database: any Database
    let subscriptions: Subscriptions
    let wakeUp = WakeUp()

    public init(service: String, database: any Database, subscriptions: Subscriptions) {
        self.service = service
        self.database = database
        self.subscriptions = subscriptions
    }

    /// The outbox tables; every service that publishes includes them in its migrations.
    public static let migration = Migration(
        1000, "outbox",
        [
            """
            CREATE TABLE outbox_events (
                seq {{id}}, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, schema_version INTEGER NOT NULL,
                occurred_at TEXT NOT NULL, organization_id TEXT NOT NULL, location_id TEXT,
                correlation_id TEXT NOT NULL, source TEXT NOT NULL, payload TEXT NOT NULL)
            """,
            """
            CREATE TABLE outbox_deliveries (
                event_seq BIGINT NOT NULL, event_id TEXT NOT NULL, subscriber TEXT NOT NULL,
                status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL,
                last_error TEXT, delivered_at TEXT, PRIMARY KEY (event_id, subscriber))
            """,
            "CREATE INDEX outbox_deliveries_due ON outbox_deliveries (status, event_seq)",
        ])

    /// Cursors per subscriber (used on SQLite). The row with an empty subscriber is the baseline:
    /// events up to it were published with delivery rows (before this migration), and a subscriber
    /// without a cursor of its own starts there.
    public static let cursorMigration = Migration(
        1003, "outbox delivery cursors",
        [
            "CREATE TABLE outbox_cursors (subscriber TEXT PRIMARY KEY, delivered_seq BIGINT NOT NULL)",
            "INSERT INTO outbox_cursors (subscriber, delivered_seq) SELECT '', COALESCE(MAX(seq), 0) FROM outbox_events",
        ])

    /// Every service that publishes includes these in its migrations.
    public static let migrations = [migration, cursorMigration]

    /// True where deliveries are tracked by a cursor per subscriber (SQLite), false where by a row
    /// per delivery (PostgreSQL).
    public var tracksDeliveriesByCursor: Bool { database.dialect == .sqlite }

    /// Records `event` for delivery to every subscriber of its type. Call inside the transaction
    /// that makes the change; call `notify()` after it commits to deliver without waiting for a poll.
    public func publish(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        let insert: SQL = """
            INSERT INTO outbox_events (id, type, schema_version, occurred_at, organization_id, location_id,
                correlation_id, source, payload)
            VALUES (\(event.id), \(event.type), \(event.schemaVersion), \(event.occurredAt), \(event.organizationId),
                \(event.locationId), \(event.correlationId), \(event.source), \(event.payload))
            """
        // SQLite: the relay finds the event past the subscribers' cursors.
        guard !tracksDeliveriesByCursor else {
            try connection.execute(insert)
            return
        }
        let rows = try connection.query(insert + " RETURNING seq")
        let seq = try rows.first?.int64("seq") ?? 0
        let now = Outbox.nowMillis()
        let subscribers = subscriptions.subscribers(of: event.type)
        guard !subscribers.isEmpty else { return }
        // One statement for all subscribers.
        var deliveries: SQL =
            "INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at) VALUES "
        for (index, subscriber) in subscribers.enumerated() {
            deliveries =
                deliveries
                + "\(unsafeRaw: index == 0 ? "" : ", ")(\(seq), \(event.id), \(subscriber), 'pending', 0, \(now))"
        }
        try connection.execute(deliveries)
    }

    /// Wakes the relay so that newly committed events go out at once.
    public func notify() { wakeUp.signal() }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A level-triggered wake-up flag for a relay thread.
final class WakeUp: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending = false

    func signal() {
        condition.lock()
        pending = true
        condition.signal()
        condition.unlock()
    }

    /// Waits until signalled or `timeout` passes; clears the flag.
    func wait(timeout: TimeInterval) {
        condition.lock()
        if !pending { _ = condition.wait(until: Date(timeIntervalSinceNow: timeout)) }
        pending = false
        condition.unlock()
    }
}
