import CPostgreSQL
import Foundation
import RCMCore

/// PostgreSQL through libpq: a pool of connections, each with the service's schema on its
/// search path (one schema per service). Values go as text parameters of `PQexecParams`.
public final class PostgresDatabase: Database, @unchecked Sendable {
    public var dialect: SQLDialect { .postgres }
    let conninfo: String
    let schema: String
    private var idle: [PostgresConnection] = []
    private var total = 0
    private let maxConnections: Int
    private let condition = NSCondition()

    public init(url: String, schema: String, maxConnections: Int = 8) throws {
        self.conninfo = url
        self.schema = schema
        self.maxConnections = maxConnections
        let first = try PostgresConnection(conninfo: url, schema: nil)
        do {
            try first.run("CREATE SCHEMA IF NOT EXISTS \"\(schema)\"")
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            // Another instance of the service created it at the same moment (IF NOT EXISTS is
            // not atomic in PostgreSQL): it exists, which is all that was asked.
        }
        try first.use(schema: schema)
        idle.append(first)
        total = 1
    }

    public var poolUsage: (open: Int, inUse: Int, maximum: Int)? {
        condition.lock()
        defer { condition.unlock() }
        return (total, total - idle.count, maxConnections)
    }

    public func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    @discardableResult
    public func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN", body)
    }

    /// Runs `body` between `begin` and COMMIT. BEGIN is not sent on its own: it travels in one
    /// pipeline with the body's first statement (one round trip less per transaction), and a
    /// transaction that runs no statement sends neither BEGIN nor COMMIT.
    ///
    /// A pooled connection can die while idle (a server restart, a failover, an idle timeout).
    /// When it turns out dead at the first statement, nothing has happened in the database, so
    /// `body` starts again once on a new connection: bodies must not act outside the database
    /// before their first statement.
    private func transaction<T>(_ begin: String, _ body: (any SQLConnection) throws -> T) throws -> T {
        for attempt in 0..<2 {
            let connection = try checkout()
            connection.deferBegin(begin)
            var healthy = true
            defer { checkin(connection, healthy: healthy) }
            do {
                let result = try body(connection)
                if connection.beginIsPending {
                    connection.dropPendingBegin()
                } else {
                    try connection.run("COMMIT")
                }
                return result
            } catch let error as DatabaseError where error.kind == .connection {
                healthy = false
                if attempt == 0 && connection.diedAtFirstStatement { continue }
                throw error
            } catch {
                if connection.beginIsPending {
                    connection.dropPendingBegin()
                } else {
                    try? connection.run("ROLLBACK")
                }
                throw error
            }
        }
        throw DatabaseError(.connection, "no connection to the database")
    }

    /// In autocommit: one round trip instead of BEGIN, the statement and COMMIT.
    public func statement(_ sql: SQL) throws -> [Row] {
        let connection = try checkout()
        var healthy = true
        defer { checkin(connection, healthy: healthy) }
        do {
            return try connection.query(sql)
        } catch let error as DatabaseError where error.kind == .connection {
            healthy = false
            throw error
        }
    }

    public func ping() -> Bool { (try? read { try $0.query("SELECT 1 AS ok") }) != nil }

    public func close() {
        condition.lock()
        idle.forEach { $0.close() }
        idle.removeAll()
        total = 0
        condition.unlock()
    }

    private func checkout() throws -> PostgresConnection {
        condition.lock()
        while idle.isEmpty && total >= maxConnections { condition.wait() }
        if let connection = idle.popLast() {
            condition.unlock()
            if connection.isHealthy { return connection }
            connection.close()
            condition.lock()
            total -= 1
        }
        total += 1
        condition.unlock()
        do {
            return try PostgresConnection(conninfo: conninfo, schema: schema)
        } catch {
            condition.lock()
            total -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func checkin(_ connection: PostgresConnection, healthy: Bool) {
        condition.lock()
        if healthy && connection.isHealthy {
            idle.append(connection)
        } else {
            connection.close()
            total -= 1
        }
        condition.signal()
        condition.unlock()
    }
}

final class PostgresConnection: SQLConnection {
    private var handle: OpaquePointer?
    /// Statements this connection has prepared, by text: each is parsed and planned by the server
    /// once per connection instead of on every execution.
    private var prepared: [String: String] = [:]
    private var nextStatement = 0
    /// Set when a prepared statement can no longer be used (its tables changed shape under it):
    /// the pool then closes the connection instead of reusing it.
    private var discard = false
    static let maxPreparedStatements = 512
    /// The BEGIN to send with the next statement (see `PostgresDatabase.transaction`).
    private var pendingBegin: String?
    /// The connection failed while sending a pending BEGIN with the first statement.
    private(set) var diedAtFirstStatement = false

    var beginIsPending: Bool { pendingBegin != nil }

    func deferBegin(_ begin: String) {
        pendingBegin = begin
        diedAtFirstStatement = false
    }

    func dropPendingBegin() { pendingBegin = nil }
    var dialect: SQLDialect { .postgres }

    init(conninfo: String, schema: String?) throws {
        handle = PQconnectdb(conninfo)
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "cannot connect"
            PQfinish(handle)
            throw DatabaseError(.connection, message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        try run("SET client_min_messages TO warning")
        if let schema { try use(schema: schema) }
    }

    /// Puts the service's schema on the search path and names the connection after it
    /// (`application_name`), so that operators can tell the services' connections apart.
    func use(schema: String) throws {
        try run("SET search_path TO \"\(schema)\"")
        try run("SET application_name TO 'rcm-\(schema)'")
    }

    /// Connected, and not left inside a transaction (a pooled connection must start clean).
    var isHealthy: Bool {
        guard !discard, let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        return PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    func close() {
        PQfinish(handle)
        handle = nil
    }

    func run(_ text: String) throws {
        let result = PQexec(handle, text)
        defer { PQclear(result) }
        try check(result)
    }

    @discardableResult
    func execute(_ sql: SQL) throws -> Int {
        let result = try perform(sql)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    func query(_ sql: SQL) throws -> [Row] {
        let result = try perform(sql)
        defer { PQclear(result) }
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        let columns = Row.Columns((0..<columnCount).map { String(cString: PQfname(result, $0)) })
        let integerColumns = (0..<columnCount).map { column -> Bool in
            let type = PQftype(result, column)
            return type == 20 || type == 21 || type == 23 || type == 16  // int8, int2, int4, bool
        }
        var rows: [Row] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(.null)
                    continue
                }
                let text = String(cString: PQgetvalue(result, row, column))
                if integerColumns[Int(column)] {
                    if text == "t" || text == "f" {
                        values.append(.integer(text == "t" ? 1 : 0))
                    } else {
                        values.append(Int64(text).map(SQLValue.integer) ?? .text(text))
                    }
                } else {
                    values.append(.text(text))
                }
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    private func perform(_ sql: SQL) throws -> OpaquePointer? {
        let text = sql.text(for: .postgres)
        var owned: [UnsafeMutablePointer<CChar>?] = sql.binds.map { value in
            switch value {
            case .null: return nil
            case .integer(let number): return strdup(String(number))
            case .text(let string): return strdup(string)
            case .blob(let bytes): return strdup("\\x" + Hex.encode(bytes))
            }
        }
        defer { owned.forEach { free($0) } }
        if let begin = pendingBegin {
            pendingBegin = nil
            return try owned.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress, !buffer.isEmpty else {
                    return try pipelined(begin: begin, text: text, count: 0, values: nil)
                }
                return try base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                    try pipelined(begin: begin, text: text, count: Int32(buffer.count), values: $0)
                }
            }
        }
        let name = try preparedName(for: text, parameters: owned.count)
        let result = owned.withUnsafeMutableBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress, !buffer.isEmpty else {
                return PQexecPrepared(handle, name, 0, nil, nil, nil, 0)
            }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                PQexecPrepared(handle, name, Int32(buffer.count), $0, nil, nil, 0)
            }
        }
        do {
            try check(result)
        } catch {
            noteStaleStatement(result)
            PQclear(result)
            throw error
        }
        return result
    }

    /// 26000: the statement is gone; 0A000: "cached plan must not change result type" (a table it
    /// reads changed shape). Either way this connection's statement cache is stale.
    private func noteStaleStatement(_ result: OpaquePointer?) {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        if state == "26000" || state == "0A000" { discard = true }
    }

    /// Sends BEGIN, the statement's preparation when it is new, and the statement in one pipeline
    /// (libpq pipeline mode, one round trip), and returns the statement's result.
    private func pipelined(
        begin: String, text: String, count: Int32, values: UnsafeMutablePointer<UnsafePointer<CChar>?>?
    ) throws -> OpaquePointer? {
        let known = prepared[text]
        let name = try known ?? newStatementName()
        guard PQenterPipelineMode(handle) == 1 else { throw failedToSend() }
        var sent = PQsendQueryParams(handle, begin, 0, nil, nil, nil, nil, 0) == 1
        if sent && known == nil { sent = PQsendPrepare(handle, name, text, count, nil) == 1 }
        if sent { sent = PQsendQueryPrepared(handle, name, count, values, nil, nil, 0) == 1 }
        if sent { sent = PQpipelineSync(handle) == 1 }
        // One result per command, each followed by a null, then the sync point.
        var results: [OpaquePointer] = []
        var nulls = 0
        while sent {
            guard let result = PQgetResult(handle) else {
                nulls += 1
                if nulls >= 2 || PQstatus(handle) != CONNECTION_OK { break }
                continue
            }
            nulls = 0
            if PQresultStatus(result) == PGRES_PIPELINE_SYNC {
                PQclear(result)
                break
            }
            results.append(result)
        }
        if PQexitPipelineMode(handle) != 1 { discard = true }
        let expected = known == nil ? 3 : 2
        guard sent, results.count == expected, PQstatus(handle) == CONNECTION_OK else {
            results.forEach { PQclear($0) }
            throw failedToSend()
        }
        var statement: OpaquePointer? = results[expected - 1]
        defer { results.dropLast().forEach { PQclear($0) } }
        do {
            try check(results[0])  // BEGIN
            if known == nil {
                try check(results[1])
                prepared[text] = name
            }
            try check(statement)
        } catch {
            noteStaleStatement(statement)
            PQclear(statement)
            statement = nil
            throw error
        }
        return statement
    }

    /// A connection error for a pipeline that could not be sent or answered; it counts as dying
    /// at the transaction's first statement.
    private func failedToSend() -> DatabaseError {
        diedAtFirstStatement = true
        let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        return DatabaseError(.connection, message.isEmpty ? "the database connection failed" : message)
    }

    /// A name for the next statement to prepare, making room in the cache when it is full. Names
    /// are never reused on a connection, so a failed preparation leaves no stale name behind.
    private func newStatementName() throws -> String {
        if prepared.count >= Self.maxPreparedStatements {
            try run("DEALLOCATE ALL")
            prepared.removeAll()
        }
        nextStatement += 1
        return "rcm_\(nextStatement)"
    }

    /// The name of `text` prepared on this connection, preparing it on first use.
    private func preparedName(for text: String, parameters: Int) throws -> String {
        if let name = prepared[text] { return name }
        let name = try newStatementName()
        let result = PQprepare(handle, name, text, Int32(parameters), nil)
        defer { PQclear(result) }
        try check(result)
        prepared[text] = name
        return name
    }

    private func check(_ result: OpaquePointer?) throws {
        let status = PQresultStatus(result)
        guard status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK else { return }
        let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        if PQstatus(handle) != CONNECTION_OK { throw DatabaseError(.connection, message) }
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        switch state {
        case "23505": throw DatabaseError(.uniqueViolation, message)
        case "40001", "40P01", "55P03": throw DatabaseError(.busy, message)
        default: throw DatabaseError(.other, message)
        }
    }
}
