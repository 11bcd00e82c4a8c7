import Foundation
import RCMSecurity
import RCMStorage
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMServiceKit

/// A real database whose writes fail while `failing` is set (a database restart, seen from the
/// process).
final class BlippingDatabase: Database, Sendable {
    let inner: any Database
    let failing = Atomic<Bool>(false)

    init(_ inner: any Database) { self.inner = inner }

    var dialect: SQLDialect { inner.dialect }
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        if failing.load(ordering: .acquiring) { throw DatabaseError(.connection, "the server is restarting") }
        return try inner.read(body)
    }
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        if failing.load(ordering: .acquiring) { throw DatabaseError(.connection, "the server is restarting") }
        return try inner.write(body)
    }
    func ping() -> Bool { !failing.load(ordering: .acquiring) && inner.ping() }
    func close() { inner.close() }
}

@Suite("Audit trail through a database blip")
struct AuditLogRecoveryTests {
    func record(_ log: AuditLog, _ n: Int) throws {
        try log.record(
            organizationId: "org", actor: "usr_1", action: "GET /x", resourceType: "x", resourceId: "\(n)",
            outcome: 200,
            ip: "127.0.0.1", userAgent: "test", requestId: "r\(n)")
    }

    @Test("a failed write refuses that request; once the database is back the chain continues, intact")
    func recovers() throws {
        let database = BlippingDatabase(try TestDatabases.make("audit"))
        defer { database.close() }
        let keys = try KeyStore(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path)
        let log = try AuditLog(database: database, keys: keys, checkpointEvery: 3)
        try record(log, 1)
        try record(log, 2)
        database.failing.store(true, ordering: .releasing)
        #expect(throws: AuditLog.WriteFailed.self) { try record(log, 3) }
        #expect(throws: AuditLog.WriteFailed.self) { try record(log, 4) }  // still down: still refused
        database.failing.store(false, ordering: .releasing)
        try record(log, 5)
        try record(log, 6)
        try log.checkpoint()
        let verification = try log.verify()
        #expect(verification.problem == nil)
        #expect(verification.entries == 4)
    }
}
