import RCMCore
import RCMEvents
import RCMServiceKit
import RCMStorage

/// Follows payments and refunds into each invoice's ledger and announces the new balance.
struct BillingConsumer: EventConsumer {
    let environment: ServiceEnvironment
    var name: String { BillingService.name }
    var subscribedTypes: [String] { BillingService.subscribedTypes }
    var database: any Database { environment.database }

    /// The payment service's `payment.recorded` / `payment.refunded` body.
    struct Movement: Decodable {
        let invoiceId: String
        let paymentId: String
        let refundId: String?
        let amount: Money
    }

    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        let movement = try event.decode(Movement.self)
        let kind = event.type == "payment.refunded" ? "refund" : "payment"
        guard try BillingStore.find(movement.invoiceId, organization: event.organizationId, in: connection) != nil
        else {
            environment.logger.warning("payment for an unknown invoice", ["event.id": event.id])
            return
        }
        try BillingStore.appendEntry(
            invoiceId: movement.invoiceId, kind: kind, amount: movement.amount,
            reference: movement.refundId ?? movement.paymentId, occurredAt: event.occurredAt, in: connection)
        guard
            let invoice = try BillingStore.find(movement.invoiceId, organization: event.organizationId, in: connection)
        else { return }
        try environment.outbox.publish(
            try EventEnvelope.make(
                type: "invoice.balance_changed", organizationId: invoice.organizationId, locationId: invoice.locationId,
                correlationId: event.correlationId, source: BillingService.name, body: BalanceChanged(invoice: invoice)),
            in: connection)
    }

    func didCommit() { environment.outbox.notify() }
}
