import Foundation
import RCMCore
import Testing

@testable import RCMScrubber

@Suite("Scrubber rules: each with a positive and a negative case")
struct RuleTests {
    typealias F = Fixture

    @Test("the base claim is clean") func baseIsClean() {
        let result = F.scrubber.scrub(F.claim())
        #expect(result.findings.isEmpty, "\(result.findings)")
        #expect(result.isClean)
        #expect(result.rulesVersion == RuleCatalog.bundled.version)
    }

    @Test("REQ-001: required fields") func required() {
        var claim = F.claim()
        claim.payerId = nil
        claim.billingProviderNPI = " "
        claim.placeOfService = nil
        claim.claimId = ""
        claim.lines[1].code = ""
        claim.patient.sex = "F"
        #expect(
            F.findings(claim, "REQ-001") == [
                "/claimId", "/payerId", "/billingProviderNPI", "/placeOfService", "/patient/sex", "/lines/1/code",
            ])
        var empty = F.claim(lines: [], diagnoses: [])
        empty.patient.sex = "unknown"
        #expect(F.findings(empty, "REQ-001") == ["/diagnoses", "/lines"])
        let result = F.scrubber.scrub(empty)
        #expect(!result.isClean)
        #expect(result.findings.first?.message == "The claim has no at least one diagnosis.")
        #expect(F.findings(F.claim(), "REQ-001").isEmpty)
    }

    @Test("NPI-001: check digit of each NPI field") func npi() {
        var claim = F.claim()
        claim.billingProviderNPI = "1234567890"
        claim.renderingProviderNPI = "123456789"
        claim.referringProviderNPI = "3234567893"
        #expect(
            F.findings(claim, "NPI-001") == ["/billingProviderNPI", "/renderingProviderNPI", "/referringProviderNPI"])
        claim.billingProviderNPI = F.npi
        claim.renderingProviderNPI = nil
        claim.referringProviderNPI = F.otherNPI
        #expect(F.findings(claim, "NPI-001").isEmpty)
    }

    @Test("POS-001: place of service code") func placeOfService() {
        var claim = F.claim()
        claim.placeOfService = "00"
        #expect(F.findings(claim, "POS-001") == ["/placeOfService"])
        for pos in ["02", "10", "11", "22", "99"] {
            claim.placeOfService = pos
            #expect(F.findings(claim, "POS-001").isEmpty)
        }
    }

    @Test("DATE-001: date of service after submission or today") func futureDate() {
        var claim = F.claim()
        claim.submissionDate = F.date("2026-11-01")
        #expect(F.findings(claim, "DATE-001") == ["/dateOfService"])
        claim = F.claim()
        claim.dateOfService = F.date("2026-12-02")
        claim.submissionDate = F.date("2026-12-05")
        #expect(F.findings(claim, "DATE-001") == ["/dateOfService"])
        claim = F.claim()
        claim.lines[1].serviceDate = F.date("2026-12-24")
        #expect(F.findings(claim, "DATE-001") == ["/lines/1/serviceDate"])
        claim = F.claim()
        claim.submissionDate = claim.dateOfService
        #expect(F.findings(claim, "DATE-001").isEmpty)
    }

    @Test("DATE-002: birth after the date of service") func birthAfterService() {
        var claim = F.claim()
        claim.patient.dateOfBirth = F.date("2026-11-03")
        #expect(F.findings(claim, "DATE-002") == ["/patient/dateOfBirth"])
        claim.patient.dateOfBirth = F.dos
        #expect(F.findings(claim, "DATE-002").isEmpty)
    }

    @Test("DX-EXISTS: unknown or malformed codes") func diagnosisExists() {
        let claim = F.claim(diagnoses: ["E11.99", "11.9", "E11..9", "I10"])
        #expect(F.findings(claim, "DX-EXISTS") == ["/diagnoses/0", "/diagnoses/1", "/diagnoses/2"])
        #expect(F.findings(F.claim(diagnoses: ["E119", "i10"]), "DX-EXISTS").isEmpty)
    }

    @Test("DX-BILLABLE: headers are not billable") func diagnosisBillable() {
        let claim = F.claim(diagnoses: ["E11.9", "E11"])
        #expect(F.findings(claim, "DX-BILLABLE") == ["/diagnoses/1"])
        #expect(F.scrubber.scrub(claim).findings.first?.message.contains("E11 is a header") == true)
        #expect(F.findings(F.claim(diagnoses: ["E11.65", "I10"]), "DX-BILLABLE").isEmpty)
    }

    @Test("DX-DATE: valid on the date of service") func diagnosisDate() {
        var claim = F.claim(diagnoses: ["F32.A", "I10"])
        claim.dateOfService = F.date("2021-09-30")
        claim.submissionDate = F.date("2021-10-02")
        #expect(F.findings(claim, "DX-DATE") == ["/diagnoses/0"])
        claim.dateOfService = F.date("2021-10-01")
        #expect(F.findings(claim, "DX-DATE").isEmpty)
        // M54.5 was billable until 2021-09-30 and is a header since.
        var back = F.claim(diagnoses: ["M54.5", "I10"])
        back.dateOfService = F.date("2021-09-30")
        back.submissionDate = F.date("2021-10-04")
        #expect(F.all(back).isEmpty)
        back.dateOfService = F.date("2021-10-01")
        #expect(F.all(back) == ["DX-BILLABLE /diagnoses/0"])
    }

    @Test("PTR-001: pointers at existing diagnoses, at most four") func pointers() {
        var claim = F.claim()
        claim.lines[0].diagnosisPointers = [3]
        claim.lines[1].diagnosisPointers = []
        #expect(F.findings(claim, "PTR-001") == ["/lines/0/diagnosisPointers/0", "/lines/1/diagnosisPointers"])
        claim = F.claim(diagnoses: ["E11.9", "I10", "E78.5", "Z79.4", "Z87.891"])
        claim.lines[0].diagnosisPointers = [1, 2, 3, 4, 5]
        claim.lines[1].diagnosisPointers = [2, 0, 2]
        #expect(
            F.findings(claim, "PTR-001") == [
                "/lines/0/diagnosisPointers/4", "/lines/1/diagnosisPointers/1", "/lines/1/diagnosisPointers/2",
            ])
        claim.lines[0].diagnosisPointers = [1, 2, 3, 4]
        claim.lines[1].diagnosisPointers = [5]
        #expect(F.findings(claim, "PTR-001").isEmpty)
    }

    @Test("AGE-001: age edits from the code set") func age() {
        // P07.30 is a newborn code; Z00.129 pediatric; Z00.00 adult (15 and over); O80 maternity.
        // The patient is 56: past the maternity range (12 to 55) too.
        var claim = F.claim(diagnoses: ["P07.30", "Z00.129", "O80"])
        #expect(F.findings(claim, "AGE-001") == ["/diagnoses/0", "/diagnoses/1", "/diagnoses/2"])
        claim.patient.dateOfBirth = F.date("2026-10-20")
        claim.diagnoses = ["P07.30", "Z00.129"]
        #expect(F.findings(claim, "AGE-001").isEmpty)
        claim.diagnoses = ["Z00.00"]
        #expect(F.findings(claim, "AGE-001") == ["/diagnoses/0"])
        claim.patient.dateOfBirth = F.date("2011-11-02")  // 15 on the date of service
        #expect(F.findings(claim, "AGE-001").isEmpty)
        claim.patient.dateOfBirth = F.date("2011-11-03")  // 14, one day short
        #expect(F.findings(claim, "AGE-001") == ["/diagnoses/0"])
    }

    @Test("SEX-001: sex edits from the code set") func sex() {
        var claim = F.claim(diagnoses: ["O80", "N40.0", "Z12.4"])
        claim.patient.dateOfBirth = F.date("1996-01-01")
        #expect(F.findings(claim, "SEX-001") == ["/diagnoses/1"])
        claim.patient.sex = "male"
        #expect(F.findings(claim, "SEX-001") == ["/diagnoses/0", "/diagnoses/2"])
        for sex in ["other", "unknown"] {
            claim.patient.sex = sex
            #expect(F.findings(claim, "SEX-001").isEmpty)
        }
    }

    @Test("PROC-001: procedure codes exist and are well formed") func procedure() {
        let claim = F.claim(lines: [
            F.line("99201"), F.line("9921"), F.line("J1885"), F.line("99213", system: "icd"),
            F.line("Z9999", system: "hcpcs"), F.line("LAB-7", system: "local"), F.line("J1885", system: "hcpcs"),
            F.line("0001A"),
        ])
        #expect(
            F.findings(claim, "PROC-001") == [
                "/lines/0/code", "/lines/1/code", "/lines/2/code", "/lines/3/codeSystem", "/lines/4/code",
            ])
        // A system the code set does not hold is not checked (nil = not loaded).
        let cptOnly = Scrubber(
            codeSets: InMemoryCodeSets(diagnoses: SampleCodeSets.diagnoses, procedures: ["cpt": ["99213"]]),
            today: F.today)
        #expect(F.findings(F.claim(lines: [F.line("G0999", system: "hcpcs")]), "PROC-001", scrubber: cptOnly).isEmpty)
    }

    @Test("MOD-001: modifiers are two letters or digits, at most four") func modifiers() {
        var claim = F.claim()
        claim.lines[0].modifiers = ["25", "5", "X-", "gp"]
        claim.lines[1].modifiers = ["91", "Q5", "Q6", "KX", "76"]
        #expect(
            F.findings(claim, "MOD-001") == [
                "/lines/0/modifiers/1", "/lines/0/modifiers/2", "/lines/0/modifiers/3", "/lines/1/modifiers/4",
            ])
        claim.lines[0].modifiers = ["25", "RT", "XS", "Q6"]
        claim.lines[1].modifiers = ["91"]
        #expect(F.findings(claim, "MOD-001").isEmpty)
    }

    @Test("UNITS-001: units of zero or less") func units() {
        var claim = F.claim()
        claim.lines[0].units = 0
        claim.lines[1].units = -2
        #expect(F.findings(claim, "UNITS-001") == ["/lines/0/units", "/lines/1/units"])
        claim.lines[0].units = 1
        claim.lines[1].units = 1
        #expect(F.findings(claim, "UNITS-001").isEmpty)
    }

    @Test("CHG-001: positive charges") func charge() {
        var claim = F.claim()
        claim.lines[1].charge = .zero
        #expect(F.findings(claim, "CHG-001") == ["/lines/1/charge"])
        claim.lines[1].charge = Money(minorUnits: 1)
        #expect(F.findings(claim, "CHG-001").isEmpty)
    }

    @Test("NDC-001: an 11-digit NDC, a warning that does not block the claim") func ndc() {
        var claim = F.claim(lines: [F.line("96372"), F.line("J3301", system: "hcpcs")])
        claim.lines[1].ndc = "0003-0293-5"
        let result = F.scrubber.scrub(claim)
        #expect(result.findings.map(\.fieldPath) == ["/lines/1/ndc"])
        #expect(result.findings.first?.severity == .warning)
        #expect(result.isClean)
        claim.lines[1].ndc = "00003-0293-05"
        #expect(F.all(claim).isEmpty)
    }

    @Test("DUP-001: same code, modifiers and date") func duplicates() {
        var claim = F.claim(lines: [
            F.line("84443", modifiers: ["91", "QW"]), F.line("84443", modifiers: ["QW", "91"]), F.line("84443"),
        ])
        #expect(F.findings(claim, "DUP-001") == ["/lines/1"])
        claim.lines[1].serviceDate = F.date("2026-11-01")
        #expect(F.findings(claim, "DUP-001").isEmpty)
        claim.lines[1].serviceDate = nil
        claim.lines[1].modifiers = ["QW"]
        #expect(F.findings(claim, "DUP-001").isEmpty)
    }

    @Test("PAYER-001: payer requires a referring NPI") func payerReferral() {
        var claim = F.claim()
        claim.payerId = "MCD01"
        #expect(F.findings(claim, "PAYER-001") == ["/referringProviderNPI"])
        claim.referringProviderNPI = F.otherNPI
        #expect(F.findings(claim, "PAYER-001").isEmpty)
        claim.payerId = "MCR01"
        claim.referringProviderNPI = nil
        #expect(F.findings(claim, "PAYER-001").isEmpty)
    }

    @Test("PAYER-002: modifiers the payer does not accept") func payerModifiers() {
        var claim = F.claim()
        claim.payerId = "ACME1"
        claim.lines[1].modifiers = ["GY"]
        #expect(F.findings(claim, "PAYER-002") == ["/lines/1/modifiers/0"])
        claim.payerId = "MCR01"
        #expect(F.findings(claim, "PAYER-002").isEmpty)
    }

    @Test("PAYER-003: most lines per claim") func payerLines() {
        let codes = ["99213", "85025", "80053", "80061", "83036", "84443", "93000"]
        var claim = F.claim(lines: codes.map { F.line($0) })
        claim.payerId = "WCOMP"
        #expect(F.findings(claim, "PAYER-003") == ["/lines/6"])
        claim.lines.removeLast()
        #expect(F.findings(claim, "PAYER-003").isEmpty)
    }

    @Test("TF-001: timely filing per payer, 365 days by default") func timelyFiling() {
        var claim = F.claim()
        claim.dateOfService = F.date("2025-11-01")
        claim.submissionDate = F.date("2026-11-01")  // 365 days
        #expect(F.findings(claim, "TF-001").isEmpty)
        claim.submissionDate = F.date("2026-11-02")
        #expect(F.findings(claim, "TF-001") == ["/submissionDate"])
        claim.payerId = "NOT-LISTED"
        #expect(F.findings(claim, "TF-001") == ["/submissionDate"])
        claim.payerId = "ACME1"
        claim.submissionDate = F.date("2026-01-30")  // 90 days
        #expect(F.findings(claim, "TF-001").isEmpty)
        claim.submissionDate = F.date("2026-01-31")
        #expect(F.findings(claim, "TF-001") == ["/submissionDate"])
        #expect(F.scrubber.scrub(claim).findings.first?.message.contains("91 days") == true)
        // The earliest line date counts.
        claim = F.claim()
        claim.payerId = "WCOMP"
        claim.lines[1].serviceDate = F.date("2026-08-01")
        #expect(F.findings(claim, "TF-001") == ["/submissionDate"])
    }
}
