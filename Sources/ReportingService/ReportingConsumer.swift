import RCMCore
import RCMEvents
import RCMServiceKit
import RCMStorage

/// Folds every event into the reporting read models and the timeline.
struct ReportingConsumer: EventConsumer {
    let environment: ServiceEnvironment
    var name: String { ReportingService.name }
    var subscribedTypes: [String] { ReportingService.subscribedTypes }
    var database: any Database { environment.database }

    /// The fields of the events reporting reads; each event type fills some of them.
    struct Facts: Decodable {
        let id: String?
        let number: String?
        let invoiceId: String?
        let patientId: String?
        let claimId: String?
        let paymentId: String?
        let refundId: String?
        let locationId: String?
        let dateOfService: CalendarDate?
        let currency: String?
        let total: Money?
        let payerAmount: Money?
        let patientAmount: Money?
        let paid: Money?
        let amount: Money?
        let status: String?
        let method: String?
        let paidAmount: Money?
        let mergedInto: String?
        let checkId: String?
    }

    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        let facts = try event.decode(Facts.self)
        let organization = event.organizationId
        var invoiceId = facts.invoiceId
        let summary: String
        switch event.type {
        case "invoice.issued":
            guard let id = facts.id, let total = facts.total else { return }
            invoiceId = id
            try connection.execute(
                """
                INSERT INTO rm_invoices (invoice_id, organization_id, location_id, patient_id, number, date_of_service,
                    currency, total, payer_amount, patient_amount, paid, status)
                VALUES (\(id), \(organization), \(facts.locationId ?? event.locationId ?? ""), \(facts.patientId ?? ""),
                    \(facts.number ?? ""), \(facts.dateOfService?.description ?? String(event.occurredAt.prefix(10))),
                    \(facts.currency ?? environment.currency), \(total), \(facts.payerAmount ?? .zero),
                    \(facts.patientAmount ?? .zero), 0, 'issued')
                ON CONFLICT DO NOTHING
                """)
            summary =
                "Invoice \(facts.number ?? id) issued for \(total): payer \(facts.payerAmount ?? .zero), patient \(facts.patientAmount ?? .zero)"
        case "invoice.balance_changed", "invoice.voided":
            guard let id = facts.invoiceId, let paid = facts.paid, let status = facts.status else { return }
            try connection.execute(
                "UPDATE rm_invoices SET paid = \(paid), status = \(status) WHERE invoice_id = \(id) AND organization_id = \(organization)"
            )
            summary =
                event.type == "invoice.voided" ? "Invoice voided" : "Invoice balance: paid \(paid), status \(status)"
        case "claim.created", "claim.status_changed":
            guard let claimId = facts.claimId, let status = facts.status, let invoice = facts.invoiceId else { return }
            try connection.execute(
                """
                INSERT INTO rm_claims (claim_id, organization_id, invoice_id, status) VALUES (\(claimId), \(organization), \(invoice), \(status))
                ON CONFLICT (claim_id) DO UPDATE SET status = excluded.status
                """)
            summary =
                event.type == "claim.created"
                ? "Claim \(claimId) drafted for \(facts.total ?? .zero)"
                : "Claim \(claimId) is \(status)" + (facts.paidAmount.map { ", payer paid \($0)" } ?? "")
        case "payment_request.created":
            summary = "Patient asked to pay \(facts.amount ?? .zero)"
        case "payment.recorded", "payment.refunded":
            guard let invoice = facts.invoiceId, let amount = facts.amount else { return }
            let refund = event.type == "payment.refunded"
            try connection.execute(
                """
                INSERT INTO rm_collections (movement_id, organization_id, location_id, invoice_id, amount, received_on)
                VALUES (\(facts.refundId ?? facts.paymentId ?? event.id), \(organization), \(event.locationId ?? ""), \(invoice),
                    \(refund ? Money.zero - amount : amount), \(String(event.occurredAt.prefix(10))))
                ON CONFLICT DO NOTHING
                """)
            summary = refund ? "Refund of \(amount)" : "Payment of \(amount) by \(facts.method ?? "unknown")"
        case "patient.registered":
            summary = "Patient registered"
        case "patient.merged":
            guard let merged = facts.patientId, let survivor = facts.mergedInto else { return }
            try connection.execute(
                """
                INSERT INTO rm_patient_aliases (merged_id, organization_id, survivor_id)
                VALUES (\(merged), \(organization), \(survivor))
                ON CONFLICT (merged_id) DO UPDATE SET survivor_id = excluded.survivor_id
                """)
            // Records merged into the merged one follow it.
            try connection.execute(
                "UPDATE rm_patient_aliases SET survivor_id = \(survivor) WHERE organization_id = \(organization) AND survivor_id = \(merged)"
            )
            summary = "Record \(merged) merged into \(survivor)"
        case "eligibility.checked":
            summary = "Eligibility check \(facts.checkId ?? ""): \(facts.status ?? "unknown")"
        default:
            return
        }
        try connection.execute(
            """
            INSERT INTO rm_timeline (organization_id, invoice_id, patient_id, event_id, type, occurred_at, summary)
            VALUES (\(organization), \(invoiceId), \(facts.patientId), \(event.id), \(event.type), \(event.occurredAt), \(summary))
            """)
    }
}
