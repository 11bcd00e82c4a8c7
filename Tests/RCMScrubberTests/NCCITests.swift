import Foundation
import RCMCore
import Testing

@testable import RCMScrubber

@Suite("NCCI PTP and MUE edits")
struct NCCITests {
    typealias F = Fixture

    static let edits = NCCIEdits(
        ptp: [
            PTPEdit(
                column1: "80053", column2: "82947", effectiveDate: F.date("1998-01-01"), modifierIndicator: .notAllowed),
            PTPEdit(
                column1: "17000", column2: "17110", effectiveDate: F.date("2010-01-01"), modifierIndicator: .allowed),
            PTPEdit(
                column1: "99213", column2: "94760", effectiveDate: F.date("2022-01-01"),
                deletionDate: F.date("2022-01-01"), modifierIndicator: .notApplicable),
            PTPEdit(
                column1: "97530", column2: "97140", effectiveDate: F.date("2020-01-01"),
                deletionDate: F.date("2020-12-31"), modifierIndicator: .allowed),
            PTPEdit(
                column1: "99214", column2: "94760", effectiveDate: F.date("2027-01-01"), modifierIndicator: .allowed),
            PTPEdit(
                column1: "99214", column2: "96372", effectiveDate: F.date("2020-01-01"), modifierIndicator: .allowed),
        ],
        mue: [
            MUEEdit(code: "36415", maxUnits: 2, adjudicationIndicator: .dateOfServiceClinical),
            MUEEdit(code: "99213", maxUnits: 1, adjudicationIndicator: .dateOfServicePolicy),
            MUEEdit(code: "20610", maxUnits: 2, adjudicationIndicator: .line),
        ])
    static let scrubber = F.scrubber(edits: edits)

    func ptp(_ lines: [ScrubClaim.Line], on date: String = "2026-11-02") -> [String] {
        var claim = F.claim(lines: lines)
        claim.dateOfService = F.date(date)
        claim.submissionDate = F.date(date)
        return F.findings(claim, "NCCI-PTP", scrubber: Self.scrubber)
    }

    @Test("indicator 0: never allowed, whatever the modifiers") func indicatorZero() {
        #expect(ptp([F.line("80053"), F.line("82947")]) == ["/lines/1/code"])
        #expect(ptp([F.line("82947", modifiers: ["59"]), F.line("80053", modifiers: ["XU"])]) == ["/lines/0/code"])
        #expect(ptp([F.line("80053"), F.line("82947", serviceDate: F.date("2026-11-01"))]).isEmpty)
    }

    @Test("indicator 1: allowed with an NCCI-associated modifier on either line") func indicatorOne() {
        #expect(ptp([F.line("17000"), F.line("17110")]) == ["/lines/1/code"])
        #expect(ptp([F.line("17000"), F.line("17110", modifiers: ["GP", "QW"])]) == ["/lines/1/code"])
        for modifier in ["59", "XE", "XS", "XP", "XU", "91", "79", "RT", "F2", "E1"] {
            #expect(ptp([F.line("17000"), F.line("17110", modifiers: [modifier])]).isEmpty, "\(modifier)")
        }
        #expect(ptp([F.line("17000", modifiers: ["59"]), F.line("17110")]).isEmpty)
        // Anatomic modifiers separate only different sites.
        #expect(ptp([F.line("17000", modifiers: ["RT"]), F.line("17110", modifiers: ["RT"])]) == ["/lines/1/code"])
        #expect(ptp([F.line("17000", modifiers: ["RT"]), F.line("17110", modifiers: ["LT"])]).isEmpty)
        // 25 and 57 count on an E/M line only.
        #expect(ptp([F.line("17000", modifiers: ["25"]), F.line("17110")]) == ["/lines/1/code"])
        #expect(ptp([F.line("99214", modifiers: ["25"]), F.line("96372")]).isEmpty)
        #expect(ptp([F.line("99214"), F.line("96372", modifiers: ["25"])]) == ["/lines/1/code"])
        let message = Self.scrubber.scrub(F.claim(lines: [F.line("17000"), F.line("17110")])).findings.first?.message
        #expect(message?.contains("modifier indicator 1") == true)
    }

    @Test("indicator 9: never applies") func indicatorNine() {
        #expect(ptp([F.line("99213"), F.line("94760")], on: "2022-01-01").isEmpty)
        #expect(ptp([F.line("99213"), F.line("94760")]).isEmpty)
    }

    @Test("effective and deletion dates") func dates() {
        // In force 2020-01-01 through 2020-12-31 (the deletion date is the last day).
        #expect(ptp([F.line("97530"), F.line("97140")], on: "2019-12-31").isEmpty)
        #expect(ptp([F.line("97530"), F.line("97140")], on: "2020-01-01") == ["/lines/1/code"])
        #expect(ptp([F.line("97530"), F.line("97140")], on: "2020-12-31") == ["/lines/1/code"])
        #expect(ptp([F.line("97530"), F.line("97140")], on: "2021-01-01").isEmpty)
        // Effective only from 2027.
        #expect(ptp([F.line("99214"), F.line("94760")], on: "2026-12-01").isEmpty)
        #expect(ptp([F.line("99214"), F.line("94760")], on: "2027-01-01") == ["/lines/1/code"])
    }

    @Test("overlapping rows: the most restrictive in force wins") func overlapping() {
        let edits = NCCIEdits(
            ptp: [
                PTPEdit(
                    column1: "13121", column2: "13120", effectiveDate: F.date("1996-01-01"),
                    deletionDate: F.date("1996-01-01"), modifierIndicator: .notApplicable),
                PTPEdit(
                    column1: "13121", column2: "13120", existedBefore1996: true, effectiveDate: F.date("1996-01-01"),
                    modifierIndicator: .notAllowed),
                PTPEdit(
                    column1: "13121", column2: "13120", effectiveDate: F.date("2010-01-01"),
                    modifierIndicator: .allowed),
            ], mue: [])
        #expect(
            edits.ptpEdit(column1: "13121", column2: "13120", on: F.date("2026-01-01"))?.modifierIndicator
                == .notAllowed)
        #expect(edits.ptpEdit(column1: "13120", column2: "13121", on: F.date("2026-01-01")) == nil)
        #expect(edits.ptpRows(column1: "13121", column2: "13120").count == 3)
    }

    func mue(_ lines: [ScrubClaim.Line]) -> [String] {
        F.findings(F.claim(lines: lines), "NCCI-MUE", scrubber: Self.scrubber)
    }

    @Test("MUE date-of-service edits sum units across lines") func mueSums() {
        #expect(mue([F.line("36415", units: 2)]).isEmpty)
        #expect(mue([F.line("36415"), F.line("36415", modifiers: ["91"])]).isEmpty)
        #expect(
            mue([F.line("36415"), F.line("99212"), F.line("36415", modifiers: ["91"], units: 2)]) == ["/lines/2/units"])
        #expect(mue([F.line("36415", units: 3)]) == ["/lines/0/units"])
        // Different dates of service are counted apart.
        #expect(mue([F.line("36415", units: 2), F.line("36415", units: 2, serviceDate: F.date("2026-11-01"))]).isEmpty)
        #expect(mue([F.line("99213"), F.line("99213", modifiers: ["25"])]) == ["/lines/1/units"])
        let finding = Self.scrubber.scrub(F.claim(lines: [F.line("36415", units: 2), F.line("36415", units: 1)]))
            .findings.first { $0.ruleId == "NCCI-MUE" }
        #expect(finding?.message == "36415: 3 units on 2026-11-02 (all lines) exceed the MUE of 2 (MAI 3).")
    }

    @Test("MUE line edits (MAI 1) count each line") func mueLines() {
        #expect(
            mue([F.line("20610", modifiers: ["RT"], units: 2), F.line("20610", modifiers: ["LT"], units: 2)]).isEmpty)
        #expect(
            mue([F.line("20610", modifiers: ["RT"], units: 3), F.line("20610", modifiers: ["LT"])]) == [
                "/lines/0/units"
            ])
        // Lines with zero units are UNITS-001's business, not counted here.
        #expect(mue([F.line("36415", units: 0), F.line("36415", units: 2)]).isEmpty)
    }
}
