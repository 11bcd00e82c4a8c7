import CSQLite
import CSQLiteVFS
import Foundation
import RCMCore

/// SQLite in WAL mode: one writer connection (writers take turns in-process and share commits,
/// so they never contend for SQLite's lock) and a pool of reader connections that read
/// concurrently.
public final class SQLiteDatabase: Database, @unchecked Sendable {
    public let path: String
    public var dialect: SQLDialect { .sqlite }
    private let writer: SQLiteConnection
    /// The VFS this database's connections open with (nil: SQLite's default).
    let vfs: String?
    let groupCommit: SQLiteGroupCommit
    private var readers: [SQLiteConnection] = []
    private let readersLock = NSLock()

    /// - Parameter synchronous: `NORMAL` survives a process crash (SIGKILL) with WAL; `FULL` also
    ///   survives power loss at some cost. Taken from `RCM_SQLITE_SYNCHRONOUS` when set.
    /// - Parameter checkpointPages: WAL frames after which a background checkpoint copies them into
    ///   the database file (past twice that, the committing connection checkpoints and restarts the
    ///   WAL). Taken from `RCM_SQLITE_CHECKPOINT_PAGES` when not given; 64,000 (256 MB) by default.
    /// - Parameter groupCommitDelay: how long a write transaction may be handed on to writers
    ///   waiting behind it before it commits (SQLiteGroupCommit).
    /// - Parameter walCoalescing: whether connections open through the VFS that writes a WAL
    ///   commit with one call (CSQLiteVFS; also off with `RCM_SQLITE_WAL_COALESCING=off`), or
    ///   through SQLite's default VFS.
    public init(
        path: String, synchronous: String? = nil, checkpointPages: Int32? = nil,
        groupCommitDelay: Duration = .milliseconds(10), walCoalescing: Bool = true
    ) throws {
        self.path = path
        SQLiteConnection.configured
        vfs = walCoalescing ? SQLiteConnection.vfs : nil
        groupCommit = SQLiteGroupCommit(maxDelay: groupCommitDelay)
        // The checkpointer's thread starts here, at open, so that it takes its scheduling priority
        // from the opening thread, not from whichever thread first commits past the threshold
        // (threads inherit their creator's nice value, and the event relays run niced).
        SQLiteCheckpointer.shared.start()
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let mode = synchronous ?? ProcessInfo.processInfo.environment["RCM_SQLITE_SYNCHRONOUS"] ?? "NORMAL"
        guard ["OFF", "NORMAL", "FULL", "EXTRA"].contains(mode.uppercased()) else {
            throw DatabaseError(.other, "RCM_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA")
        }
        writer = try SQLiteConnection(path: path, vfs: vfs)
        try writer.run("PRAGMA journal_mode=WAL")
        try writer.run("PRAGMA synchronous=\(mode.uppercased())")
        // A write transaction keeps its changed pages in memory until it commits. SQLite 3.40 (up
        // to 3.48 at least) otherwise writes pages of a transaction larger than the cache to the
        // WAL early, and when such a transaction then rolls back to a savepoint (group commit does,
        // for a failed member, as does a failed statement) and carries on, its commit can leave
        // frames that crash recovery rejects: the transaction, and every later one in that WAL,
        // lost after a crash (SQLiteWALCoalescingTests reproduces it through SQLite's own VFS).
        // The cost: the writer's cache grows to its largest transaction.
        try writer.run("PRAGMA cache_spill=OFF")
        // Checkpoints run on a background thread instead of inside the commit that crosses the
        // threshold (SQLite's default), which stalled that request for the copy and two fsyncs.
        writer.onWALGrowth(
            pages: checkpointPages ?? SQLiteCheckpointer.thresholdPages,
            grown: { [weak self] in
                if let self { SQLiteCheckpointer.shared.request(self) }
            },
            overdue: { [weak self] connection in self?.restartCheckpoint(on: connection) })
    }

    // MARK: Checkpoints (SQLiteCheckpointer)

    private let checkpointLock = NSLock()
    private var checkpointConnection: SQLiteConnection?
    private var closed = false

    /// The background checkpointer has fallen far behind the writes: from the committing
    /// connection, wait for it to finish its run, then checkpoint everything and have the next
    /// commit start the WAL afresh (waiting for readers up to the busy timeout). This bounds the
    /// WAL under any load, at the cost of a pause for that one commit.
    private func restartCheckpoint(on connection: OpaquePointer) {
        checkpointLock.lock()
        defer { checkpointLock.unlock() }
        sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_RESTART, nil, nil)
    }

    /// Copies what the WAL holds into the database file without blocking writers or readers
    /// (a passive checkpoint, on a connection of its own).
    func checkpoint() {
        checkpointLock.lock()
        defer { checkpointLock.unlock() }
        guard !closed else { return }
        do {
            if checkpointConnection == nil {
                let connection = try SQLiteConnection(path: path, vfs: vfs)
                // A connection learns the file is in WAL mode when it first reads it.
                try connection.run("PRAGMA journal_mode=WAL")
                checkpointConnection = connection
            }
            checkpointConnection?.checkpointPassive()
        } catch {
            // The next commit past the threshold asks again.
        }
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        let connection = try checkoutReader()
        defer { checkinReader(connection) }
        try connection.execute("BEGIN")
        do {
            let result = try body(connection)
            try connection.execute("COMMIT")
            return result
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// A write transaction on the one writer connection; concurrent ones share a commit
    /// (SQLiteGroupCommit). Returns once the work is committed.
    @discardableResult
    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try groupCommit.write(on: writer, body)
    }

    /// A read-only statement runs on a reader in autocommit (no BEGIN, no writer lock); any other
    /// statement in a write transaction of its own.
    public func statement(_ sql: SQL) throws -> [Row] {
        let reader = try checkoutReader()
        var checkedIn = false
        defer { if !checkedIn { checkinReader(reader) } }
        if try reader.isReadOnly(sql) { return try reader.query(sql) }
        checkinReader(reader)
        checkedIn = true
        return try write { try $0.query(sql) }
    }

    /// Write calls to WAL files since the process started, through the coalescing VFS (zero when
    /// connections use SQLite's default VFS): how many SQLite made, and how many reached the file
    /// system.
    public static var walWriteCalls: (requested: Int64, issued: Int64) {
        var requested: Int64 = 0
        var issued: Int64 = 0
        rcm_sqlite_vfs_wal_writes(&requested, &issued)
        return (requested, issued)
    }

    public func ping() -> Bool { (try? read { try $0.query("SELECT 1 AS ok") }) != nil }

    public func close() {
        checkpointLock.lock()
        closed = true
        checkpointConnection?.close()
        checkpointConnection = nil
        checkpointLock.unlock()
        groupCommit.close(writer) { writer.close() }
        readersLock.lock()
        readers.forEach { $0.close() }
        readers.removeAll()
        readersLock.unlock()
    }

    private func checkoutReader() throws -> SQLiteConnection {
        readersLock.lock()
        if let connection = readers.popLast() {
            readersLock.unlock()
            return connection
        }
        readersLock.unlock()
        let connection = try SQLiteConnection(path: path, vfs: vfs)
        try connection.run("PRAGMA query_only=ON")
        return connection
    }

    private func checkinReader(_ connection: SQLiteConnection) {
        readersLock.lock()
        if readers.count < 16 { readers.append(connection) } else { connection.close() }
        readersLock.unlock()
    }
}

/// One sqlite3 handle with a cache of prepared statements keyed by their text.
final class SQLiteConnection: SQLConnection {
    private var handle: OpaquePointer?
    /// Prepared statements by their text; transaction control goes through here too, so that
    /// `BEGIN` and `COMMIT` are not parsed again for every transaction.
    private var statements: [String: OpaquePointer] = [:]
    /// Result column names of each prepared statement, read once.
    private var columnNames: [OpaquePointer: Row.Columns] = [:]
    var dialect: SQLDialect { .sqlite }

    init(path: String, vfs: String?) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, vfs) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(handle)
            throw DatabaseError(.connection, message)
        }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 5000)
        try run("PRAGMA foreign_keys=ON")
    }

    /// Process-wide SQLite settings, applied once, before the first connection opens (SQLite
    /// takes them only before it initializes).
    static let configured: Void = {
        // Group commit runs each later writer in a savepoint, whose journal holds the pages it
        // changes (an invoice's are ~75 KB): past SQLite's 64 KiB the journal became a temporary
        // file, created and deleted for every group. 120 KiB keeps it in memory; not more: the
        // spilled journal is written in chunks of this size, and the default VFS cannot write
        // more than 0x1ffff bytes in one call (a longer write fails as "disk is full").
        // And no memory statistics: they serialise every allocation SQLite makes (this build has
        // no lookaside, so every one goes to malloc) on one mutex, which the HTTP threads, the
        // relays and the checkpointer contended for.
        _ = rcm_sqlite_configure(120 * 1024)
    }()

    /// The VFS connections open with unless their database says otherwise: `rcm-unix-coalescing`
    /// (CSQLiteVFS: SQLite's default VFS, with each WAL commit written in one call instead of two
    /// per page), unless `RCM_SQLITE_WAL_COALESCING=off` or the VFS could not be registered (then
    /// SQLite's default).
    static let vfs: String? = {
        SQLiteConnection.configured
        if ProcessInfo.processInfo.environment["RCM_SQLITE_WAL_COALESCING"]?.lowercased() == "off" { return nil }
        return rcm_sqlite_vfs_register() == SQLITE_OK ? RCM_SQLITE_VFS_NAME : nil
    }()

    /// Calls `grown` after a commit leaves at least `pages` frames in the WAL, instead of
    /// checkpointing then and there; past twice that, checkpoints in the commit and restarts
    /// the WAL. (The hook runs on the committing thread, after the commit: keep it short.)
    func onWALGrowth(
        pages: Int32, grown: @escaping @Sendable () -> Void, overdue: @escaping @Sendable (OpaquePointer) -> Void
    ) {
        let hook = WALHook(pages: pages, grown: grown, overdue: overdue)
        walHook = hook
        sqlite3_wal_hook(
            handle,
            { context, connection, _, frames in
                guard let context else { return SQLITE_OK }
                let hook = Unmanaged<WALHook>.fromOpaque(context).takeUnretainedValue()
                if frames >= hook.pages * 2, let connection {
                    hook.overdue(connection)
                } else if frames >= hook.pages {
                    hook.grown()
                }
                return SQLITE_OK
            }, Unmanaged.passUnretained(hook).toOpaque())
    }

    /// Keeps the hook's context alive as long as the connection.
    private var walHook: WALHook?

    final class WALHook: Sendable {
        let pages: Int32
        let grown: @Sendable () -> Void
        let overdue: @Sendable (OpaquePointer) -> Void
        init(pages: Int32, grown: @escaping @Sendable () -> Void, overdue: @escaping @Sendable (OpaquePointer) -> Void)
        {
            self.pages = pages
            self.grown = grown
            self.overdue = overdue
        }
    }

    /// Whether a transaction is open (SQLite leaves autocommit mode at BEGIN and returns to it
    /// when the transaction ends: by COMMIT, by ROLLBACK, or by an error that rolled it back).
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    func checkpointPassive() { sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) }

    func close() {
        if walHook != nil { sqlite3_wal_hook(handle, nil, nil) }
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        columnNames.removeAll()
        sqlite3_close_v2(handle)
        handle = nil
    }

    /// Runs SQL text that has no parameters (pragmas, transaction control, migrations).
    func run(_ text: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, text, nil, nil, &error)
        if code != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "error \(code)"
            sqlite3_free(error)
            throw SQLiteConnection.error(code: code, message: message)
        }
    }

    @discardableResult
    func execute(_ sql: SQL) throws -> Int {
        let statement = try prepare(sql)
        defer { sqlite3_reset(statement) }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            if code != SQLITE_ROW { throw failure(code) }
        }
        return Int(sqlite3_changes(handle))
    }

    func query(_ sql: SQL) throws -> [Row] {
        let statement = try prepare(sql)
        defer { sqlite3_reset(statement) }
        let count = sqlite3_column_count(statement)
        let columns: Row.Columns
        if let known = columnNames[statement] {
            columns = known
        } else {
            columns = Row.Columns((0..<count).map { String(cString: sqlite3_column_name(statement, $0)) })
            columnNames[statement] = columns
        }
        var rows: [Row] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw failure(code) }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_NULL: values.append(.null)
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_BLOB:
                    let length = Int(sqlite3_column_bytes(statement, column))
                    if let bytes = sqlite3_column_blob(statement, column) {
                        values.append(.blob(Array(UnsafeRawBufferPointer(start: bytes, count: length))))
                    } else {
                        values.append(.blob([]))
                    }
                default:
                    if let text = sqlite3_column_text(statement, column) {
                        let length = Int(sqlite3_column_bytes(statement, column))
                        values.append(
                            .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self)))
                    } else {
                        values.append(.null)
                    }
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    /// Whether `sql` only reads (SQLite's own judgement of the prepared statement).
    /// (Prepared and cached, not bound: asking costs a dictionary lookup after the first time.)
    func isReadOnly(_ sql: SQL) throws -> Bool { sqlite3_stmt_readonly(try statement(sql.text(for: .sqlite))) != 0 }

    /// The cached prepared statement for `text`, prepared on first use.
    private func statement(_ text: String) throws -> OpaquePointer {
        if let cached = statements[text] { return cached }
        var prepared: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard code == SQLITE_OK, let prepared else { throw failure(code) }
        statements[text] = prepared
        return prepared
    }

    private func prepare(_ sql: SQL) throws -> OpaquePointer {
        // Every parameter is bound below (a statement's text and its binds come from the same
        // interpolation), so the previous execution's bindings need no clearing.
        let statement = try statement(sql.text(for: .sqlite))
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in sql.binds.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let number): code = sqlite3_bind_int64(statement, index, number)
            case .text(let text):
                // withCString: a short string is copied on the stack, not into a heap array.
                code = text.withCString { sqlite3_bind_text(statement, index, $0, Int32(text.utf8.count), transient) }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes {
                    sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient)
                }
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
        return statement
    }

    private func failure(_ code: Int32) -> DatabaseError {
        SQLiteConnection.error(code: code, message: String(cString: sqlite3_errmsg(handle)))
    }

    static func error(code: Int32, message: String) -> DatabaseError {
        // Extended result codes (macros that Swift does not import): SQLITE_CONSTRAINT | (8 << 8)
        // is UNIQUE, SQLITE_CONSTRAINT | (6 << 8) is PRIMARYKEY.
        let constraintUnique = SQLITE_CONSTRAINT | (8 << 8)
        let constraintPrimaryKey = SQLITE_CONSTRAINT | (6 << 8)
        switch code {
        case constraintUnique, constraintPrimaryKey: return DatabaseError(.uniqueViolation, message)
        case _ where code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED: return DatabaseError(.busy, message)
        default: return DatabaseError(.other, message)
        }
    }
}

/// One thread that checkpoints the process's SQLite databases when their WAL has grown past
/// its threshold (`thresholdPages` unless the database names its own), off the request path.
final class SQLiteCheckpointer: @unchecked Sendable {
    static let shared = SQLiteCheckpointer()
    /// Each checkpoint copies the distinct pages its frames hold and syncs twice; the pages an
    /// invoice's commits touch repeat (the tables' and indexes' right edges), so a longer WAL
    /// between checkpoints copies fewer pages per commit: with 4,000, alternating runs measured
    /// ~9% less CPU per invoice than with SQLite's default 1,000, and with 64,000 another ~8% less
    /// than with 4,000 (BENCHMARKS.md). The price is disk: a busy database's WAL reaches 256 MB
    /// (512 MB before a restart), and opening after a crash replays that much.
    static let thresholdPages: Int32 =
        ProcessInfo.processInfo.environment["RCM_SQLITE_CHECKPOINT_PAGES"].flatMap { Int32($0) }.map { max(100, $0) }
        ?? 64000

    private let condition = NSCondition()
    private var pending: [ObjectIdentifier: SQLiteDatabase] = [:]
    private var started = false

    /// Starts the checkpointing thread unless it runs already.
    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        let thread = Thread { [self] in run() }
        thread.name = "sqlite-checkpoint"
        thread.start()
    }

    func request(_ database: SQLiteDatabase) {
        start()
        condition.lock()
        pending[ObjectIdentifier(database)] = database
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let due = Array(pending.values)
            pending.removeAll()
            condition.unlock()
            for database in due { database.checkpoint() }
        }
    }
}
