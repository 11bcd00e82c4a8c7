import Foundation
import RCMCore
import Testing

@testable import RCMScrubber

@Suite("Rule catalog and payer table (data)")
struct CatalogTests {
    typealias F = Fixture

    @Test("the bundled catalog has every rule the code checks, and nothing else") func bundled() {
        let catalog = RuleCatalog.bundled
        #expect(catalog.version == "2026.12.1")
        #expect(Set(catalog.rules.map(\.id)) == Set(Scrubber.ruleIds))
        #expect(catalog.rules.count == Scrubber.ruleIds.count)
        for rule in catalog.rules {
            #expect(rule.version >= 1)
            #expect(!rule.message.isEmpty && !rule.fix.isEmpty && !rule.title.isEmpty, "\(rule.id)")
        }
        #expect(catalog.rule("NDC-001")?.severity == .warning)
        #expect(catalog.rule("NCCI-PTP")?.severity == .error)
    }

    @Test("a finding carries the rule's id, version, severity, message, fix and path") func finding() throws {
        var claim = F.claim()
        claim.billingProviderNPI = "1234567890"
        let finding = try #require(F.scrubber.scrub(claim).findings.first)
        let rule = try #require(RuleCatalog.bundled.rule("NPI-001"))
        #expect(finding.ruleId == "NPI-001")
        #expect(finding.ruleVersion == rule.version)
        #expect(finding.severity == .error)
        #expect(finding.message.hasPrefix("The billing provider NPI 1234567890 is not a valid NPI"))
        #expect(finding.fix == rule.fix)
        #expect(finding.fieldPath == "/billingProviderNPI")
    }

    @Test("disabling a rule by data turns it off; severity and messages come from the data") func dataDriven() throws {
        var claim = F.claim()
        claim.billingProviderNPI = "1234567890"
        claim.lines[0].units = 0
        let json = """
            {"version": "test-7", "rules": [
              {"id": "NPI-001", "version": 3, "severity": "error", "enabled": false, "title": "t", "message": "m", "fix": "f"},
              {"id": "UNITS-001", "version": 2, "severity": "warning", "enabled": true, "title": "Units",
               "message": "Zeile {line}: {units} Einheiten", "fix": "Einheiten angeben"}
            ]}
            """
        let catalog = try RuleCatalog(json: Data(json.utf8))
        let scrubber = Scrubber(codeSets: SampleCodeSets.codeSets, catalog: catalog, today: F.today)
        let result = scrubber.scrub(claim)
        #expect(result.rulesVersion == "test-7")
        #expect(result.findings.map(\.ruleId) == ["UNITS-001"])
        #expect(result.findings.first?.message == "Zeile 1: 0 Einheiten")
        #expect(result.findings.first?.ruleVersion == 2)
        #expect(result.isClean)  // a warning only
        // The same switch on the bundled catalog.
        let off = Scrubber(
            codeSets: SampleCodeSets.codeSets, catalog: RuleCatalog.bundled.setting("NPI-001", enabled: false),
            today: F.today)
        #expect(F.findings(claim, "NPI-001", scrubber: off).isEmpty)
        #expect(F.findings(claim, "NPI-001") == ["/billingProviderNPI"])
    }

    @Test("a catalog with a rule twice is rejected") func duplicates() {
        let json = """
            {"version": "x", "rules": [
              {"id": "A", "version": 1, "severity": "error", "enabled": true, "title": "t", "message": "m", "fix": "f"},
              {"id": "A", "version": 2, "severity": "error", "enabled": true, "title": "t", "message": "m", "fix": "f"}
            ]}
            """
        #expect(throws: RuleCatalogError.duplicateRule("A")) { try RuleCatalog(json: Data(json.utf8)) }
    }

    @Test("message templates") func render() {
        let rule = ScrubRule(id: "X", version: 1, severity: .error, title: "t", message: "{a} and {b} but {c", fix: "")
        #expect(rule.render(["a": "1", "b": "2"]) == "1 and 2 but {c")
        #expect(rule.render([:]) == "{a} and {b} but {c")
    }

    @Test("payer table: bundled rows and the 365-day default") func payers() throws {
        let table = PayerTable.bundled
        #expect(table.defaultTimelyFilingDays == 365)
        #expect(table.rules(for: "acme1")?.maxLinesPerClaim == 12)
        #expect(table.timelyFilingDays(for: "MCD01") == 180)
        #expect(table.timelyFilingDays(for: "UNKNOWN") == 365)
        #expect(table.timelyFilingDays(for: nil) == 365)
        let custom = try PayerTable(
            json: Data(
                #"{"version": "t", "defaultTimelyFilingDays": 120, "payers": [{"payerId": "P1", "name": "P one", "requiresReferringNPI": true, "disallowedModifiers": []}]}"#
                    .utf8))
        #expect(custom.timelyFilingDays(for: "P1") == 120)
        #expect(custom.rules(for: "P1")?.requiresReferringNPI == true)
        var edited = custom
        edited.payers.append(PayerRules(payerId: "P2", name: "P two", timelyFilingDays: 30))
        #expect(edited.timelyFilingDays(for: "p2") == 30)
    }
}
