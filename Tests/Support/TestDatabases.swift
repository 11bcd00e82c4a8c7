import Foundation
import RCMStorage

/// The database the tests run on: SQLite files in a temporary directory by default, or the
/// PostgreSQL server named by `RCM_TEST_DATABASE_URL` (the test script starts one), with a fresh
/// schema per database so that tests never see each other's rows.
public enum TestDatabases {
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["RCM_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var dialectName: String { postgresURL == nil ? "sqlite" : "postgres" }

    /// A unique, empty scratch directory.
    public static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "rcm-test-" + UUID().uuidString.prefix(12).lowercased()
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A unique schema prefix for PostgreSQL.
    public static func schemaPrefix() -> String { "t" + UUID().uuidString.prefix(8).lowercased() + "_" }

    /// A fresh, empty database.
    public static func make(_ name: String = "db") throws -> any Database {
        try DatabaseFactory.open(
            url: postgresURL, dataDirectory: temporaryDirectory(), service: name, schemaPrefix: schemaPrefix())
    }
}
