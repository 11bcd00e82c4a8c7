import Foundation
import RCMCore
import Testing

@testable import RCMScrubber

@Suite("CMS-layout NCCI importers")
struct LoaderTests {
    typealias F = Fixture

    @Test("the shipped samples load: header lines skipped, no issues") func samples() throws {
        let edits = NCCIEdits.bundledSample
        #expect(edits.report.issues == [])
        #expect(edits.report.ptpRows == 26)
        #expect(edits.report.mueRows == 52)
        // Six PTP heading lines; the MUE notice and its two-line column heading are four more.
        #expect(edits.report.headerLines == 10)
        let edit = try #require(edits.ptpEdit(column1: "99213", column2: "36415", on: F.date("2026-11-02")))
        #expect(edit.modifierIndicator == .allowed)
        #expect(edit.rationale == "Standards of medical/surgical practice")
        #expect(edits.ptpRows(column1: "93000", column2: "93005").first?.existedBefore1996 == true)
        #expect(edits.ptpRows(column1: "97530", column2: "97140").first?.deletionDate == F.date("2020-12-31"))
        #expect(edits.ptpRows(column1: "99213", column2: "94760").first?.modifierIndicator == .notApplicable)
        #expect(
            edits.mue["36415"]
                == MUEEdit(
                    code: "36415", maxUnits: 2, adjudicationIndicator: .dateOfServiceClinical,
                    rationale: "Clinical: Data"))
        #expect(edits.mue["20610"]?.adjudicationIndicator == .line)
        #expect(edits.mue["17003"]?.maxUnits == 13)
    }

    static let ptpText = [
        "CPT only copyright notice\t\t\t\t\t\t",
        "Column1/Column2 Edits\t\t\t\t\t\t",
        "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale",
        "\t\tprior to 1996\tDate\tDate\t0=not allowed\t",
        "\t\t\t\t*=no data\t1=allowed\t",
        "\t\t\t\t\t9=not applicable\t",
        "99213\t36415\t\t20250101\t*\t1\tStandards of medical/surgical practice",
        "99213\t99212\t\t2020-01-01\t*\t0\tMutually exclusive procedures",
        "9921\t99212\t\t20200101\t*\t0\tbad column 1",
        "99214\t99213\t\t20201301\t*\t0\tbad effective date",
        "99215\t99214\t\t20200101\t*\t2\tbad indicator",
        "",
        "99215\t99213",
        "99215\t99212\tX\t20200101\t*\t0\t",
        "80053\t82947\t*\t19980101\t20001231\t0\t\"Quoted rationale\"",
        "99215\t99211\t\t20200101\t2020-12-3\t0\tbad deletion date",
    ].joined(separator: "\r\n")

    @Test("PTP: malformed rows reported with their line numbers, not loaded") func ptpMalformed() {
        var edits = NCCIEdits()
        edits.importPTP(Data(Self.ptpText.utf8), source: "ccipra-test.txt")
        #expect(edits.report.ptpRows == 3)
        #expect(edits.report.headerLines == 6)
        #expect(edits.report.issues.map(\.line) == [9, 10, 11, 13, 14, 16])
        #expect(
            edits.report.issues.first?.description == "ccipra-test.txt:9: column 1 \"9921\" is not a HCPCS/CPT code")
        #expect(edits.report.issues[2].message == "modifier indicator \"2\" is not 0, 1 or 9")
        #expect(edits.report.issues[3].message == "expected at least 6 columns, found 2")
        let quoted = edits.ptpRows(column1: "80053", column2: "82947").first
        #expect(quoted?.rationale == "Quoted rationale")
        #expect(quoted?.deletionDate == F.date("2000-12-31"))
        #expect(quoted?.existedBefore1996 == true)
        #expect(edits.ptpRows(column1: "99213", column2: "99212").first?.effectiveDate == F.date("2020-01-01"))
    }

    @Test("PTP: the same layout saved as comma-separated text") func ptpCSV() {
        let text = """
            Column 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale
            99213,36415,,20250101,*,1,"Standards of medical/surgical practice, sample"
            17000,17110,,1/1/2010,,1,Mutually exclusive procedures
            """
        var edits = NCCIEdits()
        edits.importPTP(Data(text.utf8), source: "ptp.csv")
        #expect(edits.report.issues == [])
        #expect(edits.report.ptpRows == 2)
        #expect(
            edits.ptpRows(column1: "99213", column2: "36415").first?.rationale
                == "Standards of medical/surgical practice, sample")
        #expect(edits.ptpRows(column1: "17000", column2: "17110").first?.effectiveDate == F.date("2010-01-01"))
    }

    static let mueText = [
        "\"CPT codes, descriptions and other data only are copyright American Medical Association.",
        "All Rights Reserved.\",,,",
        "\"HCPCS/",
        "CPT Code\",\"Practitioner Services MUE Values\",\"MUE Adjudication Indicator\",\"MUE Rationale\"",
        "36415,2,\"3 Date of Service Edit: Clinical\",\"Clinical: Data\"",
        "99213,two,\"2 Date of Service Edit: Policy\",\"Code Descriptor / CPT Instruction\"",
        "20610,2,\"1 Line Edit\",\"Anatomic Consideration\"",
        "J3301,8,\"4 Something Else\",\"Clinical: Data\"",
        "\"ABC\",1,\"2 Date of Service Edit: Policy\",\"multi",
        "line rationale\"",
        "85025,2,\"3 Date of Service Edit: Clinical\",\"Clinical: Data\"",
        "0001U,1",
    ].joined(separator: "\r\n")

    @Test("MUE: quoted fields over several lines, malformed rows with line numbers") func mueMalformed() {
        var edits = NCCIEdits()
        edits.importMUE(Data(Self.mueText.utf8), source: "MCR_MUE_test.csv")
        #expect(edits.report.headerLines == 4)
        #expect(edits.report.mueRows == 4)
        #expect(edits.report.issues.map(\.line) == [6, 8, 9])
        #expect(edits.report.issues[0].message == "MUE value \"two\" is not a whole number")
        #expect(edits.report.issues[1].message == "MUE adjudication indicator \"4 Something Else\" is not 1, 2 or 3")
        #expect(edits.mue["85025"]?.maxUnits == 2)
        #expect(edits.mue["0001U"]?.adjudicationIndicator == .line)
        #expect(edits.mue["20610"]?.rationale == "Anatomic Consideration")
    }

    @Test("MUE: tab-delimited text") func mueTabs() {
        let text =
            "HCPCS/CPT Code\tPractitioner Services MUE Values\tMUE Adjudication Indicator\tMUE Rationale\n"
            + "36415\t2\t3 Date of Service Edit: Clinical\tClinical: Data\n"
        var edits = NCCIEdits()
        edits.importMUE(Data(text.utf8), source: "mue.txt")
        #expect(edits.report.issues == [])
        #expect(edits.mue["36415"]?.maxUnits == 2)
    }

    @Test("load(ptpFile:mueFile:) reads files from a path at runtime") func loadFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-ncci-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ptp = directory.appendingPathComponent("ccipra-v999r0-f1.txt")
        let mue = directory.appendingPathComponent("MCR_MUE_PractitionerServices_Eff_01-01-2027.csv")
        try Data(Self.ptpText.utf8).write(to: ptp)
        try Data(Self.mueText.utf8).write(to: mue)
        let edits = try NCCIEdits.load(ptpFile: ptp.path, mueFile: mue.path)
        #expect(edits.report.ptpRows == 3)
        #expect(edits.report.mueRows == 4)
        #expect(edits.report.issues.count == 9)
        #expect(edits.report.issues.first?.file == "ccipra-v999r0-f1.txt")
        #expect(edits.report.issues.last?.file == "MCR_MUE_PractitionerServices_Eff_01-01-2027.csv")
        let both = try NCCIEdits.load(ptpFiles: [ptp.path, ptp.path], mueFiles: [mue.path])
        #expect(both.report.ptpRows == 6)
        #expect(both.ptpRows(column1: "99213", column2: "36415").count == 2)
        #expect(throws: (any Error).self) {
            try NCCIEdits.load(ptpFile: directory.appendingPathComponent("missing.txt").path, mueFile: mue.path)
        }
        // Edits loaded at runtime drive the scrubber.
        let scrubber = F.scrubber(edits: edits)
        #expect(
            F.findings(F.claim(lines: [F.line("99213"), F.line("99212")]), "NCCI-PTP", scrubber: scrubber) == [
                "/lines/1/code"
            ])
    }

    @Test("garbage does not crash the importers") func garbage() {
        var edits = NCCIEdits()
        for text in ["", "\n\n\n", "\"unterminated", "a,b,c\n1,2", "\t\t\t", String(repeating: "\u{FFFD}", count: 50)] {
            edits.importPTP(Data(text.utf8), source: "x")
            edits.importMUE(Data(text.utf8), source: "y")
        }
        edits.importPTP(Data([0xFF, 0xFE, 0x00, 0x09, 0x0A, 0x39, 0x39]), source: "binary")
        #expect(edits.report.ptpRows == 0)
        #expect(edits.report.mueRows == 0)
    }
}
