import RCMCore

/// Money received against an invoice, from the patient or from the insurer.
public struct Payment: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var locationId: String
    public var invoiceId: String
    public var patientId: String
    public var payer: Payer
    public var method: Method
    public var amount: Money
    public var currency: String
    public var reference: String?
    public var claimId: String?
    public var receivedAt: String
    /// Sum of refunds made against this payment.
    public var refunded: Money

    public enum Payer: String, Codable, Sendable {
        case patient, insurer
    }

    public enum Method: String, Codable, Sendable, CaseIterable {
        case cash, card, upi
        case bankTransfer = "bank_transfer"
        case cheque, insurer
    }
}

/// Money given back against a payment (append-only: a refund never edits the payment).
public struct Refund: Codable, Sendable, Equatable {
    public var id: String
    public var paymentId: String
    public var invoiceId: String
    public var amount: Money
    public var reason: String
    public var createdAt: String
}

/// What the patient is asked to pay for an invoice.
public struct PaymentRequest: Codable, Sendable, Equatable {
    public var id: String
    public var invoiceId: String
    public var patientId: String
    public var locationId: String
    public var amount: Money
    public var currency: String
    /// Net patient payments against the invoice so far.
    public var paid: Money
    public var status: Status
    public var createdAt: String

    public enum Status: String, Codable, Sendable {
        case open, paid, cancelled
    }
}
