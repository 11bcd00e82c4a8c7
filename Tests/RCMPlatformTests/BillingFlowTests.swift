import Foundation
import RCMCore
import RCMHTTP
import RCMTestSupport
import Testing

@testable import RCMPlatform

@Suite("The billing flow through all six services")
struct BillingFlowTests {
    @Test("the specification's request returns 201 with the invoice, its lines, 650 and the split")
    func specificationRequest() throws {
        let platform = try TestPlatform()
        let response = platform.post("/api/billing/generate", TestPlatform.specificationBody)
        #expect(response.status == 201)
        let invoice = response.object
        #expect((invoice["id"] as? String)?.hasPrefix("inv_") == true)
        #expect(response.headers["Location"] == "/api/billing/invoices/\(invoice["id"] as? String ?? "")")
        #expect(decimal(invoice["total"]) == 650)
        #expect(invoice["currency"] as? String == "INR")
        #expect(invoice["status"] as? String == "issued")
        let lines = invoice["lines"] as? [[String: Any]] ?? []
        #expect(lines.map { $0["code"] as? String } == ["OPD001", "LAB025"])
        #expect(lines.map { decimal($0["amount"]) } == [400, 250])
        // Demo coverage of P10001: copay 100, deductible met, coinsurance 10%.
        #expect(decimal(invoice["patientAmount"]) == 155)
        #expect(decimal(invoice["payerAmount"]) == 495)
        #expect((invoice["coverage"] as? [String: Any])?["payerName"] as? String == "Star Health Insurance")
    }

    @Test("within one second the claim, the patient's payment request and the summary show it")
    func flowsThroughEvents() throws {
        let platform = try TestPlatform(deliverInBackground: true)
        let invoice = platform.post("/api/billing/generate", TestPlatform.specificationBody).object
        let id = try #require(invoice["id"] as? String)
        let deadline = Date().addingTimeInterval(1)
        var claims: [[String: Any]] = []
        var requests: [[String: Any]] = []
        var summary: [String: Any] = [:]
        var timeline: [[String: Any]] = []
        repeat {
            claims = try platform.json("/api/claims?invoiceId=\(id)")["items"] as? [[String: Any]] ?? []
            requests = try platform.json("/api/payments?invoiceId=\(id)")["paymentRequests"] as? [[String: Any]] ?? []
            summary = try platform.json("/api/reporting/summary")
            // The payment request reaches reporting one hop later than the claim.
            timeline = try platform.json("/api/reporting/timeline?invoiceId=\(id)")["items"] as? [[String: Any]] ?? []
            if claims.count == 1 && requests.count == 1 && (summary["claimsByStatus"] as? [String: Int])?["draft"] == 1
                && timeline.count == 3
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        } while Date() < deadline
        #expect(claims.count == 1)
        #expect(claims.first?["status"] as? String == "draft")
        #expect(decimal(claims.first?["expectedAmount"]) == 495)
        #expect(claims.first?["memberId"] as? String == "SH-DEDMET-445566")
        #expect(requests.count == 1)
        #expect(decimal(requests.first?["amount"]) == 155)
        #expect(decimal(summary["billed"]) == 650)
        #expect(decimal(summary["outstanding"]) == 650)
        #expect(summary["invoiceCount"] as? Int == 1)
        #expect((summary["claimsByStatus"] as? [String: Int]) == ["draft": 1])
        #expect(timeline.first?["type"] as? String == "invoice.issued")
        #expect(
            Set(timeline.compactMap { $0["type"] as? String }) == [
                "invoice.issued", "claim.created", "payment_request.created",
            ])
    }

    @Test("an uninsured patient gets no claim and owes everything")
    func uninsured() throws {
        let platform = try TestPlatform()
        let body = TestPlatform.specificationBody.replacingOccurrences(of: "P10001", with: "P10002")
        let invoice = platform.post("/api/billing/generate", body).object
        #expect(decimal(invoice["patientAmount"]) == 650)
        #expect(decimal(invoice["payerAmount"]) == 0)
        #expect(invoice["coverage"] == nil)
        try platform.platform.drainEvents()
        let id = invoice["id"] as? String ?? ""
        #expect((try platform.json("/api/claims?invoiceId=\(id)")["items"] as? [Any])?.count == 0)
        let requests = try platform.json("/api/payments?invoiceId=\(id)")["paymentRequests"] as? [[String: Any]] ?? []
        #expect(requests.map { decimal($0["amount"]) } == [650])
    }

    @Test("payments, the insurer's payment on the claim and a refund follow back to the invoice and the report")
    func paymentsFollowBack() throws {
        let platform = try TestPlatform()
        let id = platform.post("/api/billing/generate", TestPlatform.specificationBody).object["id"] as? String ?? ""
        try platform.platform.drainEvents()
        let paid = platform.post("/api/payments", #"{"invoiceId": "\#(id)", "amount": 155, "method": "upi"}"#)
        #expect(paid.status == 201)
        try platform.platform.drainEvents()
        var invoice = try platform.json("/api/billing/invoices/\(id)")
        #expect(invoice["status"] as? String == "partially_paid")
        #expect(decimal(invoice["balance"]) == 495)

        let claimId =
            (try platform.json("/api/claims?invoiceId=\(id)")["items"] as? [[String: Any]])?.first?["id"] as? String
            ?? ""
        #expect(
            platform.post("/api/claims/\(claimId)/transitions", #"{"status": "paid", "paidAmount": 495}"#).status == 409
        )
        for status in ["submitted", "accepted"] {
            #expect(platform.post("/api/claims/\(claimId)/transitions", #"{"status": "\#(status)"}"#).status == 200)
        }
        #expect(platform.post("/api/claims/\(claimId)/transitions", #"{"status": "paid"}"#).status == 422)
        #expect(
            platform.post("/api/claims/\(claimId)/transitions", #"{"status": "paid", "paidAmount": 495}"#).status == 200
        )
        try platform.platform.drainEvents()
        invoice = try platform.json("/api/billing/invoices/\(id)")
        #expect(invoice["status"] as? String == "paid")
        #expect(decimal(invoice["balance"]) == 0)
        // Overpaying is refused.
        let over = platform.post("/api/payments", #"{"invoiceId": "\#(id)", "amount": 1, "method": "cash"}"#)
        #expect(over.status == 422)

        let paymentId = paid.object["id"] as? String ?? ""
        #expect(
            platform.post("/api/payments/\(paymentId)/refunds", #"{"amount": 200, "reason": "too much"}"#).status == 422
        )
        #expect(
            platform.post("/api/payments/\(paymentId)/refunds", #"{"amount": 55, "reason": "discount"}"#).status == 201)
        try platform.platform.drainEvents()
        invoice = try platform.json("/api/billing/invoices/\(id)")
        #expect(invoice["status"] as? String == "partially_paid")
        #expect(decimal(invoice["balance"]) == 55)
        let summary = try platform.json("/api/reporting/summary")
        #expect(decimal(summary["collected"]) == 595)
        #expect(decimal(summary["outstanding"]) == 55)
        #expect((summary["claimsByStatus"] as? [String: Int]) == ["paid": 1])
        let entries = (invoice["entries"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" }
        #expect(entries == ["charge", "payment", "payment", "refund"])
    }

    @Test("voiding appends an entry and takes the invoice out of the report")
    func voiding() throws {
        let platform = try TestPlatform()
        let id = platform.post("/api/billing/generate", TestPlatform.specificationBody).object["id"] as? String ?? ""
        try platform.platform.drainEvents()
        let voided = platform.post("/api/billing/invoices/\(id)/void", #"{"reason": "wrong patient"}"#)
        #expect(voided.status == 200)
        #expect(voided.object["status"] as? String == "void")
        #expect(platform.post("/api/billing/invoices/\(id)/void", #"{"reason": "again"}"#).status == 409)
        try platform.platform.drainEvents()
        let summary = try platform.json("/api/reporting/summary")
        #expect(summary["invoiceCount"] as? Int == 0)
        #expect(summary["voidedCount"] as? Int == 1)
        #expect(try platform.count("billing", "invoices") == 1)
        let requests = try platform.json("/api/payments?invoiceId=\(id)")["paymentRequests"] as? [[String: Any]] ?? []
        #expect(requests.first?["status"] as? String == "cancelled")
    }

    @Test("summary filters by date of service and location")
    func summaryFilters() throws {
        let platform = try TestPlatform()
        _ = platform.post("/api/billing/generate", TestPlatform.specificationBody)
        let powai = TestPlatform.specificationBody.replacingOccurrences(of: "P10001", with: "P10003")
        _ = platform.post("/api/billing/generate", powai)
        let old = """
            {"patientId": "P10002", "dateOfService": "2026-01-15",
             "services": [{"code": "OPD001", "cost": 400}, {"code": "LAB025", "cost": 250}]}
            """
        #expect(platform.post("/api/billing/generate", old).status == 201)
        try platform.platform.drainEvents()
        #expect(decimal(try platform.json("/api/reporting/summary")["billed"]) == 1950)
        #expect(try platform.json("/api/reporting/summary?locationId=loc_powai")["invoiceCount"] as? Int == 1)
        #expect(try platform.json("/api/reporting/summary?from=2026-01-01&to=2026-01-31")["invoiceCount"] as? Int == 1)
        #expect(platform.get("/api/reporting/summary?from=2026-02-01&to=2026-01-01").status == 422)
        #expect(platform.get("/api/reporting/summary?from=yesterday").status == 422)
    }
}
