import RCMCore

/// A connection inside a transaction or a read. Not shared across threads.
public protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs a statement; returns the number of rows it changed.
    @discardableResult func execute(_ sql: SQL) throws -> Int
    func query(_ sql: SQL) throws -> [Row]
}

extension SQLConnection {
    public func queryFirst(_ sql: SQL) throws -> Row? { try query(sql).first }
}

/// One service's database. Each service owns one and never reads another's.
public protocol Database: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in a read-only snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs `body` in a transaction that commits when it returns and rolls back when it throws.
    @discardableResult func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// Runs one statement on its own — atomic by itself, in no surrounding transaction, one round
    /// trip where the driver allows — and returns its rows (none for a statement without them).
    func statement(_ sql: SQL) throws -> [Row]
    /// True when the database answers a trivial query (readiness).
    func ping() -> Bool
    func close()
    /// Connections open and in use, when the driver pools them (metrics).
    var poolUsage: (open: Int, inUse: Int, maximum: Int)? { get }
}

extension Database {
    public var poolUsage: (open: Int, inUse: Int, maximum: Int)? { nil }

    public func statement(_ sql: SQL) throws -> [Row] { try write { try $0.query(sql) } }
}

/// Storage failures. `description` never includes bound values.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case uniqueViolation
        case busy
        case connection
        case decoding
        case other
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func decoding(column: String) -> DatabaseError { DatabaseError(.decoding, "cannot read column \(column)") }

    public var description: String { "database error (\(kind)): \(message)" }
}

extension DatabaseError: ProblemConvertible {
    /// A database that cannot be reached or is too busy is the client's 503, to retry later;
    /// anything else stays an internal error (and is logged, not shown).
    public var problem: Problem? {
        switch kind {
        case .connection, .busy: return .unavailable("The database is unavailable; retry shortly.")
        default: return nil
        }
    }
}

/// Opens a service's database from configuration: a `postgres://` URL selects PostgreSQL with one
/// schema per service; anything else is a directory holding one SQLite file per service.
public enum DatabaseFactory {
    /// `schemaPrefix` keeps several installations (or test runs) apart in one PostgreSQL database.
    public static func open(
        url: String?, dataDirectory: String, service: String, schemaPrefix: String = ""
    ) throws
        -> any Database
    {
        if let url, url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return try PostgresDatabase(url: url, schema: schemaPrefix + service)
        }
        return try SQLiteDatabase(path: dataDirectory + "/" + service + ".sqlite")
    }
}
