import RCMCore
import RCMStorage

/// The payment service's tables, including its own copy of the invoices it has heard of.
enum PaymentStore {
    struct KnownInvoice {
        let id: String
        let locationId: String
        let patientId: String
        let currency: String
        let total: Money
        let patientAmount: Money
        let voided: Bool
    }

    static func invoice(_ id: String, _ organization: String, _ connection: any SQLConnection) throws -> KnownInvoice? {
        try connection.queryFirst(
            "SELECT * FROM invoices WHERE invoice_id = \(id) AND organization_id = \(organization)"
        ).map {
            row in
            KnownInvoice(
                id: id, locationId: try row.string("location_id"), patientId: try row.string("patient_id"),
                currency: try row.string("currency"), total: try row.money("total"),
                patientAmount: try row.money("patient_amount"), voided: try row.bool("voided"))
        }
    }

    /// Net of payments and refunds so far, optionally for one kind of payer.
    static func netPaid(invoiceId: String, payer: Payment.Payer? = nil, _ connection: any SQLConnection) throws -> Money
    {
        var paymentsSQL: SQL = "SELECT COALESCE(SUM(amount), 0) AS total FROM payments WHERE invoice_id = \(invoiceId)"
        var refundsSQL: SQL =
            "SELECT COALESCE(SUM(r.amount), 0) AS total FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.invoice_id = \(invoiceId)"
        if let payer {
            paymentsSQL = paymentsSQL + " AND payer = \(payer.rawValue)"
            refundsSQL = refundsSQL + " AND p.payer = \(payer.rawValue)"
        }
        let paid = try connection.queryFirst(paymentsSQL)?.money("total") ?? .zero
        let refunded = try connection.queryFirst(refundsSQL)?.money("total") ?? .zero
        return paid - refunded
    }

    static func outstanding(_ invoice: KnownInvoice, _ connection: any SQLConnection) throws -> Money {
        invoice.total - (try netPaid(invoiceId: invoice.id, connection))
    }

    static func insert(_ payment: Payment, _ connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO payments (id, organization_id, location_id, invoice_id, patient_id, payer, method, amount, currency,
                reference, claim_id, received_at)
            VALUES (\(payment.id), \(payment.organizationId), \(payment.locationId), \(payment.invoiceId),
                \(payment.patientId), \(payment.payer.rawValue), \(payment.method.rawValue), \(payment.amount),
                \(payment.currency), \(payment.reference), \(payment.claimId), \(payment.receivedAt))
            """)
    }

    static func payment(_ id: String, _ organization: String, _ connection: any SQLConnection) throws -> Payment? {
        try connection.queryFirst(
            "\(unsafeRaw: paymentSelect) WHERE p.id = \(id) AND p.organization_id = \(organization)"
        )
        .map(payment(from:))
    }

    static func payments(invoiceId: String, _ organization: String, _ connection: any SQLConnection) throws -> [Payment]
    {
        try connection.query(
            "\(unsafeRaw: paymentSelect) WHERE p.invoice_id = \(invoiceId) AND p.organization_id = \(organization) ORDER BY p.id"
        ).map(payment(from:))
    }

    static let paymentSelect = """
        SELECT p.*, (SELECT COALESCE(SUM(r.amount), 0) FROM refunds r WHERE r.payment_id = p.id) AS refunded
        FROM payments p
        """

    static func payment(from row: Row) throws -> Payment {
        Payment(
            id: try row.string("id"), organizationId: try row.string("organization_id"),
            locationId: try row.string("location_id"), invoiceId: try row.string("invoice_id"),
            patientId: try row.string("patient_id"),
            payer: Payment.Payer(rawValue: try row.string("payer")) ?? .patient,
            method: Payment.Method(rawValue: try row.string("method")) ?? .cash, amount: try row.money("amount"),
            currency: try row.string("currency"), reference: row.optionalString("reference"),
            claimId: row.optionalString("claim_id"), receivedAt: try row.string("received_at"),
            refunded: try row.money("refunded"))
    }

    static func refunds(invoiceId: String, _ organization: String, _ connection: any SQLConnection) throws -> [Refund] {
        try connection.query(
            "SELECT * FROM refunds WHERE invoice_id = \(invoiceId) AND organization_id = \(organization) ORDER BY id"
        ).map { row in
            Refund(
                id: try row.string("id"), paymentId: try row.string("payment_id"),
                invoiceId: try row.string("invoice_id"),
                amount: try row.money("amount"), reason: try row.string("reason"),
                createdAt: try row.string("created_at"))
        }
    }

    static func requests(
        invoiceId: String, _ organization: String, _ connection: any SQLConnection
    ) throws
        -> [PaymentRequest]
    {
        let rows = try connection.query(
            "SELECT * FROM payment_requests WHERE invoice_id = \(invoiceId) AND organization_id = \(organization)")
        guard !rows.isEmpty else { return [] }
        let paid = try netPaid(invoiceId: invoiceId, payer: .patient, connection)
        let voided = try invoice(invoiceId, organization, connection)?.voided ?? false
        return try rows.map { row in
            let amount = try row.money("amount")
            return PaymentRequest(
                id: try row.string("id"), invoiceId: invoiceId, patientId: try row.string("patient_id"),
                locationId: try row.string("location_id"), amount: amount, currency: try row.string("currency"),
                paid: paid, status: voided ? .cancelled : (paid >= amount ? .paid : .open),
                createdAt: try row.string("created_at"))
        }
    }
}
