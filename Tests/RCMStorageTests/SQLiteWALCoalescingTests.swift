import CSQLite
import Foundation
import RCMTestSupport
import Testing

@testable import RCMStorage

/// The VFS under every SQLite connection writes a WAL commit's frames with one call instead of
/// two per page (CSQLiteVFS). What it must never change: what a commit leaves in the files, what
/// other connections see after it, and what survives closing and reopening.
@Suite("SQLite WAL writes coalesced by the VFS")
struct SQLiteWALCoalescingTests {
    static func temporaryPath() -> (directory: String, path: String) {
        let directory = TestDatabases.temporaryDirectory()
        return (directory, directory + "/db.sqlite")
    }

    /// A database on fresh files that is never checkpointed (its WAL holds everything written),
    /// removed afterwards; `body` gets its file's path and directory too.
    static func withDatabase(
        walCoalescing: Bool = true, _ body: (SQLiteDatabase, _ path: String, _ directory: String) throws -> Void
    ) throws {
        let (directory, path) = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try SQLiteDatabase(path: path, checkpointPages: 1_000_000, walCoalescing: walCoalescing)
        defer { database.close() }
        try body(database, path, directory)
    }

    /// Inserts `count` rows of `bytes` random bytes into `table`'s column `y`, in one statement.
    static func insertBlobs(_ count: Int, bytes: Int, into table: String, _ connection: any SQLConnection) throws {
        try connection.execute(
            """
            WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < \(count))
            INSERT INTO \(unsafeRaw: table) (y) SELECT randomblob(\(bytes)) FROM c
            """)
    }

    /// A connection through SQLite's default VFS (not the platform's), for reading files as
    /// another program would.
    final class DefaultVFSConnection {
        private var handle: OpaquePointer?
        let opened: Bool

        init(_ path: String, flags: Int32) { opened = sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK }
        deinit { sqlite3_close_v2(handle) }

        /// The first row's column `column` as an integer and as text; (-1, the error) on failure.
        func first(_ sql: String, column: Int32 = 0) -> (integer: Int32, text: String) {
            var statement: OpaquePointer?
            defer { sqlite3_finalize(statement) }
            guard opened, sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK,
                sqlite3_step(statement) == SQLITE_ROW
            else { return (-1, handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open") }
            return (
                sqlite3_column_int(statement, column),
                sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""
            )
        }
    }

    @Test("connections open through the coalescing VFS")
    func connectionsUseTheVFS() throws {
        #expect(SQLiteConnection.vfs == "rcm-unix-coalescing")
    }

    @Test("each commit reaches the WAL in fewer write calls, and other connections read it at once")
    func commitsAreCoalescedAndVisible() throws {
        try Self.withDatabase { database, _, _ in
            try database.write {
                try $0.execute(
                    "CREATE TABLE rows (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE, body TEXT NOT NULL)")
            }
            let before = SQLiteDatabase.walWriteCalls
            for index in 0..<300 {
                // Three to ten pages a commit: the table, its index, and overflow pages of the body.
                let body = String(repeating: "b", count: 100 + (index % 8) * 4_000)
                try database.write {
                    try $0.execute("INSERT INTO rows (label, body) VALUES (\("row-\(index)"), \(body))")
                }
                // A reader (another connection) sees every acknowledged commit, whole.
                let seen = try database.read { connection in
                    try connection.queryFirst("SELECT COUNT(*) AS n, MAX(length(body)) AS longest FROM rows")
                }
                #expect(try seen?.int("n") == index + 1)
                if index == 7 { #expect(try seen?.int("longest") == 100 + 7 * 4_000) }
            }
            let after = SQLiteDatabase.walWriteCalls
            let requested = after.requested - before.requested
            let issued = after.issued - before.issued
            // Two calls a frame asked for, one a commit made (other suites' commits count too, and
            // are coalesced the same way).
            #expect(requested >= 1_800)
            #expect(Double(issued) < Double(requested) * 0.6, "\(issued) write calls for \(requested)")
        }
    }

    @Test("a transaction larger than one write call, spilled to the WAL before its commit, commits whole")
    func largeTransactions() throws {
        let (directory, path) = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var database: SQLiteDatabase? = try SQLiteDatabase(path: path, checkpointPages: 1_000_000)
        let body = String(repeating: "z", count: 3_000)
        try database?.write { connection in
            // A small cache, and spilling allowed again (the writer turns it off): pages go to the
            // WAL before the commit, the VFS's path for frames written and rewritten early.
            try connection.execute("PRAGMA cache_size = 50")
            try connection.execute("PRAGMA cache_spill = ON")
            try connection.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            for index in 0..<3_000 { try connection.execute("INSERT INTO big (id, body) VALUES (\(index), \(body))") }
        }
        // A spilled transaction that fails leaves nothing behind.
        struct Abandon: Error {}
        #expect(throws: Abandon.self) {
            try database?.write { connection in
                for index in 3_000..<6_000 {
                    try connection.execute("INSERT INTO big (id, body) VALUES (\(index), \(body))")
                }
                try connection.execute("UPDATE big SET body = 'changed' WHERE id < 1000")
                throw Abandon()
            }
        }
        func check(_ database: SQLiteDatabase?) throws {
            let row = try database?.read { connection in
                try connection.queryFirst(
                    "SELECT COUNT(*) AS n, SUM(length(body)) AS total, MAX(id) AS last FROM big")
            }
            #expect(try row?.int("n") == 3_000)
            #expect(try row?.int("total") == 3_000 * 3_000)
            #expect(try row?.int("last") == 2_999)
            let integrity = try database?.read { try $0.queryFirst("PRAGMA integrity_check") }
            #expect(try integrity?.string("integrity_check") == "ok")
        }
        try check(database)
        // Reopened (the WAL replayed into a fresh connection), the same.
        database?.close()
        database = try SQLiteDatabase(path: path)
        try check(database)
        database?.close()
    }

    /// What a SIGKILL right after a commit leaves is what the OS holds of the files: copied while
    /// the connection is still open, then opened (and recovered) by SQLite's default VFS.
    static func crashCopy(of path: String, in directory: String) throws -> (rows: Int32, integrity: String) {
        let copy = directory + "/crash-copy.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        let connection = DefaultVFSConnection(copy, flags: SQLITE_OPEN_READWRITE)
        return (connection.first("SELECT COUNT(*) FROM t").integer, connection.first("PRAGMA integrity_check").text)
    }

    @Test("a transaction that spilled pages and changed them again survives a crash right after its commit")
    func rewrittenChecksumsReachTheFile() throws {
        // Such a commit rewrites its frames' headers in place, the commit frame's last, with no
        // page after them: a header buffered there would stay in memory after COMMIT returned.
        try Self.withDatabase { database, path, directory in
            try database.write { connection in
                try connection.execute("PRAGMA cache_size = 20")
                try connection.execute("PRAGMA cache_spill = ON")  // the writer turns spilling off
                try connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y BLOB)")
                try connection.execute("INSERT INTO t (y) VALUES (randomblob(100))")
            }
            try database.write { connection in
                try Self.insertBlobs(3_000, bytes: 300, into: "t", connection)
                try connection.execute("UPDATE t SET y = randomblob(300) WHERE x % 50 = 0")
            }
            let recovered = try Self.crashCopy(of: path, in: directory)
            #expect(recovered.rows == 3001)
            #expect(recovered.integrity == "ok")
        }
    }

    @Test(
        "a large transaction that rolls back to a savepoint and commits survives a crash",
        arguments: [true, false])
    func savepointRollbackInLargeTransaction(throughCoalescingVFS: Bool) throws {
        // Group commit's shape: a member's savepoint rolled back, the transaction carried on. With
        // pages spilled to the WAL before the commit, SQLite 3.40 committed frames that recovery
        // rejected (0 rows after a crash, through its own VFS as through ours); the writer now
        // keeps a transaction's pages in memory until it commits.
        try Self.withDatabase(walCoalescing: throughCoalescingVFS) { database, path, directory in
            try database.write { connection in
                try connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y BLOB)")
                try connection.execute("CREATE TABLE u (x INTEGER PRIMARY KEY, y BLOB)")
            }
            try database.write { connection in
                try Self.insertBlobs(3_000, bytes: 1_000, into: "t", connection)
                try connection.execute("SAVEPOINT member")
                try Self.insertBlobs(6_000, bytes: 1_000, into: "u", connection)
                try connection.execute("UPDATE u SET y = randomblob(1000)")
                try connection.execute("ROLLBACK TO member")
                try connection.execute("RELEASE member")
                try connection.execute("INSERT INTO t (y) VALUES ('last')")
            }
            let recovered = try Self.crashCopy(of: path, in: directory)
            #expect(recovered.rows == 3001)
            #expect(recovered.integrity == "ok")
        }
    }

    @Test("SQLite's own default VFS reads what the coalescing VFS wrote, WAL included")
    func defaultVFSReadsTheFiles() throws {
        try Self.withDatabase { database, path, _ in
            try database.write { try $0.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)") }
            for index in 0..<200 {
                try database.write { try $0.execute("INSERT INTO notes (text) VALUES (\("note \(index)"))") }
            }
            let reader = DefaultVFSConnection(path, flags: SQLITE_OPEN_READONLY)
            #expect(reader.first("SELECT COUNT(*) FROM notes").integer == 200)
            #expect(reader.first("SELECT MAX(text) FROM notes").text == "note 99")
        }
    }
}
