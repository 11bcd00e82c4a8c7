import RCMCore
import RCMEvents
import RCMServiceKit
import RCMStorage

/// Keeps the payment service's copy of invoices, asks patients for their share, and posts the
/// insurer's payments that claims report.
struct PaymentConsumer: EventConsumer {
    let environment: ServiceEnvironment
    var name: String { PaymentService.name }
    var subscribedTypes: [String] { PaymentService.subscribedTypes }
    var database: any Database { environment.database }

    struct IssuedInvoice: Decodable {
        let id: String
        let locationId: String
        let patientId: String
        let currency: String
        let total: Money
        let patientAmount: Money
    }

    struct VoidedInvoice: Decodable {
        let invoiceId: String
    }

    struct ClaimChange: Decodable {
        let claimId: String
        let invoiceId: String
        let paidAmount: Money?
    }

    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        switch event.type {
        case "invoice.issued":
            let invoice = try event.decode(IssuedInvoice.self)
            try connection.execute(
                """
                INSERT INTO invoices (invoice_id, organization_id, location_id, patient_id, currency, total, patient_amount, voided)
                VALUES (\(invoice.id), \(event.organizationId), \(invoice.locationId), \(invoice.patientId),
                    \(invoice.currency), \(invoice.total), \(invoice.patientAmount), 0)
                """)
            guard invoice.patientAmount.minorUnits > 0 else { return }
            let requestId = Identifier.make("prq")
            try connection.execute(
                """
                INSERT INTO payment_requests (id, organization_id, location_id, invoice_id, patient_id, amount, currency, created_at)
                VALUES (\(requestId), \(event.organizationId), \(invoice.locationId), \(invoice.id), \(invoice.patientId),
                    \(invoice.patientAmount), \(invoice.currency), \(Timestamp.now()))
                """)
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "payment_request.created", organizationId: event.organizationId,
                    locationId: invoice.locationId,
                    correlationId: event.correlationId, source: PaymentService.name,
                    body: RequestCreated(
                        paymentRequestId: requestId, invoiceId: invoice.id, patientId: invoice.patientId,
                        amount: invoice.patientAmount)),
                in: connection)
        case "invoice.voided":
            let voided = try event.decode(VoidedInvoice.self)
            try connection.execute("UPDATE invoices SET voided = 1 WHERE invoice_id = \(voided.invoiceId)")
        case "claim.status_changed":
            let change = try event.decode(ClaimChange.self)
            guard let amount = change.paidAmount, amount.minorUnits > 0,
                let invoice = try PaymentStore.invoice(change.invoiceId, event.organizationId, connection)
            else { return }
            let payment = Payment(
                id: Identifier.make("pay"), organizationId: event.organizationId, locationId: invoice.locationId,
                invoiceId: invoice.id, patientId: invoice.patientId, payer: .insurer, method: .insurer, amount: amount,
                currency: invoice.currency, reference: "claim \(change.claimId)", claimId: change.claimId,
                receivedAt: event.occurredAt, refunded: .zero)
            try PaymentStore.insert(payment, connection)
            try environment.outbox.publish(
                try PaymentService.recorded(payment, correlationId: event.correlationId), in: connection)
        default:
            return
        }
    }

    func didCommit() { environment.outbox.notify() }
}

struct RequestCreated: Encodable {
    let paymentRequestId: String
    let invoiceId: String
    let patientId: String
    let amount: Money
}
