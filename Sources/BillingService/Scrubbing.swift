import Foundation
import RCMCodes
import RCMCore
import RCMHTTP
import RCMScrubber
import RCMServiceKit

/// The code sets the claim scrubber checks against: the full ICD-10-CM release for diagnoses.
/// Procedure existence is left unchecked (nil) where the platform holds no full list: CPT is
/// licensed (its shape is still checked) and HCPCS ships as a sample.
struct PlatformCodeSets: ScrubCodeSets {
    func diagnosis(_ code: String, on date: CalendarDate) -> DiagnosisInfo? {
        guard let info = ICD10CM.shared.lookup(code) else { return nil }
        return DiagnosisInfo(
            code: info.display, billable: info.billable,
            sexEdit: info.sexEdit.map { $0 == .female ? .female : .male }, ageRange: info.ageRange,
            effectiveFrom: info.effectiveFrom, effectiveThrough: info.effectiveTo, description: info.description)
    }

    func procedureExists(system: String, code: String, on date: CalendarDate) -> Bool? { nil }
}

enum ClaimScrubbing {
    /// The scrubber with the bundled rule catalog and payer table, and CMS's full quarterly NCCI
    /// files when `RCM_NCCI_PTP` and `RCM_NCCI_MUE` name them (the bundled sample otherwise).
    static let scrubber: Scrubber = {
        let environment = ProcessInfo.processInfo.environment
        var edits = NCCIEdits.bundledSample
        if let ptp = environment["RCM_NCCI_PTP"], let mue = environment["RCM_NCCI_MUE"] {
            do {
                edits = try NCCIEdits.load(ptpFile: ptp, mueFile: mue)
            } catch {
                Logger(label: "billing").error(
                    "NCCI files could not be loaded; using the sample", ["error": "\(error)"])
            }
        }
        return Scrubber(codeSets: PlatformCodeSets(), edits: edits)
    }()

    /// The claim an encounter becomes, for the scrubber.
    static func claim(
        _ encounter: Encounter, patient: PatientSummary, coverage: CoverageSummary?, charges: [Money]
    ) -> ScrubClaim {
        ScrubClaim(
            claimId: encounter.id, payerId: coverage?.payerId, payerName: coverage?.payerName,
            patient: ScrubClaim.Patient(
                sex: patient.sex ?? "unknown", dateOfBirth: patient.dateOfBirth ?? .today()),
            billingProviderNPI: encounter.renderingProviderNPI, renderingProviderNPI: encounter.renderingProviderNPI,
            referringProviderNPI: encounter.referringProviderNPI, placeOfService: encounter.placeOfService,
            dateOfService: encounter.dateOfService, submissionDate: .today(), diagnoses: encounter.diagnoses,
            lines: encounter.services.enumerated().map { index, service in
                ScrubClaim.Line(
                    codeSystem: service.system, code: service.code, modifiers: service.modifiers, units: service.units,
                    diagnosisPointers: service.diagnosisPointers,
                    charge: index < charges.count ? charges[index] : .zero, ndc: service.ndc)
            })
    }

    /// Field paths of the claim model point into the encounter the same way (`/lines/N` is
    /// `/services/N`).
    static func report(_ result: ScrubResult) -> ScrubReport {
        ScrubReport(
            clean: result.isClean, rulesVersion: result.rulesVersion,
            findings: result.findings.map {
                ScrubReport.Finding(
                    ruleId: $0.ruleId, ruleVersion: $0.ruleVersion, severity: $0.severity.rawValue, message: $0.message,
                    fix: $0.fix, path: $0.fieldPath.replacingOccurrences(of: "/lines/", with: "/services/"))
            })
    }
}

extension BillingService {
    /// Scrubs an encounter's claim-to-be with its payer and fee-schedule charges.
    func scrub(_ encounter: Encounter, coverage: CoverageSummary?, context: RequestContext) throws -> ScrubReport {
        let patient = try patientSummary(encounter.patientId, context)
        let charges = try environment.database.read { connection in
            try encounter.services.map { service -> Money in
                let price = try FeeSchedule.price(
                    code: service.code, modifiers: service.modifiers, payerId: coverage?.payerId,
                    location: encounter.locationId, date: encounter.dateOfService,
                    organization: context.organizationId, in: connection)
                return (price.map { $0.allowed ?? $0.charge } ?? .zero) * Int64(service.units)
            }
        }
        let claim = ClaimScrubbing.claim(encounter, patient: patient, coverage: coverage, charges: charges)
        return ClaimScrubbing.report(ClaimScrubbing.scrubber.scrub(claim))
    }

    /// `POST /api/billing/encounters/{id}/scrub`: the findings now, without billing.
    func scrubEncounter(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let encounter = try existing(context.parameter("id"), context)
        let coverage = try activeCoverage(encounter.patientId, on: encounter.dateOfService, context)
        return try .json(try scrub(encounter, coverage: coverage, context: context))
    }
}
