import Foundation
import RCMCore
import RCMServiceKit

/// One visit as the clinician documented it: who saw the patient, where, why (diagnoses) and what
/// was done (services). Signing it creates its charges; amending a signed encounter makes a new
/// version and correcting charges, never an edit of the old ones.
public struct Encounter: Codable, Sendable, Equatable {
    public var id: String
    public var version: Int
    public var organizationId: String
    public var locationId: String
    public var patientId: String
    public var appointmentId: String?
    public var status: Status
    public var renderingProviderNPI: String
    public var referringProviderNPI: String?
    /// CMS place-of-service code (11 office, 22 outpatient hospital, 02 telehealth, ...).
    public var placeOfService: String
    public var dateOfService: CalendarDate
    /// ICD-10-CM, in order; the first is the principal diagnosis.
    public var diagnoses: [String]
    public var services: [Service]
    public var notes: String?
    public var createdAt: String
    public var signedAt: String?
    public var signedBy: String?
    /// Why this version replaced the previous one.
    public var amendmentReason: String?

    public enum Status: String, Codable, Sendable {
        case draft, signed
    }

    public struct Service: Codable, Sendable, Equatable {
        /// cpt, hcpcs or local
        public var system: String
        public var code: String
        public var modifiers: [String]
        public var units: Int
        /// 1-based positions in `diagnoses` (at most four).
        public var diagnosisPointers: [Int]
        /// National Drug Code (11 digits, 5-4-2) for drugs.
        public var ndc: String?
        public var description: String?
    }
}

/// One charge from a signed encounter: positive when a service is added, a negative reversal when
/// an amendment removes or changes it. Append-only.
public struct Charge: Codable, Sendable, Equatable {
    public var id: String
    public var encounterId: String
    public var encounterVersion: Int
    public var lineNumber: Int
    public var code: String
    public var modifiers: [String]
    public var units: Int
    public var unitPrice: Money
    public var amount: Money
    /// The charge this one reverses.
    public var reverses: String?
    public var createdAt: String
}

/// The body of `POST /api/billing/encounters` and of an amendment.
struct EncounterInput: Decodable {
    var locationId: String?
    var patientId: String?
    var appointmentId: String?
    var renderingProviderNPI: String?
    var referringProviderNPI: String?
    var placeOfService: String?
    var dateOfService: CalendarDate?
    var diagnoses: [String]?
    var services: [ServiceInput]?
    var notes: String?
    var amendmentReason: String?

    struct ServiceInput: Decodable {
        var system: String?
        var code: String?
        var modifiers: [String]?
        var units: Int?
        var diagnosisPointers: [Int]?
        var ndc: String?
        var description: String?
    }
}

/// Checks of codes' shape and of an encounter's inner consistency; bad input is a 422 naming the
/// line and field.
enum EncounterRules {
    static let systems: Set<String> = ["cpt", "hcpcs", "local"]

    /// Two letters or digits (CPT/HCPCS modifiers: 25, 59, 26, TC, LT, XS, ...).
    static func isModifier(_ text: String) -> Bool {
        text.count == 2 && text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    /// ICD-10-CM shape: a letter, two characters (digit, digit or letter), then up to four more
    /// after an optional dot.
    static func isICD10CM(_ text: String) -> Bool {
        let code = text.replacingOccurrences(of: ".", with: "").uppercased()
        let characters = Array(code)
        guard (3...7).contains(characters.count), characters[0].isLetter, characters[0].isASCII,
            characters[1].isNumber, characters.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return false }
        return text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) == 3 } ?? true
    }

    /// CPT: five characters, four digits then a digit (Category I), F (II) or T (III).
    static func isCPT(_ code: String) -> Bool {
        let characters = Array(code)
        guard characters.count == 5, characters.prefix(4).allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return false
        }
        return characters[4].isNumber || characters[4] == "F" || characters[4] == "T"
    }

    /// HCPCS Level II: a letter A–V then four digits.
    static func isHCPCS(_ code: String) -> Bool {
        let characters = Array(code)
        guard characters.count == 5, let first = characters.first, first.isASCII, first.isUppercase, first <= "V"
        else { return false }
        return characters.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// NDC in the 11-digit 5-4-2 billing form, with or without hyphens.
    static func isNDC(_ text: String) -> Bool {
        let digits = text.filter { $0 != "-" }
        guard digits.count == 11, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        return !text.contains("-") || text.split(separator: "-").map(\.count) == [5, 4, 2]
    }

    static func isPlaceOfService(_ text: String) -> Bool {
        text.count == 2 && text.allSatisfy { $0.isASCII && $0.isNumber } && text != "00"
    }

    /// Every field of an encounter, each fault named by its JSON pointer.
    static func validate(_ input: EncounterInput, today: CalendarDate, validation: inout Validation) {
        validation.text(input.patientId, "/patientId", maxLength: 64)
        validation.text(input.locationId, "/locationId", maxLength: 64, required: false)
        validation.text(input.appointmentId, "/appointmentId", maxLength: 64, required: false)
        validation.require(
            NPI.isValid(input.renderingProviderNPI ?? ""), "/renderingProviderNPI",
            "must be a 10-digit NPI with a valid check digit")
        if let referring = input.referringProviderNPI {
            validation.require(
                NPI.isValid(referring), "/referringProviderNPI", "must be a 10-digit NPI with a valid check digit")
        }
        if let place = input.placeOfService {
            validation.require(
                isPlaceOfService(place), "/placeOfService", "must be a two-digit CMS place-of-service code")
        }
        if let date = input.dateOfService {
            validation.require(date <= today, "/dateOfService", "must not be in the future")
        }
        let diagnoses = input.diagnoses ?? []
        validation.require(!diagnoses.isEmpty, "/diagnoses", "must list at least one ICD-10-CM diagnosis")
        validation.require(diagnoses.count <= 12, "/diagnoses", "at most 12 diagnoses")
        for (index, code) in diagnoses.enumerated() {
            validation.require(isICD10CM(code), "/diagnoses/\(index)", "\(code) is not an ICD-10-CM code")
        }
        let services = input.services ?? []
        validation.require(!services.isEmpty, "/services", "must list at least one service")
        validation.require(services.count <= 50, "/services", "at most 50 services")
        for (index, service) in services.enumerated() {
            let pointer = "/services/\(index)"
            let system = service.system ?? "local"
            validation.require(systems.contains(system), pointer + "/system", "must be cpt, hcpcs or local")
            let code = service.code ?? ""
            switch system {
            case "cpt": validation.require(isCPT(code), pointer + "/code", "\(code) is not a CPT code (5 characters)")
            case "hcpcs":
                validation.require(
                    isHCPCS(code), pointer + "/code", "\(code) is not a HCPCS Level II code (A0000–V9999)")
            default:
                validation.require(
                    BillingService.isChargeCode(code), pointer + "/code", "must be 1 to 32 letters, digits, '-' or '.'")
            }
            let modifiers = service.modifiers ?? []
            validation.require(modifiers.count <= 4, pointer + "/modifiers", "at most four modifiers")
            for (position, modifier) in modifiers.enumerated() {
                validation.require(
                    isModifier(modifier), pointer + "/modifiers/\(position)",
                    "\(modifier) is not a modifier (two letters or digits)")
            }
            if let units = service.units {
                validation.require((1...999).contains(units), pointer + "/units", "must be 1 to 999")
            }
            let pointers = service.diagnosisPointers ?? [1]
            validation.require((1...4).contains(pointers.count), pointer + "/diagnosisPointers", "one to four pointers")
            for (position, target) in pointers.enumerated() {
                validation.require(
                    (1...max(diagnoses.count, 1)).contains(target) && target <= diagnoses.count,
                    pointer + "/diagnosisPointers/\(position)", "points at diagnosis \(target), which does not exist")
            }
            if let ndc = service.ndc {
                validation.require(isNDC(ndc), pointer + "/ndc", "must be an 11-digit NDC (5-4-2)")
            }
            validation.text(service.description, pointer + "/description", required: false)
        }
        validation.text(input.notes, "/notes", maxLength: 20_000, required: false)
    }
}
