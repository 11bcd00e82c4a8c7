import Foundation
import RCMCore
import RCMHTTP
import RCMTestSupport
import Testing

@testable import RCMPlatform

/// The billing flow with every event through RabbitMQ (`RCM_TEST_AMQP_URL`; the test script
/// starts a node). Fails without a broker unless `RCM_SKIP_BROKER_TESTS=1`.
@Suite("The billing flow through RabbitMQ", .enabled(if: !TestPlatform.brokerTestsSkipped))
struct BrokerPlatformTests {
    @Test("relays and consumers in the background: the claim, the payment request and the report follow an invoice")
    func flowsThroughTheBroker() throws {
        let platform = try TestPlatform(deliverInBackground: true, transport: .rabbitmq)
        let broker = try #require(platform.platform.broker)
        let invoice = platform.post("/api/billing/generate", TestPlatform.specificationBody).object
        let id = try #require(invoice["id"] as? String)
        let deadline = Date().addingTimeInterval(20)
        var claims: [[String: Any]] = []
        var requests: [[String: Any]] = []
        var timeline: [[String: Any]] = []
        repeat {
            claims = try platform.json("/api/claims?invoiceId=\(id)")["items"] as? [[String: Any]] ?? []
            requests = try platform.json("/api/payments?invoiceId=\(id)")["paymentRequests"] as? [[String: Any]] ?? []
            timeline = try platform.json("/api/reporting/timeline?invoiceId=\(id)")["items"] as? [[String: Any]] ?? []
            if claims.count == 1 && requests.count == 1 && timeline.count == 3 { break }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < deadline
        #expect(claims.count == 1)
        #expect(decimal(claims.first?["expectedAmount"]) == 495)
        #expect(requests.count == 1)
        #expect(decimal(requests.first?["amount"]) == 155)
        #expect(
            Set(timeline.compactMap { $0["type"] as? String }) == [
                "invoice.issued", "claim.created", "payment_request.created",
            ])
        #expect(broker.settings.exchange.hasSuffix(".events"))
    }

    @Test("payments and the insurer's payment follow back to the invoice and the summary (drained through the broker)")
    func paymentsFollowBack() throws {
        let platform = try TestPlatform(transport: .rabbitmq)
        let id = platform.post("/api/billing/generate", TestPlatform.specificationBody).object["id"] as? String ?? ""
        try platform.platform.drainEvents()
        #expect(
            platform.post("/api/payments", #"{"invoiceId": "\#(id)", "amount": 155, "method": "upi"}"#).status == 201)
        try platform.platform.drainEvents()
        var invoice = try platform.json("/api/billing/invoices/\(id)")
        #expect(invoice["status"] as? String == "partially_paid")
        #expect(decimal(invoice["balance"]) == 495)
        let claimId =
            (try platform.json("/api/claims?invoiceId=\(id)")["items"] as? [[String: Any]])?.first?["id"] as? String
            ?? ""
        for status in ["submitted", "accepted"] {
            #expect(platform.post("/api/claims/\(claimId)/transitions", #"{"status": "\#(status)"}"#).status == 200)
        }
        #expect(
            platform.post("/api/claims/\(claimId)/transitions", #"{"status": "paid", "paidAmount": 495}"#).status == 200
        )
        try platform.platform.drainEvents()
        invoice = try platform.json("/api/billing/invoices/\(id)")
        #expect(invoice["status"] as? String == "paid")
        #expect(decimal(invoice["balance"]) == 0)
        let summary = try platform.json("/api/reporting/summary")
        #expect(decimal(summary["billed"]) == 650)
        #expect(decimal(summary["outstanding"]) == 0)
    }

    @Test("billing in one platform, claim, payment and reporting in another: the events cross through the broker")
    func splitAcrossProcesses() throws {
        let namespace = "t" + UUID().uuidString.prefix(8).lowercased()
        let owners = try TestPlatform(services: ["identity", "patient", "insurance"], transport: .rabbitmq)
        let port = try owners.platform.serve()
        let base = URL(string: "http://127.0.0.1:\(port)")!
        let billing = try TestPlatform(
            demo: false, services: ["billing"],
            serviceURLs: ["patient": base, "insurance": base, "identity": base], transport: .rabbitmq,
            amqpNamespace: namespace)
        let downstream = try TestPlatform(
            demo: false, deliverInBackground: true, services: ["claim", "payment", "reporting"],
            transport: .rabbitmq, amqpNamespace: namespace)
        let identityToken = [("Authorization", "Bearer " + owners.token)]
        for (code, price) in [("OPD001", "400"), ("LAB025", "250")] {
            let response = billing.request(
                .PUT, "/api/billing/charge-items/loc_andheri/\(code)",
                headers: identityToken + [("Content-Type", "application/json")],
                body: #"{"description": "x", "price": \#(price)}"#)
            #expect(response.status == 200)
        }
        let invoice = billing.post("/api/billing/generate", TestPlatform.specificationBody, headers: identityToken)
        #expect(invoice.status == 201)
        let id = try #require(invoice.object["id"] as? String)
        // Billing's relay publishes to the claim, payment and reporting queues; nobody consumes
        // them in the billing platform.
        try billing.platform.drainEvents()
        let deadline = Date().addingTimeInterval(20)
        var claims: [[String: Any]] = []
        var requests: [[String: Any]] = []
        var timeline: [[String: Any]] = []
        repeat {
            claims = try downstream.json("/api/claims?invoiceId=\(id)")["items"] as? [[String: Any]] ?? []
            requests =
                try downstream.json("/api/payments?invoiceId=\(id)")["paymentRequests"] as? [[String: Any]] ?? []
            timeline =
                try downstream.json("/api/reporting/timeline?invoiceId=\(id)")["items"] as? [[String: Any]] ?? []
            if claims.count == 1 && requests.count == 1 && timeline.count == 3 { break }
            Thread.sleep(forTimeInterval: 0.02)
        } while Date() < deadline
        #expect(claims.count == 1)
        #expect(decimal(claims.first?["expectedAmount"]) == 495)
        #expect(requests.count == 1)
        #expect(decimal(requests.first?["amount"]) == 155)
        #expect(timeline.count == 3)
    }
}
