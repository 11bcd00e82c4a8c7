import Foundation
import RCMCore
import Testing

@testable import RCMCodes

@Suite("ICD-10-CM: the full April 2026 release, loaded once")
struct ICD10CMTests {
    let icd = ICD10CM.shared

    @Test("the release has 98,186 codes, 74,719 of them billable")
    func counts() {
        #expect(icd.count == 98_186)
        #expect(icd.billableCount == 74_719)
    }

    @Test("known codes: descriptions, billable or header, effective dates")
    func knownCodes() throws {
        let e119 = try #require(icd.lookup("E11.9"))
        #expect(e119.code == "E119")
        #expect(e119.display == "E11.9")
        #expect(e119.billable)
        #expect(e119.description == "Type 2 diabetes mellitus without complications")
        #expect(e119.effectiveFrom == CalendarDate("2025-10-01"))
        #expect(e119.effectiveTo == nil)
        #expect(e119.sexEdit == nil && e119.ageRange == nil)

        let e11 = try #require(icd.lookup("e11"))
        #expect(!e11.billable)
        #expect(e11.description == "Type 2 diabetes mellitus")

        let fracture = try #require(icd.lookup("S72.001A"))
        #expect(fracture.billable)
        #expect(
            fracture.description
                == "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture")
        #expect(icd.lookup("S72.001")?.billable == false)
        #expect(
            icd.lookup("T36.0X1A")?.description
                == "Poisoning by penicillins, accidental (unintentional), initial encounter")
        #expect(icd.lookup("E11.99") == nil)
        #expect(icd.lookup("") == nil)
    }

    @Test("sex and age edits: maternity, newborn, male and female genital organs")
    func edits() throws {
        let delivery = try #require(icd.lookup("O80"))
        #expect(delivery.billable)
        #expect(delivery.sexEdit == .female)
        #expect(delivery.ageRange == 12...55)
        let preterm = try #require(icd.lookup("P07.30"))
        #expect(preterm.billable)
        #expect(preterm.ageRange == 0...0)
        #expect(preterm.sexEdit == nil)
        #expect(icd.lookup("Z3A.20")?.sexEdit == .female)
        #expect(icd.lookup("N40.0")?.sexEdit == .male)
        #expect(icd.lookup("C61")?.sexEdit == .male)
        #expect(icd.lookup("C53.9")?.sexEdit == .female)
        #expect(icd.lookup("D25.9")?.sexEdit == .female)
        #expect(icd.lookup("N81.2")?.sexEdit == .female)
        #expect(icd.lookup("C50.911")?.sexEdit == nil)  // breast: either sex
        #expect(icd.lookup("N39.0")?.sexEdit == nil)
    }

    @Test("lookup on a date before FY2026 finds nothing; on or after, the code")
    func dates() {
        #expect(icd.lookup("E11.9", on: CalendarDate("2025-09-30")) == nil)
        #expect(icd.lookup("E11.9", on: CalendarDate("2025-10-01")) != nil)
        #expect(icd.search("E11.9", limit: 5, on: CalendarDate("2024-01-01")).isEmpty)
    }

    @Test("code prefix search, with or without the dot, any case; exact code first")
    func prefixes() {
        let dotted = icd.search("E11.6", limit: 10)
        let plain = icd.search("e116", limit: 10)
        #expect(dotted == plain)
        #expect(dotted.count == 10)
        #expect(dotted.allSatisfy { $0.info.code.hasPrefix("E116") })
        #expect(dotted.first?.info.code == "E116")
        #expect(dotted.first?.kind == .exactCode)
        // Then billable codes, shorter first.
        #expect(dotted[1].kind == .codePrefix)
        #expect(dotted[1].info.billable)
        #expect(dotted[1].info.code == "E1165")
        let lengths = dotted.dropFirst().map(\.info.code.count)
        #expect(lengths == lengths.sorted())
        let e1 = icd.search("E1", limit: 20)
        #expect(e1.count == 20)
        #expect(e1.allSatisfy { $0.info.code.hasPrefix("E1") && $0.kind == .codePrefix })
        #expect(e1.prefix(while: \.info.billable).count > 0)
    }

    @Test("description words: each query word prefixes a word; case and accents ignored")
    func words() throws {
        let diabetes = icd.search("diabetes type 2", limit: 20)
        #expect(diabetes.count == 20)
        #expect(diabetes.allSatisfy { $0.kind == .description })
        #expect(diabetes.first?.info.code == "E118" || diabetes.first?.info.code == "E119")
        #expect(diabetes.contains { $0.info.code == "E119" })
        for match in diabetes {
            let text = match.info.description.lowercased()
            #expect(text.contains("diabetes") && text.contains("type 2"), "\(match.info.code) \(text)")
        }
        let femur = icd.search("fract femur", limit: 50)
        #expect(femur.count == 50)
        #expect(femur.allSatisfy { $0.info.description.lowercased().contains("femur") })
        // Billable first, and among them "fracture of femur" (words side by side but for "of") first.
        #expect(femur.allSatisfy { $0.info.billable })
        #expect(
            femur.first?.info.description.lowercased().contains("fracture of femur") == true,
            "\(femur.first?.info.description ?? "")")
        #expect(icd.search("HYPERT", limit: 5).contains { $0.info.code == "I10" })
        // "Sézary disease" by its unaccented spelling, and by the accented one.
        #expect(icd.search("sezary", limit: 3).first?.info.code.hasPrefix("C841") == true)
        #expect(icd.search("Sézary", limit: 3).first?.info.code.hasPrefix("C841") == true)
        #expect(icd.search("zzzzqx", limit: 5).isEmpty)
        #expect(icd.search("diab", limit: 0).isEmpty)
    }

    @Test("the dotted display form")
    func dotted() {
        #expect(ICD10CM.dotted("E119") == "E11.9")
        #expect(ICD10CM.dotted("S72001A") == "S72.001A")
        #expect(ICD10CM.dotted("I10") == "I10")
    }

    @Test("a malformed data line is an error naming its line")
    func malformed() {
        #expect(throws: CodeFileError.self) { try ICD10CM.parse(Data("# c\nA00\t2\tx\t\t\t\t\n".utf8)) }
        let index = try? ICD10CM.parse(Data("A00\t0\tCholera\t2025-10-01\t\tF\t12-55\n".utf8))
        #expect(index?.lookup("A00")?.ageRange == 12...55)
    }
}
