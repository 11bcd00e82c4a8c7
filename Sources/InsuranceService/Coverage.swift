import Foundation
import RCMCore

/// An insurer or government scheme that pays claims.
public struct Payer: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var name: String
    /// The payer's identifier with clearinghouses (X12 payer id) or the exchange (NHCX).
    public var payerCode: String
    /// How eligibility is asked of this payer.
    public var connector: EligibilityConnectorKind
    /// The payer's X12 interchange receiver id (ISA08), when it differs from `payerCode`.
    public var x12ReceiverId: String?
    /// CAQH CORE real-time endpoint for X12 270/271 (connector `x12-http`).
    public var x12Endpoint: String?
    /// FHIR / NHCX gateway base URL (connector `nhcx`): `/coverageeligibility/check` is posted there.
    public var fhirEndpoint: String?
    /// How long to wait for the payer's answer before telling the front desk "not verified, retry".
    public var timeoutMilliseconds: Int
    /// How long a verified answer is reused before the payer is asked again.
    public var eligibilityCacheMinutes: Int
    public var createdAt: String
}

/// Which connector answers a payer's eligibility questions.
public enum EligibilityConnectorKind: String, Codable, Sendable, CaseIterable {
    /// The built-in payer simulator: deterministic answers by member-id pattern (demo and tests).
    case simulator
    /// X12 270/271 over HTTP, CAQH CORE connectivity (MIME multipart, real time).
    case x12Http = "x12-http"
    /// FHIR R4 CoverageEligibilityRequest through an NHCX gateway, answered by callback (`on_check`).
    case nhcx
    /// The payer has no electronic eligibility: checks are refused with a clear message.
    case none
}

/// One of a payer's plans (products).
public struct Plan: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var payerId: String
    public var name: String
    /// The payer's own code for the plan, when it has one.
    public var planCode: String?
    /// The kind of plan (e.g. PPO, HMO, group health, government scheme), free text.
    public var planType: String?
    public var createdAt: String
}

/// A patient's insurance with one payer, and what the patient pays under it.
public struct Coverage: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var patientId: String
    public var payerId: String
    public var payerName: String
    public var planName: String
    public var memberId: String
    public var groupNumber: String?
    public var relationship: Relationship
    /// The plan under the payer, when the plan directory knows it.
    public var planId: String?
    /// 1 primary, 2 secondary, 3 tertiary: the order in which payers are billed.
    public var order: Int
    /// The policy holder when the patient is not (relationship other than `self`).
    public var subscriber: Subscriber?
    public var validFrom: CalendarDate
    public var validTo: CalendarDate?
    /// A fixed amount the patient pays per visit.
    public var copay: Money
    /// The patient's share, in percent, of what remains after copay and deductible.
    public var coinsurancePercent: Decimal
    public var deductible: Money
    public var deductibleMet: Money
    public var createdAt: String
    /// Where copay, coinsurance and deductible come from: `coverage` (as registered) or
    /// `eligibility` (the payer's latest verified answer, which then overrides them).
    public var costShareSource: String = "coverage"
    /// The latest eligibility check of this coverage, when there is one.
    public var eligibility: EligibilityStatus?

    /// The policy holder's details (X12 loop 2100C when the patient is a dependent).
    public struct Subscriber: Codable, Sendable, Equatable {
        public var givenName: String
        public var familyName: String
        public var dateOfBirth: CalendarDate?
        /// female, male, other, unknown
        public var sex: String?
    }

    /// The subscriber's relationship to the patient (X12 INS02 / FHIR Coverage.relationship).
    public enum Relationship: String, Codable, Sendable, CaseIterable {
        case `self`, spouse, child, other
    }

    public func isActive(on date: CalendarDate) -> Bool {
        validFrom <= date && (validTo.map { date <= $0 } ?? true)
    }
}

/// The latest eligibility answer for a coverage, in short.
public struct EligibilityStatus: Codable, Sendable, Equatable {
    public var checkId: String
    public var status: EligibilityCheck.Status
    public var checkedAt: String
    public var expiresAt: String?
}

struct PayerInput: Decodable {
    var name: String?
    var payerCode: String?
    var connector: EligibilityConnectorKind?
    var x12ReceiverId: String?
    var x12Endpoint: String?
    var fhirEndpoint: String?
    var timeoutMilliseconds: Int?
    var eligibilityCacheMinutes: Int?
}

struct PlanInput: Decodable {
    var payerId: String?
    var name: String?
    var planCode: String?
    var planType: String?
}

struct CoverageInput: Decodable {
    var patientId: String?
    var payerId: String?
    var planName: String?
    var memberId: String?
    var groupNumber: String?
    var relationship: Coverage.Relationship?
    var planId: String?
    var order: Int?
    var subscriber: Coverage.Subscriber?
    var validFrom: CalendarDate?
    var validTo: CalendarDate?
    var copay: Money?
    var coinsurancePercent: Decimal?
    var deductible: Money?
    var deductibleMet: Money?
}
