import Foundation
import RCMCore

/// One versioned schema change of one service. `{{id}}` in the SQL stands for an auto-incrementing
/// integer primary key in the running dialect.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(_ version: Int, _ name: String, _ statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }

    func sql(_ statement: String, dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite: return statement.replacingOccurrences(of: "{{id}}", with: "INTEGER PRIMARY KEY AUTOINCREMENT")
        case .postgres: return statement.replacingOccurrences(of: "{{id}}", with: "BIGSERIAL PRIMARY KEY")
        }
    }
}

/// Applies a service's pending migrations in order, each in its own transaction, recording them in
/// `schema_migrations`. Safe to run from several processes: the version row is the lock.
public enum Migrator {
    @discardableResult
    public static func migrate(_ database: any Database, _ migrations: [Migration]) throws -> [Int] {
        do {
            _ = try database.write { connection in
                try connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            }
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            // Two instances starting together: the other one's CREATE won (PostgreSQL's IF NOT
            // EXISTS races on its catalog); the table is there.
        }
        let applied = try database.read { connection in
            Set(try connection.query("SELECT version FROM schema_migrations").map { try $0.int("version") })
        }
        var newlyApplied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(migration.version) {
            let didApply = try database.write { connection -> Bool in
                let inserted = try connection.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.name), \(Timestamp.now())) ON CONFLICT DO NOTHING"
                )
                guard inserted == 1 else { return false }
                for statement in migration.statements {
                    try connection.execute(SQL(stringLiteral: migration.sql(statement, dialect: connection.dialect)))
                }
                return true
            }
            if didApply { newlyApplied.append(migration.version) }
        }
        return newlyApplied
    }
}
