import Foundation
import RCMCore
import Testing

@testable import RCMScrubber

enum Fixture {
    static let today = CalendarDate("2026-12-01")!
    static let dos = CalendarDate("2026-11-02")!
    /// CMS's example NPI, valid.
    static let npi = "1234567893"
    static let otherNPI = "1245319599"

    static func date(_ text: String) -> CalendarDate { CalendarDate(text)! }

    static func line(
        _ code: String, system: String = "cpt", modifiers: [String] = [], units: Int = 1, pointers: [Int] = [1],
        serviceDate: CalendarDate? = nil
    ) -> ScrubClaim.Line {
        ScrubClaim.Line(
            codeSystem: system, code: code, modifiers: modifiers, units: units, diagnosisPointers: pointers,
            charge: Money(minorUnits: 12_000), serviceDate: serviceDate)
    }

    /// A clean claim: a 56-year-old woman's office visit for diabetes and hypertension at Medicare.
    static func claim(lines: [ScrubClaim.Line]? = nil, diagnoses: [String] = ["E11.9", "I10"]) -> ScrubClaim {
        ScrubClaim(
            claimId: "C-1", payerId: "MCR01", payerName: "Sample Medicare Part B",
            patient: .init(sex: "female", dateOfBirth: date("1970-03-15")), billingProviderNPI: npi,
            renderingProviderNPI: otherNPI, referringProviderNPI: nil, placeOfService: "11", dateOfService: dos,
            submissionDate: date("2026-11-05"), diagnoses: diagnoses,
            lines: lines ?? [line("99213", pointers: [1, 2]), line("83036")])
    }

    static let scrubber = Scrubber(codeSets: SampleCodeSets.codeSets, today: today)

    static func scrubber(edits: NCCIEdits) -> Scrubber {
        Scrubber(codeSets: SampleCodeSets.codeSets, edits: edits, today: today)
    }

    /// The findings of `rule` on `claim`, as "ruleId path".
    static func findings(_ claim: ScrubClaim, _ rule: String, scrubber: Scrubber = scrubber) -> [String] {
        scrubber.scrub(claim).findings.filter { $0.ruleId == rule }.map(\.fieldPath)
    }

    static func all(_ claim: ScrubClaim, scrubber: Scrubber = scrubber) -> [String] {
        scrubber.scrub(claim).findings.map { "\($0.ruleId) \($0.fieldPath)" }
    }
}
