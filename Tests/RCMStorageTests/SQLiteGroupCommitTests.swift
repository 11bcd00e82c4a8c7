import Foundation
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMStorage

@Suite("SQLite group commit")
struct SQLiteGroupCommitTests {
    struct Refused: Error {}

    /// Runs `body` with a database holding a table `t (n INTEGER PRIMARY KEY, writer TEXT)`, then
    /// removes it; groups are handed on for as long as the tests take to line writers up (unless
    /// told otherwise).
    func withDatabase(
        groupCommitDelay: Duration = .seconds(60), closing: Bool = true, _ body: (SQLiteDatabase) throws -> Void
    ) throws {
        let directory = TestDatabases.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try SQLiteDatabase(path: directory + "/db.sqlite", groupCommitDelay: groupCommitDelay)
        defer { if closing { database.close() } }
        try database.write { try $0.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, writer TEXT NOT NULL)") }
        try body(database)
    }

    /// A write body that adds a row for `writer`.
    static func insert(_ writer: String) -> @Sendable (any SQLConnection) throws -> Void {
        { try $0.execute("INSERT INTO t (writer) VALUES (\(writer))") }
    }

    func rows(_ database: SQLiteDatabase) throws -> [String] {
        try database.read { try $0.query("SELECT writer FROM t ORDER BY n").map { try $0.string("writer") } }
    }

    /// Runs `first` on a thread; once its body has started, runs each of `others` on a thread of
    /// its own while `first`'s body holds the writer until they all wait for it, so they join its
    /// transaction. Returns each writer's outcome (nil: succeeded), first one first.
    func writeInGroup(
        _ database: SQLiteDatabase,
        first: @escaping @Sendable (any SQLConnection) throws -> Void,
        others: [@Sendable (any SQLConnection) throws -> Void]
    ) -> [String?] {
        let outcomes = Mutex<[Int: String]>([:])
        let started = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        func run(_ index: Int, _ body: @escaping @Sendable (any SQLConnection) throws -> Void) {
            group.enter()
            Thread {
                do {
                    try database.write { try body($0) }
                } catch {
                    outcomes.withLock { $0[index] = String(describing: error) }
                }
                group.leave()
            }.start()
        }
        run(
            0,
            { connection in
                try first(connection)
                started.signal()
                let deadline = Date(timeIntervalSinceNow: 10)
                while database.groupCommit.waitingWriters < others.count, Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.005)
                }
            })
        started.wait()
        for (index, body) in others.enumerated() { run(index + 1, body) }
        group.wait()
        return (0...others.count).map { index in outcomes.withLock { $0[index] } }
    }

    @Test("writers that queue behind one another share one commit, and each returns after it")
    func queuedWritersShareACommit() throws {
        try withDatabase { database throws in
            let before = database.groupCommit.statistics
            let outcomes = writeInGroup(
                database, first: Self.insert("a"),
                others: ["b", "c", "d"].map(Self.insert))
            #expect(outcomes == [nil, nil, nil, nil])
            let after = database.groupCommit.statistics
            #expect(after.commits - before.commits == 1, "one commit carried the four writers' work")
            #expect(after.members - before.members == 4)
            #expect(try rows(database).sorted() == ["a", "b", "c", "d"])
        }
    }

    @Test("a transaction older than the group delay commits instead of being handed on")
    func delayBoundsTheGroup() throws {
        try withDatabase(groupCommitDelay: .zero) { database throws in
            let before = database.groupCommit.statistics
            let outcomes = writeInGroup(
                database, first: Self.insert("a"),
                others: ["b", "c"].map(Self.insert))
            #expect(outcomes == [nil, nil, nil])
            let after = database.groupCommit.statistics
            #expect(after.commits - before.commits == 3, "each writer committed alone")
            #expect(try rows(database).sorted() == ["a", "b", "c"])
        }
    }

    @Test("a body that throws in a group undoes only its own work; the others commit")
    func failureUndoesOnlyItsOwnWork() throws {
        try withDatabase { database throws in
            let outcomes = writeInGroup(
                database, first: Self.insert("a"),
                others: [
                    Self.insert("b"),
                    { connection in
                        try connection.execute("INSERT INTO t (writer) VALUES (\("refused"))")
                        try connection.execute("UPDATE t SET writer = 'overwritten'")
                        throw Refused()
                    },
                    Self.insert("d"),
                ])
            #expect(outcomes[0] == nil && outcomes[1] == nil && outcomes[3] == nil)
            #expect(outcomes[2]?.contains("Refused") == true)
            #expect(try rows(database).sorted() == ["a", "b", "d"])
        }
    }

    @Test("a constraint violation in a group is that writer's error alone")
    func constraintViolationStaysWithItsWriter() throws {
        try withDatabase { database throws in
            let outcomes = writeInGroup(
                database, first: { try $0.execute("INSERT INTO t (n, writer) VALUES (1, \("a"))") },
                others: [
                    { try $0.execute("INSERT INTO t (n, writer) VALUES (1, \("duplicate"))") },
                    { try $0.execute("INSERT INTO t (n, writer) VALUES (2, \("c"))") },
                ])
            #expect(outcomes[0] == nil && outcomes[2] == nil)
            #expect(outcomes[1] != nil)
            #expect(try rows(database) == ["a", "c"])
        }
    }

    @Test("when the transaction ends before its commit, every writer in the group gets an error")
    func lostTransactionFailsTheWholeGroup() throws {
        try withDatabase { database throws in
            // A body ending the transaction stands in for SQLite rolling it back after an I/O error.
            let outcomes = writeInGroup(
                database, first: Self.insert("a"),
                others: [
                    { connection in
                        try connection.execute("INSERT INTO t (writer) VALUES (\("b"))")
                        try connection.execute("ROLLBACK")
                    }
                ])
            #expect(outcomes[0] != nil, "a's work was lost with the transaction: it must not be told otherwise")
            #expect(outcomes[1] != nil)
            #expect(try rows(database).isEmpty)
            // The connection is usable afterwards.
            try database.write { try $0.execute("INSERT INTO t (writer) VALUES (\("e"))") }
            #expect(try rows(database) == ["e"])
        }
    }

    @Test("eight threads writing at once: every acknowledged write is there, every refused one is not")
    func concurrentWriters() throws {
        try withDatabase { database throws in
            let acknowledged = Mutex<Set<String>>([])
            let missing = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for index in 0..<150 {
                    let name = "\(thread)-\(index)"
                    do {
                        try database.write { connection in
                            try connection.execute("INSERT INTO t (writer) VALUES (\(name))")
                            if index % 7 == 3 { throw Refused() }
                        }
                        acknowledged.withLock { _ = $0.insert(name) }
                        // Acknowledged means committed: a reader sees it at once.
                        let seen = try database.read {
                            try $0.queryFirst("SELECT n FROM t WHERE writer = \(name)") != nil
                        }
                        if !seen { missing.withLock { $0.append(name) } }
                    } catch is Refused {
                    } catch {
                        missing.withLock { $0.append("\(name): \(error)") }
                    }
                }
            }
            #expect(missing.withLock { $0 }.isEmpty)
            #expect(Set(try rows(database)) == acknowledged.withLock { $0 })
            #expect(acknowledged.withLock { $0.count } == 8 * (150 - 21))
        }
    }

    @Test("a write after close fails instead of waiting forever")
    func writeAfterClose() throws {
        try withDatabase(closing: false) { database throws in
            database.close()
            #expect(throws: (any Error).self) {
                try database.write { try $0.execute("INSERT INTO t (writer) VALUES ('x')") }
            }
        }
    }
}
