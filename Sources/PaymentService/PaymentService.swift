import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// Patient and insurer payments, refunds, and the requests that ask patients for their share.
public struct PaymentService: PlatformService {
    public static let name = "payment"
    public static let subscribedTypes = ["invoice.issued", "invoice.voided", "claim.status_changed"]
    public static let migrations = [
        Migration(
            1, "payments",
            [
                """
                CREATE TABLE invoices (
                    invoice_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    patient_id TEXT NOT NULL, currency TEXT NOT NULL, total BIGINT NOT NULL, patient_amount BIGINT NOT NULL,
                    voided INTEGER NOT NULL)
                """,
                """
                CREATE TABLE payment_requests (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    invoice_id TEXT NOT NULL UNIQUE, patient_id TEXT NOT NULL, amount BIGINT NOT NULL, currency TEXT NOT NULL,
                    created_at TEXT NOT NULL)
                """,
                """
                CREATE TABLE payments (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, location_id TEXT NOT NULL, invoice_id TEXT NOT NULL,
                    patient_id TEXT NOT NULL, payer TEXT NOT NULL, method TEXT NOT NULL, amount BIGINT NOT NULL,
                    currency TEXT NOT NULL, reference TEXT, claim_id TEXT, received_at TEXT NOT NULL)
                """,
                "CREATE INDEX payments_invoice ON payments (organization_id, invoice_id)",
                """
                CREATE TABLE refunds (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, payment_id TEXT NOT NULL, invoice_id TEXT NOT NULL,
                    amount BIGINT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX refunds_payment ON refunds (payment_id)",
            ]),
        Outbox.migration, Outbox.cursorMigration, Inbox.migration, Idempotency.migration,
    ]

    let environment: ServiceEnvironment
    public var consumer: (any EventConsumer)? { PaymentConsumer(environment: environment) }

    public init(environment: ServiceEnvironment) { self.environment = environment }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/payments") { payments in
            payments.get("", list)
            payments.post("", record)
            payments.get("/{id}", read)
            payments.post("/{id}/refunds", refund)
        }
    }

    /// An invoice's payment requests, payments and refunds: `GET /api/payments?invoiceId=`.
    func list(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let invoiceId = try request.requiredQuery("invoiceId")
        struct InvoicePayments: Encodable {
            let invoiceId: String
            let paymentRequests: [PaymentRequest]
            let payments: [Payment]
            let refunds: [Refund]
        }
        let result = try environment.database.read { connection -> InvoicePayments in
            if let invoice = try PaymentStore.invoice(invoiceId, context.organizationId, connection),
                !context.mayAccess(location: invoice.locationId)
            {
                throw Problem.notFound("Invoice \(invoiceId) does not exist.")
            }
            return InvoicePayments(
                invoiceId: invoiceId,
                paymentRequests: try PaymentStore.requests(invoiceId: invoiceId, context.organizationId, connection),
                payments: try PaymentStore.payments(invoiceId: invoiceId, context.organizationId, connection),
                refunds: try PaymentStore.refunds(invoiceId: invoiceId, context.organizationId, connection))
        }
        return try .json(result)
    }

    func read(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        guard let payment = try environment.database.read({ try PaymentStore.payment(id, context.organizationId, $0) })
        else { throw Problem.notFound("Payment \(id) does not exist.") }
        guard context.mayAccess(location: payment.locationId) else {
            throw Problem.notFound("Payment \(id) does not exist.")
        }
        return try .json(payment)
    }

    /// Records a payment against an invoice; it may not exceed what is still owed.
    func record(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        struct PaymentInput: Decodable {
            var invoiceId: String?
            var amount: Money?
            var method: String?
            var reference: String?
        }
        let input = try request.decode(PaymentInput.self)
        var validation = Validation()
        validation.text(input.invoiceId, "/invoiceId", maxLength: 64)
        validation.require(input.amount != nil, "/amount", "is required")
        if let amount = input.amount { validation.require(amount.minorUnits > 0, "/amount", "must be positive") }
        let method = input.method.flatMap(Payment.Method.init(rawValue:))
        validation.require(
            method != nil, "/method",
            "must be one of \(Payment.Method.allCases.map(\.rawValue).joined(separator: ", "))")
        validation.text(input.reference, "/reference", maxLength: 200, required: false)
        try validation.check()
        guard let invoiceId = input.invoiceId, let amount = input.amount, let method else {
            throw Problem.invalid(pointer: "", "incomplete payment")
        }
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            guard let invoice = try PaymentStore.invoice(invoiceId, context.organizationId, connection) else {
                throw Problem.invalid(pointer: "/invoiceId", "no invoice \(invoiceId) in this organization")
            }
            guard context.mayAccess(location: invoice.locationId) else {
                throw Problem.invalid(pointer: "/invoiceId", "no invoice \(invoiceId) in this organization")
            }
            guard !invoice.voided else { throw Problem.conflict("Invoice \(invoiceId) is void.") }
            let outstanding = try PaymentStore.outstanding(invoice, connection)
            guard amount <= outstanding else {
                throw Problem.invalid(pointer: "/amount", "exceeds the \(outstanding) still owed on the invoice")
            }
            let payment = Payment(
                id: Identifier.make("pay"), organizationId: context.organizationId, locationId: invoice.locationId,
                invoiceId: invoiceId, patientId: invoice.patientId, payer: method == .insurer ? .insurer : .patient,
                method: method, amount: amount, currency: invoice.currency, reference: input.reference, claimId: nil,
                receivedAt: Timestamp.now(), refunded: .zero)
            try PaymentStore.insert(payment, connection)
            try environment.outbox.publish(
                try PaymentService.recorded(payment, correlationId: context.requestId), in: connection)
            var response = try HTTPResponse.json(payment, status: 201)
            response.headers.add("Location", "/api/payments/\(payment.id)")
            return response
        }
    }

    /// Refunds part or all of a payment (never more than what remains of it).
    func refund(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        struct RefundInput: Decodable {
            var amount: Money?
            var reason: String?
        }
        let input = try request.decode(RefundInput.self)
        var validation = Validation()
        validation.require(input.amount != nil, "/amount", "is required")
        if let amount = input.amount { validation.require(amount.minorUnits > 0, "/amount", "must be positive") }
        validation.text(input.reason, "/reason", maxLength: 500)
        try validation.check()
        guard let amount = input.amount else { throw Problem.invalid(pointer: "/amount", "is required") }
        let paymentId = context.parameter("id")
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            guard let payment = try PaymentStore.payment(paymentId, context.organizationId, connection) else {
                throw Problem.notFound("Payment \(paymentId) does not exist.")
            }
            guard context.mayAccess(location: payment.locationId) else {
                throw Problem.notFound("Payment \(paymentId) does not exist.")
            }
            let refundable = payment.amount - payment.refunded
            guard amount <= refundable else {
                throw Problem.invalid(pointer: "/amount", "exceeds the \(refundable) of the payment not yet refunded")
            }
            let refund = Refund(
                id: Identifier.make("rfd"), paymentId: payment.id, invoiceId: payment.invoiceId, amount: amount,
                reason: input.reason ?? "", createdAt: Timestamp.now())
            try connection.execute(
                """
                INSERT INTO refunds (id, organization_id, payment_id, invoice_id, amount, reason, created_at)
                VALUES (\(refund.id), \(context.organizationId), \(refund.paymentId), \(refund.invoiceId), \(refund.amount),
                    \(refund.reason), \(refund.createdAt))
                """)
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "payment.refunded", organizationId: context.organizationId, locationId: payment.locationId,
                    correlationId: context.requestId, source: PaymentService.name,
                    body: Movement(
                        paymentId: payment.id, refundId: refund.id, invoiceId: payment.invoiceId,
                        patientId: payment.patientId, payer: payment.payer, method: payment.method, amount: amount)),
                in: connection)
            return try .json(refund, status: 201)
        }
    }

    static func recorded(_ payment: Payment, correlationId: String) throws -> EventEnvelope {
        try EventEnvelope.make(
            type: "payment.recorded", organizationId: payment.organizationId, locationId: payment.locationId,
            correlationId: correlationId, source: name,
            body: Movement(
                paymentId: payment.id, refundId: nil, invoiceId: payment.invoiceId, patientId: payment.patientId,
                payer: payment.payer, method: payment.method, amount: payment.amount))
    }
}

/// The body of `payment.recorded` and `payment.refunded`.
struct Movement: Codable {
    let paymentId: String
    let refundId: String?
    let invoiceId: String
    let patientId: String
    let payer: Payment.Payer
    let method: Payment.Method
    let amount: Money
}
