import Foundation
import RCMCore

/// An organisation in an X12 transaction: a payer, a provider or a submitter.
public struct X12Party: Sendable, Equatable, Codable {
    public var name: String
    /// NM108: "PI" payer id, "XX" NPI, "46" ETIN, "SV" service provider number, ...
    public var identifierQualifier: String
    public var identifier: String

    public init(name: String, identifierQualifier: String, identifier: String) {
        self.name = name
        self.identifierQualifier = identifierQualifier
        self.identifier = identifier
    }
}

/// A subscriber or dependent.
public struct X12Person: Sendable, Equatable, Codable {
    public var lastName: String
    public var firstName: String
    public var memberId: String?
    public var dateOfBirth: CalendarDate?
    /// "M", "F" or "U".
    public var gender: String?
    /// INS02 / dependent relationship code, e.g. "01" spouse, "19" child.
    public var relationship: String?

    public init(
        lastName: String, firstName: String, memberId: String? = nil, dateOfBirth: CalendarDate? = nil,
        gender: String? = nil, relationship: String? = nil
    ) {
        self.lastName = lastName
        self.firstName = firstName
        self.memberId = memberId
        self.dateOfBirth = dateOfBirth
        self.gender = gender
        self.relationship = relationship
    }
}

/// The envelope values of an outgoing interchange.
public struct X12EnvelopeSettings: Sendable {
    public var senderQualifier: String
    public var senderId: String
    public var receiverQualifier: String
    public var receiverId: String
    /// GS02 and GS03.
    public var applicationSenderCode: String
    public var applicationReceiverCode: String
    /// ISA13 (IEA02) and GS06 (GE02).
    public var interchangeControlNumber: Int
    public var groupControlNumber: Int
    /// "P" production or "T" test.
    public var usageIndicator: String
    /// The creation time written in ISA09/10, GS04/05 and BHT04/05 (UTC).
    public var date: Date

    public init(
        senderQualifier: String = "ZZ", senderId: String, receiverQualifier: String = "ZZ", receiverId: String,
        applicationSenderCode: String, applicationReceiverCode: String, interchangeControlNumber: Int,
        groupControlNumber: Int, usageIndicator: String = "T", date: Date = Date()
    ) {
        self.senderQualifier = senderQualifier
        self.senderId = senderId
        self.receiverQualifier = receiverQualifier
        self.receiverId = receiverId
        self.applicationSenderCode = applicationSenderCode
        self.applicationReceiverCode = applicationReceiverCode
        self.interchangeControlNumber = interchangeControlNumber
        self.groupControlNumber = groupControlNumber
        self.usageIndicator = usageIndicator
        self.date = date
    }
}

/// What a 270 asks: is this person covered by this payer on this date, for these services.
public struct EligibilityInquiry: Sendable, Codable {
    public var payer: X12Party
    public var provider: X12Party
    public var subscriber: X12Person
    /// The patient when it is not the subscriber (loop 2000D).
    public var dependent: X12Person?
    /// EQ01 service type codes; "30" is health benefit plan coverage.
    public var serviceTypeCodes: [String]
    public var dateOfService: CalendarDate
    /// TRN02: the provider's trace number, echoed by the payer in the 271.
    public var traceNumber: String
    /// TRN03: who assigned the trace number, 10 characters: "1" + an EIN or "9" + an id of the
    /// provider's choosing. Nil makes "9" + the last nine digits of the provider identifier.
    public var traceAssigningEntity: String?

    public init(
        payer: X12Party, provider: X12Party, subscriber: X12Person, dependent: X12Person? = nil,
        serviceTypeCodes: [String] = ["30"], dateOfService: CalendarDate, traceNumber: String,
        traceAssigningEntity: String? = nil
    ) {
        self.payer = payer
        self.provider = provider
        self.subscriber = subscriber
        self.dependent = dependent
        self.serviceTypeCodes = serviceTypeCodes
        self.dateOfService = dateOfService
        self.traceNumber = traceNumber
        self.traceAssigningEntity = traceAssigningEntity
    }
}

/// What a 271 says, in the terms the front desk needs.
public struct EligibilityResponse: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case active
        case inactive
        case unknown
    }

    /// Active when any benefit is EB01 1–5, else inactive when any is 6–8, else unknown (e.g. rejected).
    public var status: Status
    public var planName: String?
    /// REF*6P.
    public var groupNumber: String?
    public var memberId: String?
    public var subscriber: X12Person?
    /// The patient when it is a dependent of the subscriber (loop 2100D).
    public var dependent: X12Person?
    public var payer: X12Party?
    /// Benefits of the subscriber (2110C) and of the dependent (2110D), in file order.
    public var benefits: [EligibilityBenefit]
    /// AAA segments at any level.
    public var rejections: [EligibilityRejection]
    /// Every MSG segment.
    public var messages: [String]
    /// TRN02 values echoed.
    public var traceNumbers: [String]
    public var interchangeControlNumber: String?
    public var transactionControlNumber: String?
    /// Envelope issues that did not stop the 271 from being read (a count or control number that does
    /// not match); the caller may log them.
    public var envelopeIssues: [X12Issue]

    public init(
        status: Status, planName: String? = nil, groupNumber: String? = nil, memberId: String? = nil,
        subscriber: X12Person? = nil, dependent: X12Person? = nil, payer: X12Party? = nil,
        benefits: [EligibilityBenefit] = [], rejections: [EligibilityRejection] = [], messages: [String] = [],
        traceNumbers: [String] = [], interchangeControlNumber: String? = nil, transactionControlNumber: String? = nil,
        envelopeIssues: [X12Issue] = []
    ) {
        self.status = status
        self.planName = planName
        self.groupNumber = groupNumber
        self.memberId = memberId
        self.subscriber = subscriber
        self.dependent = dependent
        self.payer = payer
        self.benefits = benefits
        self.rejections = rejections
        self.messages = messages
        self.traceNumbers = traceNumbers
        self.interchangeControlNumber = interchangeControlNumber
        self.transactionControlNumber = transactionControlNumber
        self.envelopeIssues = envelopeIssues
    }
}

/// One EB segment (loop 2110C/2110D) and its MSG segments.
public struct EligibilityBenefit: Sendable, Codable, Equatable {
    /// EB01, e.g. "1" active, "6" inactive, "B" copay, "A" coinsurance, "C" deductible, "G" out of pocket.
    public var code: String
    /// Plain-language EB01 meaning.
    public var meaning: String
    /// EB02: "IND", "FAM", "EMP"...
    public var coverageLevel: String?
    /// EB03 repetitions.
    public var serviceTypeCodes: [String]
    /// EB04.
    public var insuranceType: String?
    /// EB05.
    public var planDescription: String?
    /// EB06 code: "23" calendar year, "29" remaining, "22" service year...
    public var timePeriod: String?
    /// EB07.
    public var amount: Decimal?
    /// EB08 as a fraction (0.2 = 20%).
    public var percent: Decimal?
    /// EB09 and EB10.
    public var quantityQualifier: String?
    public var quantity: Decimal?
    /// EB11.
    public var authorizationRequired: String?
    /// EB12: "Y" true, "N" false, "W" or absent nil.
    public var inNetwork: Bool?
    public var messages: [String]

    public init(
        code: String, meaning: String? = nil, coverageLevel: String? = nil, serviceTypeCodes: [String] = [],
        insuranceType: String? = nil, planDescription: String? = nil, timePeriod: String? = nil,
        amount: Decimal? = nil, percent: Decimal? = nil, quantityQualifier: String? = nil, quantity: Decimal? = nil,
        authorizationRequired: String? = nil, inNetwork: Bool? = nil, messages: [String] = []
    ) {
        self.code = code
        self.meaning = meaning ?? EligibilityCodes.benefitMeaning(code)
        self.coverageLevel = coverageLevel
        self.serviceTypeCodes = serviceTypeCodes
        self.insuranceType = insuranceType
        self.planDescription = planDescription
        self.timePeriod = timePeriod
        self.amount = amount
        self.percent = percent
        self.quantityQualifier = quantityQualifier
        self.quantity = quantity
        self.authorizationRequired = authorizationRequired
        self.inNetwork = inNetwork
        self.messages = messages
    }
}

/// One AAA segment: why the payer could not answer, and what to do about it.
public struct EligibilityRejection: Sendable, Codable, Equatable {
    /// AAA03 reject reason code.
    public var code: String
    /// Plain language for the front desk.
    public var explanation: String
    /// AAA04 follow-up action code.
    public var followUpCode: String?
    public var followUp: String?
    /// The loop the AAA was in: "2100A" payer, "2100B" provider, "2100C"/"2110C" subscriber,
    /// "2100D"/"2110D" dependent.
    public var loop: String

    public init(
        code: String, explanation: String? = nil, followUpCode: String? = nil, followUp: String? = nil,
        loop: String
    ) {
        self.code = code
        self.explanation = explanation ?? EligibilityCodes.rejectionExplanation(code)
        self.followUpCode = followUpCode
        self.followUp = followUp ?? followUpCode.map(EligibilityCodes.followUpExplanation)
        self.loop = loop
    }
}
