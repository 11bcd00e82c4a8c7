import Foundation
import RCMCore
import Testing

@testable import RCMCodes

@Suite("HCPCS, CPT and local codes")
struct OtherCodeSetTests {
    @Test("the HCPCS sample reads CMS's fixed-width layout, continuation lines included")
    func hcpcsSample() throws {
        let hcpcs = HCPCS.sample
        #expect(hcpcs.count == 13)
        #expect(
            hcpcs.lookup("A0428")?.description
                == "Ambulance service, basic life support, non-emergency transport, (bls)")
        #expect(hcpcs.lookup("j1100")?.description == "Injection, dexamethasone sodium phosphate, 1 mg")
        #expect(hcpcs.lookup("G0008")?.description == "Administration of influenza virus vaccine")
        #expect(
            hcpcs.lookup("E0110")?.description
                == "Crutches, forearm, includes crutches of various materials, adjustable or fixed, pair, complete with tips and handgrips"
        )
        #expect(hcpcs.lookup("E0110")?.billable == true)
        #expect(hcpcs.search("crutch", limit: 5).map(\.info.code) == ["E0110"])
        #expect(hcpcs.search("G000", limit: 5).map(\.info.code) == ["G0008", "G0009"])
        #expect(hcpcs.lookup("A9999") == nil)
    }

    @Test("HCPCS dates, a mid-word continuation and modifiers in the fixed-width layout")
    func hcpcsFixedWidth() throws {
        func record(_ code: String, _ id: String, _ long: String, dates: String = "") -> String {
            let head =
                code.padding(toLength: 5, withPad: " ", startingAt: 0) + "00100" + id
                + long.padding(toLength: 80, withPad: " ", startingAt: 0)
            return head.padding(toLength: 268, withPad: " ", startingAt: 0)
                + dates.padding(
                    toLength: 52, withPad: " ", startingAt: 0)
        }
        // A synthetic file: an 80-character segment that breaks mid-word, and a terminated code.
        let long = String(repeating: "x", count: 75) + " abcd"
        let text = [
            record("A0001", "3", long, dates: "20200101" + "20200101" + "00000000" + "A"),
            record("A0001", "4", "efg end"),
            record("   25", "7", "Significant, separately identifiable evaluation and management service"),
            record("A0002", "3", "Old code", dates: "19900101" + "20250101" + "20251231" + "D"),
        ].joined(separator: "\r\n")
        let index = try HCPCS.parseFixedWidth(Array(text.utf8))
        #expect(index.count == 2)
        let first = try #require(index.lookup("A0001"))
        #expect(first.description == String(repeating: "x", count: 75) + " abcdefg end")
        #expect(first.effectiveFrom == CalendarDate("2020-01-01"))
        #expect(index.lookup("A0002", on: CalendarDate("2025-12-31"))?.effectiveTo == CalendarDate("2025-12-31"))
        #expect(index.lookup("A0002", on: CalendarDate("2026-01-01")) == nil)
        #expect(throws: CodeFileError.self) { try HCPCS.parseFixedWidth(Array(record("A0003", "4", "x").utf8)) }
    }

    @Test("HCPCS from CMS's spreadsheet saved as CSV")
    func hcpcsCSV() throws {
        let csv = """
            HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,ADD DT,ACT EFF DT,TERM DT
            A0428,00100,3,"Ambulance service, basic life support, non-emergency transport, (bls)",Bls,19950101,20250101,
            E0110,00100,3,"Crutches, forearm, includes crutches of various materials, adjustable or fixed,",Crutch forearm,19850101,,
            E0110,00200,4,"pair, complete with tips and handgrips",,,,
            """
        let index = try HCPCS.parseCSV(csv)
        #expect(index.count == 2)
        #expect(index.lookup("A0428")?.effectiveFrom == CalendarDate("1995-01-01"))
        #expect(index.lookup("E0110")?.description.hasSuffix("fixed, pair, complete with tips and handgrips") == true)
        #expect(throws: CodeFileError.self) { try HCPCS.parseCSV("CODE,TEXT\nA0428,x\n") }
    }

    @Test("CPT format: Category I five digits, II ends in F, III ends in T")
    func cptFormat() {
        #expect(CPT.category(of: "99213") == .categoryI)
        #expect(CPT.category(of: "00100") == .categoryI)
        #expect(CPT.category(of: "0001F") == .categoryII)
        #expect(CPT.category(of: "0042T") == .categoryIII)
        #expect(CPT.category(of: "0001U") == .categoryI)
        #expect(!CPT.isValidFormat("9921"))
        #expect(!CPT.isValidFormat("ABCDE"))
        #expect(!CPT.isValidFormat("00099"))
        #expect(!CPT.isValidFormat("99999"))
        #expect(!CPT.isValidFormat("992134"))
        #expect(!CPT.isValidFormat("9921X"))
    }

    @Test("CPT descriptions come only from the clinic's licensed CSV")
    func cptImport() throws {
        // Descriptions made up for the test: the platform ships none of the AMA's.
        let csv =
            "code,description\r\n99213,\"Office visit, established (clinic's licensed text)\"\r\n0042T,Test code\r\n"
        let cpt = try CPT.importCSV(csv)
        #expect(cpt.count == 2)
        #expect(cpt.lookup("99213")?.description == "Office visit, established (clinic's licensed text)")
        #expect(cpt.search("9921", limit: 5).map(\.info.code) == ["99213"])
        #expect(cpt.search("licensed", limit: 5).map(\.info.code) == ["99213"])
        let error = #expect(throws: CodeFileError.self) { try CPT.importCSV("99213,a\nABCDE,b\n") }
        #expect(error?.line == 2)

        let search = CodeSearch(cpt: nil)
        #expect(search.lookup(system: .cpt, code: "99213")?.description == "")
        #expect(search.lookup(system: .cpt, code: "9921") == nil)
        #expect(search.search(system: .cpt, query: "99", limit: 5).isEmpty)
        let licensed = CodeSearch(cpt: cpt)
        #expect(licensed.lookup(system: .cpt, code: "99214") == nil)
        #expect(licensed.lookup(system: .cpt, code: "99213")?.billable == true)
    }

    @Test("local codes keep their spelling and are found by code or words")
    func local() {
        let local = LocalCodeSet(items: [
            ("OPD001", "Outpatient consultation"), ("opd002", "Outpatient dressing"),
            ("LAB.CBC", "Complete blood count"),
        ])
        let search = CodeSearch(local: local)
        #expect(search.lookup(system: .local, code: "OPD002")?.code == "opd002")
        #expect(search.search(system: .local, query: "opd", limit: 10).map(\.info.code) == ["OPD001", "opd002"])
        #expect(search.search(system: .local, query: "lab.c", limit: 10).map(\.info.code) == ["LAB.CBC"])
        #expect(search.search(system: .local, query: "outpatient dress", limit: 10).map(\.info.code) == ["opd002"])
        #expect(search.lookup(system: .icd10cm, code: "E11.9")?.billable == true)
        #expect(search.search(system: .hcpcs, query: "J1100", limit: 1).first?.kind == .exactCode)
    }

    @Test("the CSV reader: quotes, doubled quotes, line breaks in quotes, errors")
    func csv() throws {
        let records = try CSV.records("a,\"b,c\",\"d\"\"e\"\n\n\"multi\nline\",x")
        #expect(records.map(\.fields) == [["a", "b,c", "d\"e"], ["multi\nline", "x"]])
        #expect(records.map(\.line) == [1, 3])
        #expect(throws: CodeFileError.self) { try CSV.records("\"open") }
        #expect(throws: CodeFileError.self) { try CSV.records("a\"b\"") }
    }
}
