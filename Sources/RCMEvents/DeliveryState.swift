import RCMCore
import RCMStorage

/// Where an outbox's deliveries stand, whichever way they are tracked (a row per delivery, or a
/// cursor per subscriber with rows only for deliveries that failed): for metrics, operators and
/// tests.
extension Outbox {
    /// Undelivered events of one subscriber: how many, and when the oldest happened.
    public struct Backlog: Sendable, Equatable {
        public let subscriber: String
        public let count: Int
        public let oldestOccurredAt: String?
    }

    /// The subscribers' cursors; the empty subscriber is the baseline a subscriber without a cursor
    /// of its own starts from.
    static func cursors(in connection: any SQLConnection) throws -> [String: Int64] {
        var cursors: [String: Int64] = [:]
        for row in try connection.query("SELECT subscriber, delivered_seq FROM outbox_cursors") {
            cursors[try row.string("subscriber")] = try row.int64("delivered_seq")
        }
        return cursors
    }

    /// The cursor row every subscriber without one of its own starts from (migration 1003).
    static let baselineSubscriber = ""

    static func position(of subscriber: String, in cursors: [String: Int64]) -> Int64 {
        cursors[subscriber] ?? cursors[baselineSubscriber] ?? 0
    }

    /// Each subscriber's pending deliveries: rows waiting for a retry and, with cursors, the
    /// events past the subscriber's cursor that it subscribes to. Reads only what is pending.
    public func backlog(in connection: any SQLConnection) throws -> [Backlog] {
        var counts: [String: (count: Int, oldest: String?)] = [:]
        func add(_ subscriber: String, _ count: Int, _ oldest: String?) {
            let earlier = counts[subscriber]
            let first = [earlier?.oldest, oldest].compactMap { $0 }.min()
            counts[subscriber] = ((earlier?.count ?? 0) + count, first)
        }
        let rows = try connection.query(
            """
            SELECT subscriber, COUNT(*) AS n, MIN(e.occurred_at) AS oldest FROM outbox_deliveries d
            JOIN outbox_events e ON e.seq = d.event_seq WHERE d.status = 'pending' GROUP BY subscriber
            """)
        for row in rows { add(try row.string("subscriber"), try row.int("n"), row.optionalString("oldest")) }
        if tracksDeliveriesByCursor {
            let cursors = try Outbox.cursors(in: connection)
            for subscriber in subscriptions.subscriberNames {
                let position = Outbox.position(of: subscriber, in: cursors)
                // An event past the cursor with a row of its own is counted once, through its row.
                let types = try connection.query(
                    """
                    SELECT type, COUNT(*) AS n, MIN(occurred_at) AS oldest FROM outbox_events e WHERE seq > \(position)
                        AND NOT EXISTS (
                            SELECT 1 FROM outbox_deliveries d WHERE d.event_id = e.id AND d.subscriber = \(subscriber))
                    GROUP BY type
                    """)
                for row in types where subscriptions.wants(subscriber, try row.string("type")) {
                    add(subscriber, try row.int("n"), row.optionalString("oldest"))
                }
            }
        }
        return counts.filter { $0.value.count > 0 }.sorted { $0.key < $1.key }.map {
            Backlog(subscriber: $0.key, count: $0.value.count, oldestOccurredAt: $0.value.oldest)
        }
    }

    /// Every delivery to `subscriber` there has been or is to be, in publication order, with its
    /// status (`pending`, `delivered` or `dead`). Reads the whole outbox: for tests and tools.
    public func deliveries(to subscriber: String) throws -> [(eventId: String, status: String)] {
        try database.read { connection in
            guard tracksDeliveriesByCursor else {
                return try connection.query(
                    "SELECT event_id, status FROM outbox_deliveries WHERE subscriber = \(subscriber) ORDER BY event_seq"
                ).map { (try $0.string("event_id"), try $0.string("status")) }
            }
            let cursors = try Outbox.cursors(in: connection)
            let position = Outbox.position(of: subscriber, in: cursors)
            let baseline = cursors[Outbox.baselineSubscriber] ?? 0
            let rows = try connection.query(
                """
                SELECT e.seq, e.id, e.type, d.status FROM outbox_events e
                LEFT JOIN outbox_deliveries d ON d.event_id = e.id AND d.subscriber = \(subscriber)
                ORDER BY e.seq
                """)
            return try rows.compactMap { row in
                // A row speaks for its delivery; without one, the cursor does — for events after the
                // baseline (before it, every delivery was given a row when it was published).
                if let status = row.optionalString("status") { return (try row.string("id"), status) }
                let seq = try row.int64("seq")
                guard seq > baseline, subscriptions.wants(subscriber, try row.string("type")) else { return nil }
                return (try row.string("id"), seq <= position ? "delivered" : "pending")
            }
        }
    }

    /// The status of one event's delivery to `subscriber`; nil when there is none.
    public func deliveryStatus(of eventId: String, to subscriber: String) throws -> String? {
        try deliveries(to: subscriber).first { $0.eventId == eventId }?.status
    }
}
