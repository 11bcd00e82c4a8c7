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
    /// Name parts beyond given and family name.
    public var middleName: String?
    public var namePrefix: String?
    public var nameSuffix: String?
    /// Gender identity as the patient states it (free text), beside administrative `sex`.
    public var genderIdentity: String?
    /// BCP 47 language tag, e.g. `en`, `hi`, `mr-IN`.
    public var preferredLanguage: String?
    /// Who pays what the patient owes, when not the patient (stored encrypted).
    public var guarantor: Contact?
    /// Whom to call in an emergency (stored encrypted).
    public var emergencyContact: Contact?
    /// Consents the patient gave or withdrew, with their dates.
    public var consents: [Consent]?
    /// Set when this record was merged into another: reads redirect there.
    public var mergedInto: String?

    /// A related person: guarantor or emergency contact.
    public struct Contact: Codable, Sendable, Equatable {
        public var name: String
        /// self, spouse, parent, child, other, ...
        public var relationship: String
        public var phone: String?
        public var email: String?
        public var address: Address?
    }

    /// One consent: what, when given, until when, and whether withdrawn.
    public struct Consent: Codable, Sendable, Equatable {
        /// treatment, privacy-notice, data-sharing, sms, email, research, ...
        public var type: String
        public var grantedOn: CalendarDate
        public var expiresOn: CalendarDate?
        public var withdrawnOn: CalendarDate?
    }

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
    var middleName: String?
    var namePrefix: String?
    var nameSuffix: String?
    var genderIdentity: String?
    var preferredLanguage: String?
    var guarantor: Patient.Contact?
    var emergencyContact: Patient.Contact?
    var consents: [Patient.Consent]?
    /// Registers the patient even though similar records exist (after the front desk looked at them).
    var confirmNotDuplicate: Bool?
}
