import CSQLite
import Foundation

/// Group commit for SQLite's one writer connection. Each write transaction runs its body on its
/// caller's thread, as before; but when other writers are already waiting, a finished body does
/// not commit: it hands the open transaction on to the next writer, and the last one of the group
/// commits for all. Every caller returns only once the transaction holding its work has
/// committed (or throws if that commit failed), so nothing is acknowledged before it is durable.
///
/// Much of a small transaction's cost is its commit: each page it changed goes to the WAL
/// (header and page, two writes), and the pages concurrent transactions change are mostly the
/// same ones (the right edges of tables and indexes). Under load a group of N writers pays for
/// about one commit instead of N; alone, a writer commits at once, as if there were no group.
///
/// Each body after the first runs inside a savepoint, so a body that throws undoes only its own
/// work; the others in the group are unaffected. If SQLite itself ends the transaction after an
/// error (a full disk, an I/O error), every caller in the group gets that error.
final class SQLiteGroupCommit: @unchecked Sendable {
    /// Bodies in one transaction at most, and how long after its transaction began a group is
    /// still handed on: together they bound how long the first member waits for its commit (a
    /// body already running is waited for; only further hand-offs stop).
    let maxMembers: Int
    let maxDelayNanoseconds: UInt64
    private let condition = NSCondition()
    /// A thread is running a body, or committing, on the writer connection.
    private var busy = false
    /// Threads waiting for the writer connection.
    private var waiting = 0
    /// The transaction handed on, open, with the work of callers waiting for its commit.
    private var open: Group?
    /// The connection was closed: writes fail.
    private var closed = false
    /// Commits made, and bodies whose work they carried (for tests and measurements).
    private var counts = (commits: 0, members: 0)
    var statistics: (commits: Int, members: Int) {
        condition.lock()
        defer { condition.unlock() }
        return counts
    }
    /// Threads waiting for the writer connection now (for tests).
    var waitingWriters: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiting
    }

    final class Group {
        /// Callers whose work is in the transaction and who wait for its commit.
        var members = 0
        /// Set when the transaction ends: committed, or failed for everyone in it.
        var outcome: Result<Void, any Error>?
        let began = DispatchTime.now().uptimeNanoseconds
    }

    init(maxMembers: Int = 32, maxDelay: Duration = .milliseconds(10)) {
        self.maxMembers = maxMembers
        let (seconds, attoseconds) = maxDelay.components
        self.maxDelayNanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
    }

    func write<T>(on connection: SQLiteConnection, _ body: (any SQLConnection) throws -> T) throws -> T {
        let group = try begin(on: connection)
        // Others' work is already in the transaction: a failure must undo only this body's.
        let shared = group.members > 0
        var result: Result<T, any Error>
        do {
            if shared { try connection.execute("SAVEPOINT rcm_group_member") }
            result = .success(try body(connection))
            if shared { try connection.execute("RELEASE rcm_group_member") }
        } catch {
            result = .failure(error)
            if connection.inTransaction {
                if shared {
                    // Either both succeed, or the transaction is abandoned below for everyone.
                    if (try? connection.execute("ROLLBACK TO rcm_group_member")) == nil
                        || (try? connection.execute("RELEASE rcm_group_member")) == nil
                    {
                        _ = try? connection.execute("ROLLBACK")
                    }
                } else {
                    _ = try? connection.execute("ROLLBACK")
                }
            }
        }

        condition.lock()
        if case .success = result { group.members += 1 }
        guard connection.inTransaction else {
            // The transaction ended here: rolled back because the only body in it failed, or by
            // SQLite after an error, taking the work of everyone in the group with it.
            if group.members > 0 {
                let failure: any Error
                if case .failure(let error) = result {
                    failure = error
                } else {
                    failure = DatabaseError(.other, "the write transaction ended before its commit")
                }
                group.outcome = .failure(failure)
                result = .failure(failure)
            }
            end()
            return try result.get()
        }
        if waiting > 0, group.members < maxMembers,
            DispatchTime.now().uptimeNanoseconds - group.began < maxDelayNanoseconds
        {
            // Hand the open transaction (`open` is this group) to the next writer; the group's
            // last member commits.
            busy = false
            condition.broadcast()
            guard case .success = result else {
                condition.unlock()
                return try result.get()
            }
            while group.outcome == nil { condition.wait() }
            let outcome = group.outcome
            condition.unlock()
            try outcome?.get()
            return try result.get()
        }
        condition.unlock()
        let committed = commit(on: connection)
        condition.lock()
        group.outcome = committed
        counts.commits += 1
        counts.members += group.members
        end()
        let value = try result.get()  // this body's own failure comes first
        try committed.get()
        return value
    }

    /// Waits for the connection to be free, commits the transaction handed on if there is one,
    /// then runs `close`; writes after that fail.
    func close(_ connection: SQLiteConnection, _ close: () -> Void) {
        condition.lock()
        take()
        let group = open
        condition.unlock()
        let committed = group.map { _ in commit(on: connection) }
        close()
        condition.lock()
        group?.outcome = committed
        closed = true
        end()
    }

    /// Takes the connection, joining the open transaction or beginning one.
    private func begin(on connection: SQLiteConnection) throws -> Group {
        condition.lock()
        take()
        if closed {
            busy = false
            condition.broadcast()
            condition.unlock()
            throw DatabaseError(.connection, "the database is closed")
        }
        if let group = open {
            condition.unlock()
            return group
        }
        condition.unlock()
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            condition.lock()
            end()
            throw error
        }
        let group = Group()
        condition.lock()
        open = group
        condition.unlock()
        return group
    }

    /// Waits, counted among the waiting writers, until the connection is free, then takes it.
    /// Called with the lock held.
    private func take() {
        waiting += 1
        while busy { condition.wait() }
        waiting -= 1
        busy = true
    }

    private func commit(on connection: SQLiteConnection) -> Result<Void, any Error> {
        do {
            try connection.execute("COMMIT")
            return .success(())
        } catch {
            if connection.inTransaction { _ = try? connection.execute("ROLLBACK") }
            return .failure(error)
        }
    }

    /// Frees the connection and wakes everyone waiting for it or for a commit. Called with the
    /// lock held; releases it.
    private func end() {
        open = nil
        busy = false
        condition.broadcast()
        condition.unlock()
    }
}
