import Foundation
import RCMCore

/// One eligibility question put to a payer and its answer, kept with the raw exchange
/// (X12 270/271 or FHIR bundles) and its control numbers.
public struct EligibilityCheck: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var patientId: String
    public var coverageId: String
    public var payerId: String
    public var connector: EligibilityConnectorKind
    /// What asked: `manual` (front desk), `check_in`, `scheduled` (the job for coming appointments).
    public var trigger: String
    public var appointmentId: String?
    public var dateOfService: CalendarDate
    public var serviceTypeCodes: [String]
    public var status: Status
    /// A sentence for the front desk: what the answer means and what to do.
    public var message: String
    /// True when asking again may give a different answer (timeouts, payer unavailable).
    public var retryable: Bool
    public var requestedAt: String
    public var completedAt: String?
    /// Until when the answer is reused instead of asking the payer again.
    public var expiresAt: String?
    public var controlNumbers: ControlNumbers?
    public var result: EligibilityResult?

    public enum Status: String, Codable, Sendable, CaseIterable {
        /// The payer confirmed active coverage.
        case active
        /// The payer answered that the coverage is not active on the date.
        case inactive
        /// The payer rejected the question (member not found, invalid data, ...): see `result.rejections`.
        case rejected
        /// Asked through a callback protocol (NHCX); the answer has not arrived yet.
        case pending
        /// No answer: timeout, payer unavailable or circuit open. Retry later.
        case notVerified = "not_verified"
    }

    public struct ControlNumbers: Codable, Sendable, Equatable {
        public var interchange: String?
        public var group: String?
        public var transaction: String?
        /// TRN02 (X12) or the NHCX correlation id.
        public var trace: String?
    }
}

/// The payer's answer, normalised from X12 271 or FHIR CoverageEligibilityResponse.
public struct EligibilityResult: Codable, Sendable, Equatable {
    public var active: Bool?
    public var planName: String?
    public var groupNumber: String?
    public var benefits: [Benefit]
    public var rejections: [Rejection]
    public var messages: [String]
    /// What the platform uses for the patient's share, read from `benefits` (in-network, individual).
    public var costShare: CostShare

    public struct Benefit: Codable, Sendable, Equatable {
        /// active, inactive, copay, coinsurance, deductible, out_of_pocket, limitation, other
        public var kind: String
        /// The payer's own code (X12 EB01 or FHIR benefit type).
        public var code: String
        public var description: String
        /// individual, family or nil when not stated
        public var level: String?
        /// in, out or nil (applies to both)
        public var network: String?
        /// calendar_year, remaining, visit, service_year, lifetime, ... or nil
        public var period: String?
        public var serviceTypeCodes: [String]
        public var amount: Money?
        /// Percent (20 means 20%).
        public var percent: Decimal?
        public var messages: [String]
    }

    public struct Rejection: Codable, Sendable, Equatable {
        public var code: String
        public var explanation: String
        public var followUp: String?
        public var loop: String?
    }

    public struct CostShare: Codable, Sendable, Equatable {
        public var copay: Money?
        public var coinsurancePercent: Decimal?
        public var deductible: Money?
        public var deductibleRemaining: Money?
        public var outOfPocketMaximum: Money?
        public var outOfPocketRemaining: Money?
        public var familyDeductible: Money?
        public var familyDeductibleRemaining: Money?

        public init() {}
    }

    public init(
        active: Bool?, planName: String?, groupNumber: String?, benefits: [Benefit], rejections: [Rejection],
        messages: [String]
    ) {
        self.active = active
        self.planName = planName
        self.groupNumber = groupNumber
        self.benefits = benefits
        self.rejections = rejections
        self.messages = messages
        self.costShare = EligibilityResult.costShare(from: benefits)
    }

    /// The in-network, individual figures (or the ones that state no network or level), preferring
    /// the office-visit service types for the copay.
    static func costShare(from benefits: [Benefit]) -> CostShare {
        func pick(_ kind: String, level: String = "individual", period: ((String?) -> Bool)? = nil) -> Benefit? {
            let candidates = benefits.filter {
                $0.kind == kind && ($0.network ?? "in") == "in" && ($0.level ?? level) == level
                    && (period?($0.period) ?? true)
            }
            let officeVisit = candidates.first { !Set($0.serviceTypeCodes).isDisjoint(with: ["98", "A0", "BY", "BZ"]) }
            let general = candidates.first { $0.serviceTypeCodes.isEmpty || $0.serviceTypeCodes.contains("30") }
            return officeVisit ?? general ?? candidates.first
        }
        let isRemaining: (String?) -> Bool = { $0 == "remaining" }
        let isTotal: (String?) -> Bool = { $0 != "remaining" }
        var share = CostShare()
        share.copay = pick("copay")?.amount
        share.coinsurancePercent = pick("coinsurance")?.percent
        share.deductible = pick("deductible", period: isTotal)?.amount
        share.deductibleRemaining = pick("deductible", period: isRemaining)?.amount
        share.outOfPocketMaximum = pick("out_of_pocket", period: isTotal)?.amount
        share.outOfPocketRemaining = pick("out_of_pocket", period: isRemaining)?.amount
        share.familyDeductible = pick("deductible", level: "family", period: isTotal)?.amount
        share.familyDeductibleRemaining = pick("deductible", level: "family", period: isRemaining)?.amount
        return share
    }
}
