import Foundation
import RCMCore
import RCMHTTP
import Synchronization
import Testing

@testable import RCMPlatform

@Suite("Idempotency-Key on billing/generate")
struct IdempotencyFlowTests {
    @Test("a replay returns the same status and body and creates nothing")
    func replay() throws {
        let platform = try TestPlatform()
        let first = platform.post(
            "/api/billing/generate", TestPlatform.specificationBody, headers: [("Idempotency-Key", "visit-1")])
        let second = platform.post(
            "/api/billing/generate", TestPlatform.specificationBody, headers: [("Idempotency-Key", "visit-1")])
        #expect(first.status == 201 && second.status == 201)
        #expect(first.body == second.body)
        #expect(second.headers["Location"] == first.headers["Location"] && first.headers["Location"] != nil)
        try platform.platform.drainEvents()
        #expect(try platform.count("billing", "invoices") == 1)
        #expect(try platform.count("claim", "claims") == 1)
        #expect(try platform.count("payment", "payment_requests") == 1)
    }

    @Test("the same key with a different body is 422")
    func differentBody() throws {
        let platform = try TestPlatform()
        _ = platform.post(
            "/api/billing/generate", TestPlatform.specificationBody, headers: [("Idempotency-Key", "visit-1")])
        let other = TestPlatform.specificationBody.replacingOccurrences(of: "400", with: "450")
        let response = platform.post("/api/billing/generate", other, headers: [("Idempotency-Key", "visit-1")])
        #expect(response.status == 422)
        #expect(try response.decode(Problem.self).errors.first?.pointer == "header:Idempotency-Key")
        #expect(try platform.count("billing", "invoices") == 1)
    }

    @Test("concurrent duplicates: exactly one invoice; the others replay it or get 409")
    func concurrentDuplicates() throws {
        let platform = try TestPlatform()
        let statuses = Mutex<[Int]>([])
        let bodies = Mutex<Set<[UInt8]>>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let response = platform.post(
                "/api/billing/generate", TestPlatform.specificationBody, headers: [("Idempotency-Key", "visit-9")])
            statuses.withLock { $0.append(response.status) }
            if response.status == 201 { bodies.withLock { _ = $0.insert(response.body) } }
        }
        let seen = statuses.withLock { $0 }
        #expect(seen.allSatisfy { $0 == 201 || $0 == 409 }, "\(seen)")
        #expect(seen.contains(201))
        #expect(bodies.withLock { $0.count } == 1)
        #expect(try platform.count("billing", "invoices") == 1)
    }

    @Test("different keys make different invoices")
    func differentKeys() throws {
        let platform = try TestPlatform()
        for key in ["a", "b", "c"] {
            #expect(
                platform.post(
                    "/api/billing/generate", TestPlatform.specificationBody, headers: [("Idempotency-Key", key)]
                ).status == 201)
        }
        #expect(try platform.count("billing", "invoices") == 3)
    }
}
