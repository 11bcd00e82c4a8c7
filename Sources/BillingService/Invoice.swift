import RCMCore

/// A bill for one visit. The invoice and its lines never change once issued; payments, refunds and
/// a void are entries appended to its ledger, and its balance and status are derived from them.
public struct Invoice: Codable, Sendable, Equatable {
    public var id: String
    public var number: String
    public var organizationId: String
    public var locationId: String
    public var patientId: String
    public var dateOfService: CalendarDate
    public var currency: String
    public var lines: [Line]
    public var total: Money
    /// What the payer is expected to pay under the coverage.
    public var payerAmount: Money
    /// What the patient owes (copay, deductible, coinsurance; everything when uninsured).
    public var patientAmount: Money
    public var coverage: CoverageSummary?
    public var paid: Money
    public var balance: Money
    public var status: Status
    public var createdAt: String
    public var entries: [Entry]
    /// The claim scrubber's report (invoices of encounters): errors hold the claim in the work queue.
    public var scrub: ScrubReport?

    public enum Status: String, Codable, Sendable {
        case issued
        case partiallyPaid = "partially_paid"
        case paid
        case void
    }

    public struct Line: Codable, Sendable, Equatable {
        public var lineNumber: Int
        public var code: String
        public var description: String
        public var quantity: Int
        public var unitPrice: Money
        public var amount: Money
        public var payerAmount: Money
        /// The patient's share, tax included.
        public var patientAmount: Money
        /// Tax on the line (the patient's), when a tax rule names its code.
        public var taxAmount: Money?
        public var taxName: String?
    }

    /// The coverage the split was computed from (copied from the insurance service at issue time).
    public struct CoverageSummary: Codable, Sendable, Equatable {
        public var coverageId: String
        public var payerId: String
        public var payerName: String
        public var planName: String
        public var memberId: String
        public var groupNumber: String?
    }

    /// One ledger entry: `charge` (the issue), `payment`, `refund` or `void`.
    public struct Entry: Codable, Sendable, Equatable {
        public var kind: String
        public var amount: Money
        public var reference: String?
        public var occurredAt: String
    }

    /// Balance and status from the ledger.
    static func derive(total: Money, entries: [Entry]) -> (paid: Money, balance: Money, status: Status) {
        let paid =
            entries.filter { $0.kind == "payment" }.map(\.amount).sum()
            - entries.filter { $0.kind == "refund" }.map(\.amount).sum()
        if entries.contains(where: { $0.kind == "void" }) { return (paid, .zero, .void) }
        let balance = total - paid
        let status: Status = paid.minorUnits <= 0 ? .issued : (balance.minorUnits <= 0 ? .paid : .partiallyPaid)
        return (paid, balance, status)
    }
}

/// What the claim scrubber found in the claim an invoice becomes.
public struct ScrubReport: Codable, Sendable, Equatable {
    /// No error findings (warnings do not block).
    public var clean: Bool
    public var rulesVersion: String
    public var findings: [Finding]

    public struct Finding: Codable, Sendable, Equatable {
        public var ruleId: String
        public var ruleVersion: Int?
        /// error or warning
        public var severity: String
        public var message: String
        public var fix: String?
        /// JSON pointer into the encounter.
        public var path: String?
    }
}

/// A priced service of a location's charge master.
public struct ChargeItem: Codable, Sendable, Equatable {
    public var locationId: String
    public var code: String
    public var description: String
    public var price: Money
}
