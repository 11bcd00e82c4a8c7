import Foundation

/// FHIR R4 datatypes used by the platform's financial resources. Only the elements the platform
/// writes or reads are modelled; every optional element is omitted from JSON when nil, as FHIR
/// requires (no `null`s, no empty arrays).
public struct FHIRCoding: Codable, Sendable, Equatable {
    public var system: String?
    public var code: String?
    public var display: String?

    public init(system: String? = nil, code: String?, display: String? = nil) {
        self.system = system
        self.code = code
        self.display = display
    }
}

public struct FHIRCodeableConcept: Codable, Sendable, Equatable {
    public var coding: [FHIRCoding]?
    public var text: String?

    public init(coding: [FHIRCoding]? = nil, text: String? = nil) {
        self.coding = coding
        self.text = text
    }

    public init(system: String, code: String, display: String? = nil) {
        self.init(coding: [FHIRCoding(system: system, code: code, display: display)])
    }

    /// The first code of `system` (or of any system when nil).
    public func code(in system: String? = nil) -> String? {
        coding?.first { system == nil || $0.system == system }?.code
    }
}

public struct FHIRIdentifier: Codable, Sendable, Equatable {
    public var system: String?
    public var value: String?

    public init(system: String?, value: String?) {
        self.system = system
        self.value = value
    }
}

public struct FHIRReference: Codable, Sendable, Equatable {
    public var reference: String?
    public var display: String?
    public var identifier: FHIRIdentifier?

    public init(reference: String? = nil, display: String? = nil, identifier: FHIRIdentifier? = nil) {
        self.reference = reference
        self.display = display
        self.identifier = identifier
    }
}

public struct FHIRPeriod: Codable, Sendable, Equatable {
    public var start: String?
    public var end: String?

    public init(start: String?, end: String? = nil) {
        self.start = start
        self.end = end
    }
}

/// `Money`: a decimal value and an ISO 4217 currency. The value is written as a JSON number with
/// exactly the digits of the decimal (no binary floating point on the way).
public struct FHIRMoney: Codable, Sendable, Equatable {
    public var value: Decimal
    public var currency: String

    public init(value: Decimal, currency: String) {
        self.value = value
        self.currency = currency
    }
}

public struct FHIRHumanName: Codable, Sendable, Equatable {
    public var use: String?
    public var family: String?
    public var given: [String]?
    public var text: String?

    public init(use: String? = nil, family: String?, given: [String]?, text: String? = nil) {
        self.use = use
        self.family = family
        self.given = given
        self.text = text
    }
}

public struct FHIRNarrative: Codable, Sendable, Equatable {
    public var status: String
    public var div: String
}

public struct FHIRMeta: Codable, Sendable, Equatable {
    public var profile: [String]?
    public var lastUpdated: String?

    public init(profile: [String]? = nil, lastUpdated: String? = nil) {
        self.profile = profile
        self.lastUpdated = lastUpdated
    }
}

/// Code systems the platform writes.
public enum FHIRSystem {
    public static let serviceType = "https://x12.org/codes/service-type-codes"
    public static let benefitType = "http://terminology.hl7.org/CodeSystem/benefit-type"
    public static let benefitNetwork = "http://terminology.hl7.org/CodeSystem/benefit-network"
    public static let benefitUnit = "http://terminology.hl7.org/CodeSystem/benefit-unit"
    public static let benefitTerm = "http://terminology.hl7.org/CodeSystem/benefit-term"
    public static let adjudicationError = "http://terminology.hl7.org/CodeSystem/adjudication-error"
    public static let npi = "http://hl7.org/fhir/sid/us-npi"
    public static let subscriberRelationship = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
    public static let coverageClass = "http://terminology.hl7.org/CodeSystem/coverage-class"
}

/// A FHIR resource id for a platform id: FHIR ids are 1–64 of `A-Z a-z 0-9 - .`, so the
/// platform's `_` becomes `-` (the original id travels in an `identifier`).
public func fhirId(_ id: String) -> String {
    String(
        id.map { $0 == "_" ? "-" : $0 }.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
            .prefix(64))
}
