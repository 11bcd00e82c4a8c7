import Foundation
import RCMCore
import RCMHTTP
import RCMStorage
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMServiceKit

@Suite("Idempotency-Key")
struct IdempotencyTests {
    func database() throws -> any Database {
        let database = try TestDatabases.make()
        try Migrator.migrate(
            database, [Idempotency.migration, Migration(1, "made", ["CREATE TABLE made (id TEXT NOT NULL)"])])
        return database
    }

    func request(key: String?, body: String) -> HTTPRequest {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        if let key { headers.add("Idempotency-Key", key) }
        return HTTPRequest(method: .POST, path: "/things", headers: headers, body: Array(body.utf8))
    }

    var context: RequestContext {
        var context = RequestContext(requestId: "r", organizationId: "org")
        context.route = "/things"
        return context
    }

    func make(_ connection: any SQLConnection) throws -> HTTPResponse {
        let id = Identifier.make("thing")
        try connection.execute("INSERT INTO made (id) VALUES (\(id))")
        return try .json(["id": id], status: 201)
    }

    func count(_ database: any Database) throws -> Int {
        try database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM made")?.int("n") ?? -1 }
    }

    @Test("a replay returns the first response and creates nothing")
    func replay() throws {
        let database = try database()
        let first = try Idempotency.run(
            request(key: "k1", body: "{}"), context: context, database: database, work: make)
        let second = try Idempotency.run(
            request(key: "k1", body: "{}"), context: context, database: database, work: make)
        #expect(first.status == 201 && second.status == 201)
        #expect(first.body == second.body)
        #expect(second.headers["Idempotent-Replayed"] == "true")
        #expect(try count(database) == 1)
    }

    @Test("the same key with a different body is 422")
    func differentBody() throws {
        let database = try database()
        _ = try Idempotency.run(request(key: "k1", body: "{}"), context: context, database: database, work: make)
        #expect(throws: Problem.self) {
            try Idempotency.run(request(key: "k1", body: #"{"a":1}"#), context: context, database: database, work: make)
        }
        do {
            _ = try Idempotency.run(
                request(key: "k1", body: #"{"a":1}"#), context: context, database: database, work: make)
        } catch let problem as Problem {
            #expect(problem.status == 422)
            #expect(problem.errors.first?.pointer == "header:Idempotency-Key")
        }
        #expect(try count(database) == 1)
    }

    @Test("a duplicate that arrives while the first is running gets 409")
    func concurrentDuplicate() throws {
        let database = try database()
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let firstStatus = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        let context = self.context
        let request = request(key: "k1", body: "{}")
        Thread.detachNewThread {
            let response = try? Idempotency.run(request, context: context, database: database) { connection in
                started.signal()
                release.wait()
                return try make(connection)
            }
            firstStatus.store(response?.status ?? -1, ordering: .relaxed)
            done.signal()
        }
        started.wait()
        // The first holds the write transaction; the duplicate must not wait for it to learn it is a duplicate.
        do {
            _ = try Idempotency.run(request, context: context, database: database, work: make)
            Issue.record("the duplicate ran")
        } catch let problem as Problem {
            #expect(problem.status == 409)
        }
        release.signal()
        done.wait()
        #expect(firstStatus.load(ordering: .relaxed) == 201)
        #expect(try count(database) == 1)
    }

    @Test("a failed request frees its key; no key means no memory")
    func failureFreesKey() throws {
        let database = try database()
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try Idempotency.run(request(key: "k1", body: "{}"), context: context, database: database) { _ in
                throw Boom()
            }
        }
        #expect(
            try Idempotency.run(request(key: "k1", body: "{}"), context: context, database: database, work: make).status
                == 201)
        _ = try Idempotency.run(request(key: nil, body: "{}"), context: context, database: database, work: make)
        _ = try Idempotency.run(request(key: nil, body: "{}"), context: context, database: database, work: make)
        #expect(try count(database) == 3)
    }
}
