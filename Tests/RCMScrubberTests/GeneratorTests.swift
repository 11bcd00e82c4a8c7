import Foundation
import RCMCore
import Testing

@testable import RCMScrubber

@Suite("Synthetic claims: generator and evaluator")
struct GeneratorTests {
    @Test("same seed, same claims; another seed, other claims") func determinism() throws {
        var one = ClaimGenerator(seed: 42)
        var two = ClaimGenerator(seed: 42)
        var three = ClaimGenerator(seed: 43)
        let first = one.generate(clean: 50, perRule: 5)
        let second = two.generate(clean: 50, perRule: 5)
        let third = three.generate(clean: 50, perRule: 5)
        #expect(first == second)
        #expect(first != third)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(first) == encoder.encode(second))
        #expect(first.count == 50 + 5 * ClaimGenerator.injectableRules.count)
        #expect(first.filter { $0.label == nil }.count == 50)
        for rule in ClaimGenerator.injectableRules {
            #expect(first.filter { $0.label == rule }.count == 5, "\(rule)")
        }
    }

    @Test("the generator's codes are in the sample code set") func sampleCodes() {
        let codes = SampleCodeSets.codeSets
        #expect(SampleCodeSets.diagnoses.count >= 300)
        #expect(codes.diagnosis("E11", on: Fixture.dos)?.billable == false)
        #expect(codes.diagnosis("E119", on: Fixture.dos)?.billable == true)
        #expect(codes.diagnosis("O80", on: Fixture.dos)?.sexEdit == .female)
        #expect(codes.diagnosis("N40.0", on: Fixture.dos)?.sexEdit == .male)
        #expect(codes.diagnosis("P07.30", on: Fixture.dos)?.ageRange == 0...0)
        #expect(codes.diagnosis("E11.99", on: Fixture.dos) == nil)
        // A code from before its effective date comes back with its dates, not as unknown.
        let early = codes.diagnosis("U07.1", on: Fixture.date("2020-01-15"))
        #expect(early?.isEffective(on: Fixture.date("2020-01-15")) == false)
        #expect(codes.procedureExists(system: "cpt", code: "99213", on: Fixture.dos) == true)
        #expect(codes.procedureExists(system: "cpt", code: "99201", on: Fixture.dos) == false)
        #expect(codes.procedureExists(system: "local", code: "X1", on: Fixture.dos) == nil)
    }

    @Test("the scrubber meets the targets on a small synthetic run (recall ≥ 95%, precision ≥ 99%)") func targets() {
        var generator = ClaimGenerator(seed: 7)
        let cases = generator.generate(clean: 300, perRule: 20)
        let scrubber = Scrubber(codeSets: SampleCodeSets.codeSets, today: generator.today)
        let evaluation = ScrubEvaluation(cases: cases, results: cases.map { scrubber.scrub($0.claim) })
        #expect(evaluation.recall >= 0.95)
        #expect(evaluation.precision >= 0.99)
        #expect(evaluation.cleanClaimsWithErrors == 0, "\(evaluation.mistakes)")
        for rule in evaluation.rules {
            #expect(rule.recall >= 0.95, "\(rule.ruleId) recall \(rule.recall)")
        }
    }

    @Test("the evaluator counts misses and false positives per rule") func evaluator() {
        let claim = Fixture.claim()
        let cases = [
            LabelledClaim(claim: claim, label: "NPI-001", note: ""), LabelledClaim(claim: claim, label: nil, note: ""),
            LabelledClaim(claim: claim, label: "NPI-001", note: ""),
        ]
        func result(_ ids: [String]) -> ScrubResult {
            ScrubResult(
                claimId: "C-1",
                findings: ids.map {
                    ScrubFinding(ruleId: $0, ruleVersion: 1, severity: .error, message: "", fix: "", fieldPath: "/")
                }, rulesVersion: "t")
        }
        let evaluation = ScrubEvaluation(
            cases: cases, results: [result(["NPI-001"]), result(["TF-001"]), result(["TF-001"])])
        let npi = evaluation.rules.first { $0.ruleId == "NPI-001" }
        let tf = evaluation.rules.first { $0.ruleId == "TF-001" }
        #expect(npi?.injected == 2)
        #expect(npi?.detected == 1)
        #expect(npi?.recall == 0.5)
        #expect(tf?.falsePositives == 2)
        #expect(tf?.precision == 0)
        #expect(evaluation.cleanClaimsWithErrors == 1)
        #expect(evaluation.mistakes.count == 2)
    }
}
