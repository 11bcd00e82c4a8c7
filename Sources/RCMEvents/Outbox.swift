import Foundation
import RCMCore
import RCMStorage

/// The transactional outbox of one service: events are written in the same transaction as the
/// state change they announce, with one delivery row per subscriber, so nothing committed is lost
/// and nothing is announced that did not commit.
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

    /// Records `event` for delivery to every subscriber of its type. Call inside the transaction
    /// that makes the change; call `notify()` after it commits to deliver without waiting for a poll.
    public func publish(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        let rows = try connection.query(
            """
            INSERT INTO outbox_events (id, type, schema_version, occurred_at, organization_id, location_id,
                correlation_id, source, payload)
            VALUES (\(event.id), \(event.type), \(event.schemaVersion), \(event.occurredAt), \(event.organizationId),
                \(event.locationId), \(event.correlationId), \(event.source), \(event.payload))
            RETURNING seq
            """)
        let seq = try rows.first?.int64("seq") ?? 0
        let now = Outbox.nowMillis()
        let subscribers = subscriptions.subscribers(of: event.type)
        guard !subscribers.isEmpty else { return }
        // One statement for all subscribers.
        var insert: SQL =
            "INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at) VALUES "
        for (index, subscriber) in subscribers.enumerated() {
            insert =
                insert
                + "\(unsafeRaw: index == 0 ? "" : ", ")(\(seq), \(event.id), \(subscriber), 'pending', 0, \(now))"
        }
        try connection.execute(insert)
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
