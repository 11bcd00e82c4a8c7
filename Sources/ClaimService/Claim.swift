import RCMCore

/// A request to a payer for the covered part of an invoice.
public struct Claim: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var locationId: String
    public var invoiceId: String
    public var invoiceNumber: String
    public var patientId: String
    public var coverageId: String
    public var payerId: String
    public var payerName: String
    public var memberId: String
    public var dateOfService: CalendarDate
    public var currency: String
    public var status: ClaimStatus
    public var total: Money
    /// What the payer is expected to pay (the invoice's payer share).
    public var expectedAmount: Money
    public var paidAmount: Money
    public var lines: [Line]
    /// The claim scrubber's findings when the claim was made (errors hold it in the work queue).
    public var findings: [Finding]?
    public var history: [Transition]
    public var createdAt: String
    public var updatedAt: String

    public struct Line: Codable, Sendable, Equatable {
        public var lineNumber: Int
        public var code: String
        public var description: String
        public var quantity: Int
        public var amount: Money
        public var expectedAmount: Money
    }

    /// One finding of the claim scrubber, as billing reported it with the invoice.
    public struct Finding: Codable, Sendable, Equatable {
        public var ruleId: String
        public var severity: String
        public var message: String
        public var fix: String?
        public var path: String?
    }

    public struct Transition: Codable, Sendable, Equatable {
        public var from: ClaimStatus?
        public var to: ClaimStatus
        public var reason: String?
        public var paidAmount: Money?
        public var occurredAt: String
    }
}

/// The part of billing's `invoice.issued` body a claim is made from.
struct IssuedInvoice: Decodable {
    struct Line: Decodable {
        let lineNumber: Int
        let code: String
        let description: String
        let quantity: Int
        let amount: Money
        let payerAmount: Money
    }
    struct Coverage: Decodable {
        let coverageId: String
        let payerId: String
        let payerName: String
        let memberId: String
    }
    let id: String
    let number: String
    let locationId: String
    let patientId: String
    let dateOfService: CalendarDate
    let currency: String
    let total: Money
    let payerAmount: Money
    let coverage: Coverage?
    let lines: [Line]
    /// Billing's scrub of the claim-to-be (encounter invoices); absent: not scrubbed.
    let scrub: Scrub?

    struct Scrub: Decodable {
        let clean: Bool
        let findings: [Claim.Finding]
    }
}
