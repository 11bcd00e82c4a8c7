import Foundation

/// FHIR R4 `Patient`, with the demographics an insurer needs to find a member.
public struct FHIRPatient: Codable, Sendable, Equatable {
    public var resourceType = "Patient"
    public var id: String?
    public var identifier: [FHIRIdentifier]?
    public var name: [FHIRHumanName]?
    public var gender: String?
    public var birthDate: String?

    public init(
        id: String?, identifier: [FHIRIdentifier]? = nil, name: [FHIRHumanName]?, gender: String?, birthDate: String?
    ) {
        self.id = id
        self.identifier = identifier
        self.name = name
        self.gender = gender
        self.birthDate = birthDate
    }
}

/// FHIR R4 `Organization`: an insurer or a provider organization.
public struct FHIROrganization: Codable, Sendable, Equatable {
    public var resourceType = "Organization"
    public var id: String?
    public var identifier: [FHIRIdentifier]?
    public var name: String?

    public init(id: String?, identifier: [FHIRIdentifier]? = nil, name: String?) {
        self.id = id
        self.identifier = identifier
        self.name = name
    }
}

/// FHIR R4 `Coverage`: the patient's insurance with one payer.
public struct FHIRCoverage: Codable, Sendable, Equatable {
    public var resourceType = "Coverage"
    public var id: String?
    public var identifier: [FHIRIdentifier]?
    public var status: String
    public var subscriberId: String?
    public var beneficiary: FHIRReference
    public var relationship: FHIRCodeableConcept?
    public var period: FHIRPeriod?
    public var payor: [FHIRReference]
    public var `class`: [CoverageClass]?
    public var order: Int?

    public struct CoverageClass: Codable, Sendable, Equatable {
        public var type: FHIRCodeableConcept
        public var value: String
        public var name: String?

        public init(type: FHIRCodeableConcept, value: String, name: String? = nil) {
            self.type = type
            self.value = value
            self.name = name
        }
    }

    public init(
        id: String?, status: String = "active", subscriberId: String?, beneficiary: FHIRReference,
        relationship: FHIRCodeableConcept?, period: FHIRPeriod?, payor: [FHIRReference],
        class classes: [CoverageClass]? = nil, order: Int? = nil
    ) {
        self.id = id
        self.status = status
        self.subscriberId = subscriberId
        self.beneficiary = beneficiary
        self.relationship = relationship
        self.period = period
        self.payor = payor
        self.class = classes
        self.order = order
    }
}

/// FHIR R4 `CoverageEligibilityRequest`: "is this patient covered, and for what, on this date?"
public struct FHIRCoverageEligibilityRequest: Codable, Sendable, Equatable {
    public var resourceType = "CoverageEligibilityRequest"
    public var id: String?
    public var meta: FHIRMeta?
    public var identifier: [FHIRIdentifier]?
    public var status: String
    public var purpose: [String]
    public var patient: FHIRReference
    public var servicedDate: String?
    public var created: String
    public var provider: FHIRReference?
    public var insurer: FHIRReference
    public var insurance: [Insurance]?
    public var item: [Item]?

    public struct Insurance: Codable, Sendable, Equatable {
        public var focal: Bool?
        public var coverage: FHIRReference

        public init(focal: Bool?, coverage: FHIRReference) {
            self.focal = focal
            self.coverage = coverage
        }
    }

    public struct Item: Codable, Sendable, Equatable {
        public var category: FHIRCodeableConcept?

        public init(category: FHIRCodeableConcept?) { self.category = category }
    }

    public init(
        id: String?, meta: FHIRMeta? = nil, identifier: [FHIRIdentifier]?, status: String = "active",
        purpose: [String],
        patient: FHIRReference, servicedDate: String?, created: String, provider: FHIRReference?,
        insurer: FHIRReference, insurance: [Insurance]?, item: [Item]?
    ) {
        self.id = id
        self.meta = meta
        self.identifier = identifier
        self.status = status
        self.purpose = purpose
        self.patient = patient
        self.servicedDate = servicedDate
        self.created = created
        self.provider = provider
        self.insurer = insurer
        self.insurance = insurance
        self.item = item
    }
}

/// FHIR R4 `CoverageEligibilityResponse`: the insurer's answer, with benefits per category.
public struct FHIRCoverageEligibilityResponse: Codable, Sendable, Equatable {
    public var resourceType = "CoverageEligibilityResponse"
    public var id: String?
    public var meta: FHIRMeta?
    public var identifier: [FHIRIdentifier]?
    public var status: String
    public var purpose: [String]
    public var patient: FHIRReference
    public var servicedDate: String?
    public var created: String
    public var request: FHIRReference
    /// queued | complete | error | partial
    public var outcome: String
    public var disposition: String?
    public var insurer: FHIRReference
    public var insurance: [Insurance]?
    public var error: [ErrorDetail]?

    public struct Insurance: Codable, Sendable, Equatable {
        public var coverage: FHIRReference
        public var inforce: Bool?
        public var item: [Item]?

        public init(coverage: FHIRReference, inforce: Bool?, item: [Item]?) {
            self.coverage = coverage
            self.inforce = inforce
            self.item = item
        }
    }

    public struct Item: Codable, Sendable, Equatable {
        public var category: FHIRCodeableConcept?
        public var name: String?
        public var description: String?
        /// in | out (benefit-network)
        public var network: FHIRCodeableConcept?
        /// individual | family (benefit-unit)
        public var unit: FHIRCodeableConcept?
        /// annual | day | lifetime (benefit-term)
        public var term: FHIRCodeableConcept?
        public var benefit: [Benefit]?

        public init(
            category: FHIRCodeableConcept?, name: String? = nil, description: String? = nil,
            network: FHIRCodeableConcept?, unit: FHIRCodeableConcept?, term: FHIRCodeableConcept?, benefit: [Benefit]?
        ) {
            self.category = category
            self.name = name
            self.description = description
            self.network = network
            self.unit = unit
            self.term = term
            self.benefit = benefit
        }
    }

    /// One benefit: `type` is benefit-type (deductible, copay, copay-percent, ...), with what is
    /// allowed and what is used, as money or as a plain number (percentages).
    public struct Benefit: Codable, Sendable, Equatable {
        public var type: FHIRCodeableConcept
        public var allowedMoney: FHIRMoney?
        public var allowedUnsignedInt: Int?
        public var usedMoney: FHIRMoney?

        public init(
            type: FHIRCodeableConcept, allowedMoney: FHIRMoney? = nil, allowedUnsignedInt: Int? = nil,
            usedMoney: FHIRMoney? = nil
        ) {
            self.type = type
            self.allowedMoney = allowedMoney
            self.allowedUnsignedInt = allowedUnsignedInt
            self.usedMoney = usedMoney
        }
    }

    public struct ErrorDetail: Codable, Sendable, Equatable {
        public var code: FHIRCodeableConcept

        public init(code: FHIRCodeableConcept) { self.code = code }
    }

    public init(
        id: String?, meta: FHIRMeta? = nil, identifier: [FHIRIdentifier]?, status: String = "active",
        purpose: [String], patient: FHIRReference, servicedDate: String?, created: String, request: FHIRReference,
        outcome: String, disposition: String?, insurer: FHIRReference, insurance: [Insurance]?, error: [ErrorDetail]?
    ) {
        self.id = id
        self.meta = meta
        self.identifier = identifier
        self.status = status
        self.purpose = purpose
        self.patient = patient
        self.servicedDate = servicedDate
        self.created = created
        self.request = request
        self.outcome = outcome
        self.disposition = disposition
        self.insurer = insurer
        self.insurance = insurance
        self.error = error
    }
}
