import Foundation
import RCMCore

/// An insurer or government scheme that pays claims.
public struct Payer: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var name: String
    /// The payer's identifier with clearinghouses (X12 payer id) or the exchange (NHCX).
    public var payerCode: String
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
    public var validFrom: CalendarDate
    public var validTo: CalendarDate?
    /// A fixed amount the patient pays per visit.
    public var copay: Money
    /// The patient's share, in percent, of what remains after copay and deductible.
    public var coinsurancePercent: Decimal
    public var deductible: Money
    public var deductibleMet: Money
    public var createdAt: String

    /// The subscriber's relationship to the patient (X12 INS02 / FHIR Coverage.relationship).
    public enum Relationship: String, Codable, Sendable, CaseIterable {
        case `self`, spouse, child, other
    }

    public func isActive(on date: CalendarDate) -> Bool {
        validFrom <= date && (validTo.map { date <= $0 } ?? true)
    }
}

struct PayerInput: Decodable {
    var name: String?
    var payerCode: String?
}

struct CoverageInput: Decodable {
    var patientId: String?
    var payerId: String?
    var planName: String?
    var memberId: String?
    var groupNumber: String?
    var relationship: Coverage.Relationship?
    var validFrom: CalendarDate?
    var validTo: CalendarDate?
    var copay: Money?
    var coinsurancePercent: Decimal?
    var deductible: Money?
    var deductibleMet: Money?
}
