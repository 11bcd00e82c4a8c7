import RCMCore

/// A registered patient of one organization.
public struct Patient: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var locationId: String
    /// Medical record number, unique within the organization.
    public var mrn: String
    public var givenName: String
    public var familyName: String
    public var dateOfBirth: CalendarDate
    public var sex: Sex
    public var phone: String?
    public var email: String?
    public var address: Address?
    /// National identifiers (SSN, Aadhaar, ABHA number): stored encrypted, found by exact match.
    public var identifiers: [NationalIdentifier]?
    public var createdAt: String
    public var updatedAt: String
    public var version: Int

    public enum Sex: String, Codable, Sendable, CaseIterable {
        case female, male, other, unknown
    }

    public struct NationalIdentifier: Codable, Sendable, Equatable {
        public var system: System
        public var value: String

        public enum System: String, Codable, Sendable, CaseIterable {
            case ssn, aadhaar, abha
        }
    }

    public struct Address: Codable, Sendable, Equatable {
        public var line1: String?
        public var line2: String?
        public var city: String?
        public var state: String?
        public var postalCode: String?
        public var country: String?
    }
}

/// The body of `POST /api/patients`, and of `PATCH` (where every field is optional).
struct PatientInput: Decodable {
    var locationId: String?
    var givenName: String?
    var familyName: String?
    var dateOfBirth: CalendarDate?
    var sex: Patient.Sex?
    var phone: String?
    var email: String?
    var address: Patient.Address?
    var identifiers: [Patient.NationalIdentifier]?
}
