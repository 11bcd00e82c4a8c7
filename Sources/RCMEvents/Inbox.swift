import RCMCore
import RCMStorage

/// A service that reacts to other services' events. Its effect and the record that the event was
/// processed commit in one transaction (the inbox), so an event delivered twice has one effect.
public protocol EventConsumer: Sendable {
    /// The subscriber name deliveries are addressed to (the service's name).
    var name: String { get }
    /// Event types (patterns) it subscribes to.
    var subscribedTypes: [String] { get }
    var database: any Database { get }
    /// Applies one event inside the inbox transaction. Events it publishes in turn go to its own
    /// outbox through the same connection.
    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws
    /// Called after a batch committed (to wake the consumer's own outbox relay).
    func didCommit()
}

extension EventConsumer {
    public func didCommit() {}
}

public enum Inbox {
    public static let migration = Migration(
        1001, "inbox",
        [
            "CREATE TABLE inbox_events (event_id TEXT PRIMARY KEY, type TEXT NOT NULL, processed_at TEXT NOT NULL)"
        ])

    /// Processes a batch in one transaction, skipping events already processed. When the batch
    /// fails, each event is retried alone so that one bad event cannot hold back the others;
    /// the returned map holds the error of each event that failed.
    public static func process(_ events: [EventEnvelope], by consumer: any EventConsumer) -> [String: String] {
        do {
            try consumer.database.write { connection in
                for event in events { try apply(event, consumer: consumer, connection: connection) }
            }
            consumer.didCommit()
            return [:]
        } catch {
            if events.count == 1 { return [events[0].id: String(describing: error)] }
        }
        var failures: [String: String] = [:]
        for event in events {
            do {
                try consumer.database.write { connection in try apply(event, consumer: consumer, connection: connection)
                }
            } catch {
                failures[event.id] = String(describing: error)
            }
        }
        consumer.didCommit()
        return failures
    }

    private static func apply(_ event: EventEnvelope, consumer: any EventConsumer, connection: any SQLConnection) throws
    {
        let inserted = try connection.execute(
            "INSERT INTO inbox_events (event_id, type, processed_at) VALUES (\(event.id), \(event.type), \(Timestamp.now())) ON CONFLICT DO NOTHING"
        )
        guard inserted == 1 else { return }  // already processed: one effect only
        try consumer.handle(event, in: connection)
    }
}
