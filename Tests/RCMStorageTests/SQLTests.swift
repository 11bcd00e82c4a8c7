import Foundation
import RCMCore
import RCMTestSupport
import Testing

@testable import RCMStorage

@Suite("SQL layer")
struct SQLTests {
    @Test("interpolated values become bind parameters, never SQL text")
    func bindsNotSplices() {
        let hostile = "x'); DROP TABLE patients; --"
        let sql: SQL = "SELECT * FROM t WHERE a = \(hostile) AND b = \(42) AND c = \(Optional<String>.none)"
        #expect(sql.text(for: .sqlite) == "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?")
        #expect(sql.text(for: .postgres) == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3")
        #expect(sql.binds == [.text(hostile), .integer(42), .null])
        #expect(!sql.description.contains("DROP"))
        let joined = sql + " AND d = \(Money(minorUnits: 5))"
        #expect(joined.text(for: .postgres).hasSuffix("d = $4"))
        #expect(joined.binds.last == .integer(5))
    }
}

@Suite("Database drivers (SQLite by default, PostgreSQL with RCM_TEST_DATABASE_URL)")
struct DatabaseTests {
    static let migrations = [
        Migration(1, "things", ["CREATE TABLE things (id {{id}}, name TEXT NOT NULL UNIQUE, amount BIGINT)"]),
        Migration(2, "things note", ["ALTER TABLE things ADD COLUMN note TEXT"]),
    ]

    func migrated() throws -> any Database {
        let database = try TestDatabases.make()
        try Migrator.migrate(database, Self.migrations)
        return database
    }

    @Test("migrations apply once, in order")
    func migrations() throws {
        let database = try TestDatabases.make()
        defer { database.close() }
        #expect(try Migrator.migrate(database, Self.migrations) == [1, 2])
        #expect(try Migrator.migrate(database, Self.migrations) == [])
        #expect(
            try Migrator.migrate(database, Self.migrations + [Migration(3, "more", ["CREATE TABLE more (x TEXT)"])])
                == [3])
    }

    @Test("values round-trip, hostile text stays data")
    func roundTrip() throws {
        let database = try migrated()
        defer { database.close() }
        let hostile = "Robert'); DROP TABLE things;--"
        try database.write { connection in
            try connection.execute(
                "INSERT INTO things (name, amount, note) VALUES (\(hostile), \(Int64.max), \(Optional<String>.none))")
            try connection.execute("INSERT INTO things (name, amount) VALUES (\("ünïcødé ✓"), \(-5))")
            // Short (inline) and long strings bind alike; the same statement run again binds afresh.
            for name in ["a", String(repeating: "long text ", count: 50), "b"] {
                try connection.execute("INSERT INTO things (name, amount) VALUES (\(name), \(1))")
            }
        }
        let rows = try database.read { try $0.query("SELECT * FROM things ORDER BY id") }
        #expect(rows.count == 5)
        #expect(try rows[2...].map { try $0.string("name") } == ["a", String(repeating: "long text ", count: 50), "b"])
        #expect(try rows[0].string("name") == hostile)
        #expect(try rows[0].int64("amount") == Int64.max)
        #expect(rows[0]["note"] == .null)
        #expect(try rows[1].string("name") == "ünïcødé ✓")
        #expect(try rows[1].money("amount") == Money(minorUnits: -5))
    }

    @Test("a transaction that throws leaves nothing behind")
    func rollback() throws {
        let database = try migrated()
        defer { database.close() }
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.write { connection in
                try connection.execute("INSERT INTO things (name) VALUES (\("a"))")
                throw Abort()
            }
        }
        #expect(try database.read { try $0.query("SELECT id FROM things") }.isEmpty)
    }

    @Test("unique violations are recognised")
    func uniqueViolation() throws {
        let database = try migrated()
        defer { database.close() }
        try database.write { try $0.execute("INSERT INTO things (name) VALUES (\("a"))") }
        do {
            try database.write { try $0.execute("INSERT INTO things (name) VALUES (\("a"))") }
            Issue.record("no error")
        } catch let error as DatabaseError {
            #expect(error.kind == .uniqueViolation)
        }
        #expect(
            try database.write { try $0.execute("INSERT INTO things (name) VALUES (\("a")) ON CONFLICT DO NOTHING") }
                == 0)
    }

    @Test("concurrent writers from many threads all commit")
    func concurrentWrites() throws {
        let database = try migrated()
        defer { database.close() }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<25 {
                _ = try? database.write {
                    try $0.execute("INSERT INTO things (name) VALUES (\("w\(worker)-\(index)"))")
                }
            }
        }
        let count = try database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM things")?.int("n") }
        #expect(count == 200)
        #expect(database.ping())
    }
}

@Suite("A PostgreSQL blip", .enabled(if: TestDatabases.postgresURL != nil))
struct PostgresBlipTests {
    @Test("connections killed by the server are replaced; the next transaction succeeds")
    func terminatedConnections() throws {
        let url = try #require(TestDatabases.postgresURL)
        let prefix = TestDatabases.schemaPrefix()
        let database = try DatabaseFactory.open(url: url, dataDirectory: "", service: "blip", schemaPrefix: prefix)
        defer { database.close() }
        try Migrator.migrate(database, [Migration(1, "t", ["CREATE TABLE t (n BIGINT NOT NULL)"])])
        try database.write { try $0.execute("INSERT INTO t (n) VALUES (\(1))") }

        let admin = try DatabaseFactory.open(url: url, dataDirectory: "", service: "admin", schemaPrefix: prefix)
        defer { admin.close() }
        let killed = try admin.write { connection in
            try connection.query(
                """
                SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
                WHERE application_name = \("rcm-\(prefix)blip")
                """
            ).count
        }
        #expect(killed >= 1)

        try database.write { try $0.execute("INSERT INTO t (n) VALUES (\(2))") }
        let count = try database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM t")?.int("n") }
        #expect(count == 2)
    }
}

@Suite("PostgreSQL pipelined BEGIN and prepared statements", .enabled(if: TestDatabases.postgresURL != nil))
struct PostgresRoundTripTests {
    @Test("a failing first statement rolls back; prepared statements survive it; empty transactions are fine")
    func firstStatementFailures() throws {
        let url = try #require(TestDatabases.postgresURL)
        let database = try DatabaseFactory.open(
            url: url, dataDirectory: "", service: "pipeline", schemaPrefix: TestDatabases.schemaPrefix())
        defer { database.close() }
        try Migrator.migrate(database, [Migration(1, "t", ["CREATE TABLE t (n BIGINT PRIMARY KEY)"])])
        try database.write { try $0.execute("INSERT INTO t (n) VALUES (\(1))") }
        for _ in 0..<3 {  // the same statement text, prepared once, failing as the first statement
            #expect(throws: DatabaseError.self) {
                try database.write { connection in
                    try connection.execute("INSERT INTO t (n) VALUES (\(1))")
                    try connection.execute("INSERT INTO t (n) VALUES (\(99))")
                }
            }
        }
        #expect(throws: DatabaseError.self) {  // a syntax error is never cached as prepared
            try database.write { try $0.execute("INSERT INTO nowhere VALUES (\(1))") }
        }
        try database.write { _ in }  // no statement: neither BEGIN nor COMMIT
        let value: Int? = try database.read { _ in nil }
        #expect(value == nil)
        try database.write { connection in
            try connection.execute("INSERT INTO t (n) VALUES (\(2))")
            try connection.execute("INSERT INTO t (n) VALUES (\(3))")
        }
        let rows = try database.statement("SELECT n FROM t ORDER BY n").map { try $0.int("n") }
        #expect(rows == [1, 2, 3])
        let usage = try #require(database.poolUsage)
        #expect(usage.inUse == 0, "every connection went back to the pool")
    }
}

@Suite("SQLite checkpoints")
struct SQLiteCheckpointTests {
    @Test("the WAL is copied into the database file by the background checkpointer, not by a commit")
    func backgroundCheckpoint() throws {
        let directory = TestDatabases.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/db.sqlite"
        let database = try SQLiteDatabase(path: path, checkpointPages: 1000)
        defer { database.close() }
        try database.write { try $0.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)") }
        func size(_ file: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0
        }
        let before = size(path)
        // About 1,500 pages of WAL in 300 commits: past the threshold more than once.
        let body = String(repeating: "x", count: 20_000)
        for _ in 0..<300 { try database.write { try $0.execute("INSERT INTO blobs (body) VALUES (\(body))") } }
        var copied = false
        for _ in 0..<100 where !copied {
            copied = size(path) > before + 1_000_000
            if !copied { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(copied)
        // Under writes without pause the WAL stays bounded (restarted once past 2,000 frames, about
        // 8 MB) instead of growing with everything written (3,000 commits of about 6 pages: ~75 MB),
        // however far behind the background checkpointer falls.
        for _ in 0..<2700 { try database.write { try $0.execute("INSERT INTO blobs (body) VALUES (\(body))") } }
        #expect(size(path + "-wal") < 12_000_000)
        let count = try database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM blobs")?.int("n") }
        #expect(count == 3000)
    }
}
