import Foundation
import RCMCore
import RCMFHIR

/// The NHCX message envelope: the protocol headers (`x-hcx-*`) and the FHIR bundle.
///
/// NHCX encrypts the payload as JWE with the recipient's public key; this platform sends it
/// in clear JSON over TLS, which a sandbox gateway accepts and production does not yet.
struct NHCXEnvelope: Codable, Sendable {
    var apiCallId: String
    var correlationId: String
    var timestamp: String
    var senderCode: String
    var recipientCode: String
    /// request.queued, response.complete, response.error, ...
    var status: String
    var payload: FHIRBundle

    enum CodingKeys: String, CodingKey {
        case apiCallId = "x-hcx-api_call_id"
        case correlationId = "x-hcx-correlation_id"
        case timestamp = "x-hcx-timestamp"
        case senderCode = "x-hcx-sender_code"
        case recipientCode = "x-hcx-recipient_code"
        case status = "x-hcx-status"
        case payload
    }
}

/// FHIR R4 CoverageEligibilityRequest / CoverageEligibilityResponse bundles for a check.
enum EligibilityFHIR {
    static let ourBenefitSystem = "https://rcm.invalid/fhir/CodeSystem/benefit-type"

    static func patient(_ demographics: PatientDemographics) -> FHIRPatient {
        FHIRPatient(
            id: fhirId(demographics.id),
            identifier: [FHIRIdentifier(system: "https://rcm.invalid/patient", value: demographics.id)],
            name: [FHIRHumanName(use: "official", family: demographics.familyName, given: [demographics.givenName])],
            gender: demographics.sex.map { ["female", "male", "other"].contains($0) ? $0 : "unknown" },
            birthDate: demographics.dateOfBirth.description)
    }

    static func insurer(_ payer: Payer) -> FHIROrganization {
        FHIROrganization(
            id: fhirId(payer.id),
            identifier: [FHIRIdentifier(system: "https://nhcx.abdm.gov.in/participant", value: payer.payerCode)],
            name: payer.name)
    }

    static func coverage(_ coverage: Coverage) -> FHIRCoverage {
        let relationship: String =
            switch coverage.relationship {
            case .self: "self"
            case .spouse: "spouse"
            case .child: "child"
            case .other: "other"
            }
        var classes: [FHIRCoverage.CoverageClass] = [
            .init(
                type: FHIRCodeableConcept(system: FHIRSystem.coverageClass, code: "plan"),
                value: coverage.planId ?? coverage.planName, name: coverage.planName)
        ]
        if let group = coverage.groupNumber {
            classes.append(
                .init(type: FHIRCodeableConcept(system: FHIRSystem.coverageClass, code: "group"), value: group))
        }
        return FHIRCoverage(
            id: fhirId(coverage.id), subscriberId: coverage.memberId,
            beneficiary: FHIRReference(reference: "Patient/\(fhirId(coverage.patientId))"),
            relationship: FHIRCodeableConcept(system: FHIRSystem.subscriberRelationship, code: relationship),
            period: FHIRPeriod(start: coverage.validFrom.description, end: coverage.validTo?.description),
            payor: [FHIRReference(reference: "Organization/\(fhirId(coverage.payerId))")], class: classes,
            order: coverage.order)
    }

    static func provider(_ provider: ProviderIdentity) -> FHIROrganization {
        FHIROrganization(
            id: "provider-" + provider.npi, identifier: [FHIRIdentifier(system: FHIRSystem.npi, value: provider.npi)],
            name: provider.name)
    }

    static func request(_ question: EligibilityQuestion) -> FHIRCoverageEligibilityRequest {
        FHIRCoverageEligibilityRequest(
            id: fhirId(question.checkId),
            identifier: [FHIRIdentifier(system: "https://rcm.invalid/eligibility-check", value: question.checkId)],
            purpose: ["benefits", "validation"],
            patient: FHIRReference(reference: "Patient/\(fhirId(question.patient.id))"),
            servicedDate: question.dateOfService.description, created: Timestamp.now(),
            provider: FHIRReference(reference: "Organization/provider-\(question.provider.npi)"),
            insurer: FHIRReference(reference: "Organization/\(fhirId(question.payer.id))"),
            insurance: [
                .init(focal: true, coverage: FHIRReference(reference: "Coverage/\(fhirId(question.coverage.id))"))
            ],
            item: (question.serviceTypeCodes.isEmpty ? ["30"] : question.serviceTypeCodes).map {
                .init(category: FHIRCodeableConcept(system: FHIRSystem.serviceType, code: $0))
            })
    }

    static func requestBundle(_ question: EligibilityQuestion) -> FHIRBundle {
        let base = "https://rcm.invalid/fhir/"
        return FHIRBundle(
            id: "bundle-" + fhirId(question.checkId),
            identifier: FHIRIdentifier(system: "https://rcm.invalid/bundle", value: question.checkId),
            timestamp: Timestamp.now(),
            entry: [
                .init(
                    fullUrl: base + "CoverageEligibilityRequest/" + fhirId(question.checkId),
                    resource: .coverageEligibilityRequest(request(question))),
                .init(
                    fullUrl: base + "Patient/" + fhirId(question.patient.id),
                    resource: .patient(patient(question.patient))),
                .init(
                    fullUrl: base + "Coverage/" + fhirId(question.coverage.id),
                    resource: .coverage(coverage(question.coverage))),
                .init(
                    fullUrl: base + "Organization/" + fhirId(question.payer.id),
                    resource: .organization(insurer(question.payer))),
                .init(
                    fullUrl: base + "Organization/provider-" + question.provider.npi,
                    resource: .organization(provider(question.provider))),
            ])
    }

    /// The platform's result as a CoverageEligibilityResponse (what `GET .../fhir` serves and what
    /// the payer simulator answers NHCX questions with).
    static func response(
        id: String, requestId: String, patientId: String, payerId: String, coverageId: String,
        dateOfService: CalendarDate, result: EligibilityResult, currency: String
    ) -> FHIRCoverageEligibilityResponse {
        func money(_ amount: Money?) -> FHIRMoney? { amount.map { FHIRMoney(value: $0.decimal, currency: currency) } }
        var items: [FHIRCoverageEligibilityResponse.Item] = []
        for benefit in result.benefits {
            let type: FHIRCodeableConcept
            var detail = FHIRCoverageEligibilityResponse.Benefit(
                type: FHIRCodeableConcept(system: FHIRSystem.benefitType, code: "benefit"))
            switch benefit.kind {
            case "copay":
                type = FHIRCodeableConcept(system: FHIRSystem.benefitType, code: "copay")
                detail = .init(type: type, allowedMoney: money(benefit.amount))
            case "coinsurance":
                type = FHIRCodeableConcept(system: FHIRSystem.benefitType, code: "copay-percent")
                let percent = benefit.percent.map { NSDecimalNumber(decimal: $0).intValue }
                detail = .init(type: type, allowedUnsignedInt: percent)
            case "deductible":
                type = FHIRCodeableConcept(system: FHIRSystem.benefitType, code: "deductible")
                detail = .init(type: type, allowedMoney: money(benefit.amount))
            case "out_of_pocket":
                type = FHIRCodeableConcept(system: ourBenefitSystem, code: "out-of-pocket")
                detail = .init(type: type, allowedMoney: money(benefit.amount))
            default:
                continue
            }
            items.append(
                .init(
                    category: benefit.serviceTypeCodes.first.map {
                        FHIRCodeableConcept(system: FHIRSystem.serviceType, code: $0)
                    },
                    name: benefit.period, description: benefit.description,
                    network: benefit.network.map { FHIRCodeableConcept(system: FHIRSystem.benefitNetwork, code: $0) },
                    unit: benefit.level.map { FHIRCodeableConcept(system: FHIRSystem.benefitUnit, code: $0) },
                    term: benefit.period.map {
                        FHIRCodeableConcept(system: FHIRSystem.benefitTerm, code: $0 == "visit" ? "day" : "annual")
                    },
                    benefit: [detail]))
        }
        let rejected = !result.rejections.isEmpty
        return FHIRCoverageEligibilityResponse(
            id: fhirId(id),
            identifier: [FHIRIdentifier(system: "https://rcm.invalid/eligibility-check", value: requestId)],
            purpose: ["benefits", "validation"], patient: FHIRReference(reference: "Patient/\(fhirId(patientId))"),
            servicedDate: dateOfService.description, created: Timestamp.now(),
            request: FHIRReference(reference: "CoverageEligibilityRequest/\(fhirId(requestId))"),
            outcome: rejected ? "error" : "complete",
            disposition: rejected
                ? result.rejections.map(\.explanation).joined(separator: " ")
                : (result.active == true ? "Coverage is in force." : "Coverage is not in force."),
            insurer: FHIRReference(reference: "Organization/\(fhirId(payerId))"),
            insurance: rejected
                ? nil
                : [
                    .init(
                        coverage: FHIRReference(reference: "Coverage/\(fhirId(coverageId))"), inforce: result.active,
                        item: items.isEmpty ? nil : items)
                ],
            error: rejected
                ? result.rejections.map {
                    .init(
                        code: FHIRCodeableConcept(
                            coding: [FHIRCoding(system: "https://x12.org/codes/aaa-reject-reason", code: $0.code)],
                            text: $0.explanation))
                } : nil)
    }

    /// Reads a CoverageEligibilityResponse (from an NHCX callback) into the platform's result.
    static func result(from response: FHIRCoverageEligibilityResponse) -> EligibilityResult {
        if response.outcome == "error" || !(response.error ?? []).isEmpty {
            return EligibilityResult(
                active: nil, planName: nil, groupNumber: nil, benefits: [],
                rejections: (response.error ?? []).map {
                    .init(
                        code: $0.code.code() ?? "error",
                        explanation: $0.code.text ?? response.disposition ?? "The payer reported an error.",
                        followUp: nil, loop: nil)
                },
                messages: response.disposition.map { [$0] } ?? [])
        }
        let insurance = response.insurance?.first
        var benefits: [EligibilityResult.Benefit] = []
        if let inforce = insurance?.inforce {
            benefits.append(
                .init(
                    kind: inforce ? "active" : "inactive", code: inforce ? "inforce" : "not-inforce",
                    description: inforce ? "Coverage in force" : "Coverage not in force", level: nil, network: nil,
                    period: nil, serviceTypeCodes: [], amount: nil, percent: nil, messages: []))
        }
        for item in insurance?.item ?? [] {
            for benefit in item.benefit ?? [] {
                let code = benefit.type.code() ?? ""
                let kind: String =
                    switch code {
                    case "copay": "copay"
                    case "copay-percent": "coinsurance"
                    case "deductible": "deductible"
                    case "out-of-pocket": "out_of_pocket"
                    default: "other"
                    }
                let base = EligibilityResult.Benefit(
                    kind: kind, code: code, description: item.description ?? code, level: item.unit?.code(),
                    network: item.network?.code(), period: item.name ?? item.term?.code(),
                    serviceTypeCodes: item.category?.code().map { [$0] } ?? [],
                    amount: benefit.allowedMoney.flatMap { Money(exactly: $0.value) },
                    percent: benefit.allowedUnsignedInt.map { Decimal($0) }, messages: [])
                benefits.append(base)
                // `usedMoney` beside a total: what remains is the difference.
                if let used = benefit.usedMoney.flatMap({ Money(exactly: $0.value) }), let total = base.amount {
                    var remaining = base
                    remaining.period = "remaining"
                    remaining.amount = Money.max(.zero, total - used)
                    benefits.append(remaining)
                }
            }
        }
        return EligibilityResult(
            active: insurance?.inforce, planName: nil, groupNumber: nil, benefits: benefits, rejections: [],
            messages: response.disposition.map { [$0] } ?? [])
    }
}
