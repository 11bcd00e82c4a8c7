import RCMCore
import RCMStorage
import RCMTestSupport
import Testing

@testable import RCMEvents

/// The relay runs its statements on every pass; one that scans the outbox costs in proportion to
/// everything ever published (this happened once: a row-value `IN` list made SQLite scan
/// `outbox_deliveries` to mark each pass's deliveries). These tests read the databases' own plans.
@Suite("Outbox relay statements look rows up through indexes")
struct RelayQueryPlanTests {
    /// A few thousand delivered events and a few pending ones.
    static func filledOutbox() throws -> any Database {
        let database = try TestDatabases.make("plans")
        try Migrator.migrate(database, Outbox.migrations)
        try database.write { connection in
            for chunk in stride(from: 0, to: 3000, by: 500) {
                var events: SQL =
                    "INSERT INTO outbox_events (id, type, schema_version, occurred_at, organization_id, correlation_id, source, payload) VALUES "
                var deliveries: SQL =
                    "INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at) VALUES "
                for index in chunk..<chunk + 500 {
                    let separator = index == chunk ? "" : ", "
                    let id = "evt_\(index)"
                    events =
                        events
                        + "\(unsafeRaw: separator)(\(id), 'thing.made', 1, '2026-12-04T00:00:00Z', 'org', 'c', 'src', '{}')"
                    let status = index < 2990 ? "delivered" : "pending"
                    for subscriber in ["claim", "payment", "reporting"] {
                        let comma = index == chunk && subscriber == "claim" ? "" : ", "
                        deliveries =
                            deliveries
                            + "\(unsafeRaw: comma)(\(Int64(index + 1)), \(id), \(subscriber), \(status), 0, 0)"
                    }
                }
                try connection.execute(events)
                try connection.execute(deliveries)
            }
        }
        return database
    }

    static func plan(_ sql: SQL, in database: any Database) throws -> [String] {
        let prefix: SQL = database.dialect == .postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN "
        return try database.write { connection in  // EXPLAIN only plans: nothing is written
            // PostgreSQL picks a scan of a small table when it is cheaper; with scans priced out,
            // a scan left in the plan means no index can serve the statement.
            if database.dialect == .postgres { try connection.execute("SET LOCAL enable_seqscan = off") }
            return try connection.query(prefix + sql).map { row in
                database.dialect == .postgres ? try row.string("QUERY PLAN") : try row.string("detail")
            }
        }
    }

    @Test("selecting or claiming the due rows, reading past a cursor and its rows, and marking deliveries, use indexes")
    func indexes() throws {
        let database = try Self.filledOutbox()
        defer { database.close() }
        let mark = OutboxRelay.markDelivered(
            subscriber: "payment", eventIds: ["evt_2991", "evt_2992", "evt_2993"], at: Timestamp.now())
        let due =
            database.dialect == .postgres
            ? OutboxRelay.claimDue(now: 1, limit: 200, leaseMillis: 30_000)
            : OutboxRelay.selectDue(now: 1, limit: 200)
        let past = OutboxRelay.selectPast(2900, limit: 200)
        let rows = OutboxRelay.selectRows(after: 2900, through: 3000)
        for statement in [mark, due, past, rows] {
            let plan = try Self.plan(statement, in: database)
            let scans = plan.filter {
                database.dialect == .postgres
                    ? $0.contains("Seq Scan on outbox_deliveries") || $0.contains("Seq Scan on outbox_events")
                    : $0.hasPrefix("SCAN ") && !$0.contains("CONSTANT ROWS")
            }
            #expect(scans.isEmpty, "\(statement): \(plan)")
        }
    }
}
