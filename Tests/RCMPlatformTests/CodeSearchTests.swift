import Foundation
import RCMCore
import RCMHTTP
import Testing

@Suite("Code search route")
struct CodeSearchTests {
    func items(_ response: HTTPResponse) -> [[String: Any]] { response.object["items"] as? [[String: Any]] ?? [] }

    @Test("ICD-10-CM by code prefix and by words; HCPCS; local codes from the charge master")
    func search() throws {
        let platform = try TestPlatform()
        let prefix = platform.get("/api/billing/codes?system=icd10cm&q=E11.9&limit=3")
        #expect(prefix.status == 200, "\(prefix.bodyText)")
        let first = try #require(items(prefix).first)
        #expect(first["code"] as? String == "E119")
        #expect(first["display"] as? String == "E11.9")
        #expect(first["description"] as? String == "Type 2 diabetes mellitus without complications")
        #expect(first["billable"] as? Bool == true)
        #expect(first["sexEdit"] == nil)

        let words = items(platform.get("/api/billing/codes?system=icd10cm&q=diabetes%20type%202&limit=5"))
        #expect(words.count == 5)
        #expect(words.allSatisfy { ($0["code"] as? String)?.hasPrefix("E11") == true })

        let delivery = try #require(items(platform.get("/api/billing/codes?system=icd10cm&q=O80")).first)
        #expect(delivery["sexEdit"] as? String == "female")
        #expect((delivery["ageEdit"] as? [String: Any])?["min"] as? Int == 12)
        #expect((delivery["ageEdit"] as? [String: Any])?["max"] as? Int == 55)

        #expect(items(platform.get("/api/billing/codes?system=hcpcs&q=j1100")).first?["code"] as? String == "J1100")
        #expect(items(platform.get("/api/billing/codes?system=icd10cm&q=E11.9&date=2025-01-01")).isEmpty)

        let local = items(platform.get("/api/billing/codes?system=local&q=consult"))
        #expect(local.compactMap { $0["code"] as? String } == ["OPD001", "OPD002"])
        let blood = items(platform.get("/api/billing/codes?system=local&q=lab&locationId=loc_andheri"))
        #expect(blood.compactMap { $0["code"] as? String } == ["LAB025", "LAB031", "LAB040"])
        #expect(items(platform.get("/api/billing/codes?system=cpt&q=99213")).isEmpty)  // no licensed file
    }

    @Test("one code: the scrubber's facts, or 404")
    func read() throws {
        let platform = try TestPlatform()
        let code = platform.get("/api/billing/codes/icd10cm/P07.30")
        #expect(code.status == 200, "\(code.bodyText)")
        #expect(code.object["billable"] as? Bool == true)
        #expect(code.object["effectiveFrom"] as? String == "2025-10-01")
        #expect((code.object["ageEdit"] as? [String: Any])?["max"] as? Int == 0)
        #expect(platform.get("/api/billing/codes/icd10cm/E11").object["billable"] as? Bool == false)
        #expect(platform.get("/api/billing/codes/icd10cm/E11.99").status == 404)
        #expect(platform.get("/api/billing/codes/icd10cm/E11.9?date=2020-01-01").status == 404)
        #expect(platform.get("/api/billing/codes/cpt/99213").status == 200)
        #expect(platform.get("/api/billing/codes/cpt/9921").status == 404)
        #expect(
            platform.get("/api/billing/codes/local/OPD001").object["description"] as? String == "Doctor Consultation")
        #expect(platform.get("/api/billing/codes/snomed/1234").status == 422)
    }

    @Test("bad input is a 422 naming each parameter; roles decide who may search")
    func badInput() throws {
        let platform = try TestPlatform()
        func pointers(_ path: String) throws -> Set<String> {
            let response = platform.get(path)
            #expect(response.status == 422, "\(path): \(response.status)")
            return Set(try response.decode(Problem.self).errors.map(\.pointer))
        }
        #expect(try pointers("/api/billing/codes?q=E11") == ["query:system"])
        #expect(try pointers("/api/billing/codes?system=icd9&q=E11") == ["query:system"])
        #expect(try pointers("/api/billing/codes?system=icd10cm") == ["query:q"])
        #expect(try pointers("/api/billing/codes?system=icd10cm&q=%20%20") == ["query:q"])
        let long = String(repeating: "a", count: 101)
        #expect(try pointers("/api/billing/codes?system=icd10cm&q=\(long)") == ["query:q"])
        #expect(try pointers("/api/billing/codes?system=icd10cm&q=E11&limit=0") == ["query:limit"])
        #expect(try pointers("/api/billing/codes?system=icd10cm&q=E11&limit=101") == ["query:limit"])
        #expect(try pointers("/api/billing/codes?system=icd10cm&q=E11&limit=x") == ["query:limit"])
        #expect(
            try pointers("/api/billing/codes?system=x&limit=x&date=2026-02-30") == [
                "query:system", "query:q", "query:limit", "query:date",
            ])

        let accountant = try platform.platform.systemToken(roles: [.accountant], lifetime: 600)
        #expect(
            platform.get(
                "/api/billing/codes?system=icd10cm&q=E11", headers: [("Authorization", "Bearer " + accountant)]
            )
            .status == 403)
        let clinician = try platform.platform.systemToken(roles: [.clinician], lifetime: 600)
        #expect(
            platform.get("/api/billing/codes?system=icd10cm&q=E11", headers: [("Authorization", "Bearer " + clinician)])
                .status == 200)
    }
}
