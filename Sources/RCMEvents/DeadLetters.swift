import RCMCore
import RCMStorage

/// A delivery that failed `maxAttempts` times and waits for an operator.
public struct DeadLetter: Codable, Sendable, Equatable {
    public let eventId: String
    public let type: String
    public let source: String
    public let subscriber: String
    public let attempts: Int
    public let lastError: String?
    public let occurredAt: String
}

/// Lists and replays one outbox's dead letters.
public enum DeadLetters {
    public static func list(in database: any Database) throws -> [DeadLetter] {
        try database.read { connection in
            try connection.query(
                """
                SELECT e.id, e.type, e.source, e.occurred_at, d.subscriber, d.attempts, d.last_error
                FROM outbox_deliveries d JOIN outbox_events e ON e.seq = d.event_seq
                WHERE d.status = 'dead' ORDER BY d.event_seq
                """
            ).map { row in
                DeadLetter(
                    eventId: try row.string("id"), type: try row.string("type"), source: try row.string("source"),
                    subscriber: try row.string("subscriber"), attempts: try row.int("attempts"),
                    lastError: row.optionalString("last_error"), occurredAt: try row.string("occurred_at"))
            }
        }
    }

    /// Puts an event's dead deliveries back in the queue with a fresh attempt count; returns how many.
    @discardableResult
    public static func replay(eventId: String, in database: any Database) throws -> Int {
        try database.write { connection in
            try connection.execute(
                """
                UPDATE outbox_deliveries SET status = 'pending', attempts = 0, next_attempt_at = \(Outbox.nowMillis())
                WHERE event_id = \(eventId) AND status = 'dead'
                """)
        }
    }
}
