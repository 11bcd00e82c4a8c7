import Foundation
import RCMCore
import RCMHTTP
import Testing

@testable import RCMPlatform

@Suite("Encounters, fee schedules, taxes and estimates")
struct EncounterTests {
    static let visit = #"""
        {"patientId": "P10001", "renderingProviderNPI": "1467532986", "placeOfService": "11",
         "diagnoses": ["E11.9", "I10"],
         "services": [{"code": "OPD001", "diagnosisPointers": [1, 2]},
                      {"code": "LAB025", "units": 2, "diagnosisPointers": [1]}],
         "notes": "Follow-up of type 2 diabetes; HbA1c ordered."}
        """#

    @Test("signing an encounter creates its charges; billing generates the invoice from it, once")
    func signAndBill() throws {
        let platform = try TestPlatform()
        let created = platform.post("/api/billing/encounters", Self.visit)
        #expect(created.status == 201, "\(created.bodyText)")
        let id = try #require(created.object["id"] as? String)
        #expect(created.object["status"] as? String == "draft")
        // A draft is not billed.
        let early = platform.post("/api/billing/generate", #"{"encounterId": "\#(id)"}"#)
        #expect(early.status == 409)
        let signed = platform.post("/api/billing/encounters/\(id)/sign", "{}")
        #expect(signed.status == 200, "\(signed.bodyText)")
        let charges = try #require(signed.object["charges"] as? [[String: Any]])
        #expect(charges.map { decimal($0["amount"]) } == [400, 500])
        #expect(platform.post("/api/billing/encounters/\(id)/sign", "{}").status == 409)
        // Notes are stored encrypted.
        let raw = try #require(
            try platform.platform.databases["billing"]?.read {
                try $0.queryFirst("SELECT notes FROM encounters WHERE id = \(id)")
            })
        #expect(raw.optionalString("notes")?.contains("HbA1c") == false)

        let invoice = platform.post("/api/billing/generate", #"{"encounterId": "\#(id)"}"#)
        #expect(invoice.status == 201, "\(invoice.bodyText)")
        #expect(decimal(invoice.object["total"]) == 900)
        let lines = invoice.object["lines"] as? [[String: Any]] ?? []
        #expect(lines.map { $0["quantity"] as? Int } == [1, 2])
        let again = platform.post("/api/billing/generate", #"{"encounterId": "\#(id)"}"#)
        #expect(again.status == 409)
        #expect((again.object["type"] as? String)?.hasSuffix("already-billed") == true)
        // Voided, it can be billed again.
        let invoiceId = try #require(invoice.object["id"] as? String)
        #expect(platform.post("/api/billing/invoices/\(invoiceId)/void", #"{"reason": "rebill"}"#).status == 200)
        #expect(platform.post("/api/billing/generate", #"{"encounterId": "\#(id)"}"#).status == 201)
    }

    @Test("amending makes a new version and correcting charges; nothing is edited in place")
    func amend() throws {
        let platform = try TestPlatform()
        let id = try #require(platform.post("/api/billing/encounters", Self.visit).object["id"] as? String)
        #expect(platform.post("/api/billing/encounters/\(id)/sign", "{}").status == 200)
        // Drop the lab, bill the consultation with modifier 25: both lines change.
        let amended = platform.post(
            "/api/billing/encounters/\(id)/amend",
            #"{"patientId": "P10001", "renderingProviderNPI": "1467532986", "diagnoses": ["E11.9"], "services": [{"code": "OPD001", "modifiers": ["25"]}], "amendmentReason": "lab not done"}"#
        )
        #expect(amended.status == 200, "\(amended.bodyText)")
        #expect((amended.object["encounter"] as? [String: Any])?["version"] as? Int == 2)
        let corrections = try #require(amended.object["charges"] as? [[String: Any]])
        #expect(corrections.map { decimal($0["amount"]) }.sorted { $0! < $1! } == [-500, -400, 400])
        let all = try platform.json("/api/billing/encounters/\(id)/charges")
        #expect(decimal(all["total"]) == 400)
        #expect((all["items"] as? [Any])?.count == 5)
        // Version 1 is still there, unchanged.
        let first = try platform.json("/api/billing/encounters/\(id)?version=1")
        #expect((first["services"] as? [Any])?.count == 2)
        // An amendment needs a reason; a draft cannot be amended.
        let noReason = platform.post("/api/billing/encounters/\(id)/amend", Self.visit)
        #expect(noReason.status == 422)
        #expect((noReason.object["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/amendmentReason")
        let draft = try #require(platform.post("/api/billing/encounters", Self.visit).object["id"] as? String)
        #expect(
            platform.post(
                "/api/billing/encounters/\(draft)/amend", String(Self.visit.dropLast(1)) + #", "amendmentReason": "x"}"#
            )
            .status == 409)
    }

    @Test("bad encounters are refused naming the line and field, and nothing is written")
    func badInput() throws {
        let platform = try TestPlatform()
        let before = try platform.count("billing", "encounters")
        let cases: [(String, String)] = [
            (#""diagnoses": ["E11.9"], "services": [{"code": "OPD001", "units": 0}]"#, "/services/0/units"),
            (
                #""diagnoses": ["E11.9"], "services": [{"code": "OPD001", "modifiers": ["2"]}]"#,
                "/services/0/modifiers/0"
            ),
            (
                #""diagnoses": ["E11.9"], "services": [{"code": "OPD001", "diagnosisPointers": [2]}]"#,
                "/services/0/diagnosisPointers/0"
            ),
            (#""diagnoses": ["11.9"], "services": [{"code": "OPD001"}]"#, "/diagnoses/0"),
            (#""diagnoses": ["E11.9"], "services": [{"system": "cpt", "code": "9921"}]"#, "/services/0/code"),
            (#""diagnoses": ["E11.9"], "services": [{"code": "NOPE01"}]"#, "/services/0/code"),
            (
                #""diagnoses": ["E11.9"], "dateOfService": "2999-01-01", "services": [{"code": "OPD001"}]"#,
                "/dateOfService"
            ),
            (#""diagnoses": ["E11.9"], "services": [{"code": "OPD001", "ndc": "1234"}]"#, "/services/0/ndc"),
            // Code-set checks: a category header is not billable; an unknown code is refused.
            (#""diagnoses": ["I10", "E11"], "services": [{"code": "OPD001"}]"#, "/diagnoses/1"),
            (#""diagnoses": ["U99.9"], "services": [{"code": "OPD001"}]"#, "/diagnoses/0"),
        ]
        for (fields, pointer) in cases {
            let body = #"{"patientId": "P10001", "renderingProviderNPI": "1467532986", "# + fields + "}"
            let response = platform.post("/api/billing/encounters", body)
            #expect(response.status == 422, "\(fields)")
            let errors = response.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.contains { $0["pointer"] as? String == pointer }, "\(fields): \(response.bodyText)")
        }
        let badNPI = platform.post(
            "/api/billing/encounters", Self.visit.replacingOccurrences(of: "1467532986", with: "1234567890"))
        #expect((badNPI.object["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/renderingProviderNPI")
        #expect(try platform.count("billing", "encounters") == before)
    }

    @Test(
        "the charge comes from the schedule in force on the date of service; payer contracts and modifiers price lines")
    func feeSchedule() throws {
        let platform = try TestPlatform()
        // A new consultation price from 2026-06-01.
        #expect(
            platform.request(
                .PUT, "/api/billing/fee-schedule", headers: [("Content-Type", "application/json")],
                body:
                    #"{"locationId": "loc_andheri", "code": "OPD001", "description": "Doctor Consultation", "amount": 450, "effectiveFrom": "2026-06-01"}"#
            ).status == 200)
        func total(_ date: String) -> Decimal? {
            decimal(
                platform.post(
                    "/api/billing/generate",
                    #"{"patientId": "P10002", "dateOfService": "\#(date)", "services": [{"code": "OPD001"}]}"#
                ).object["total"])
        }
        #expect(total("2026-05-31") == 400)
        #expect(total("2026-06-01") == 450)
        // The in-force listing and the CSV export.
        let inForce =
            try platform.json("/api/billing/fee-schedule?locationId=loc_andheri&date=2026-05-31")["items"]
            as? [[String: Any]] ?? []
        #expect(decimal(inForce.first { $0["code"] as? String == "OPD001" }?["amount"]) == 400)
        let export = platform.get("/api/billing/fee-schedule?locationId=loc_andheri&format=csv")
        #expect(export.headers["Content-Type"]?.hasPrefix("text/csv") == true)
        #expect(export.bodyText.contains("loc_andheri,OPD001,,,Doctor Consultation,450.00,2026-06-01,"))
        #expect(export.bodyText.contains("loc_andheri,OPD001,,,Doctor Consultation,400.00,1900-01-01,2026-05-31"))

        // Import: a payer contract and a modifier price; one bad row rejects the whole file.
        let payers = try platform.json("/api/insurance/payers")["items"] as? [[String: Any]] ?? []
        let star = try #require(payers.first { $0["payerCode"] as? String == "STARHEALTH" }?["id"] as? String)
        let bad = """
            locationId,code,modifier,payerId,description,amount,effectiveFrom,effectiveTo
            loc_andheri,OPD001,,\(star),Consultation (Star contract),350,2025-01-01,
            loc_andheri,LAB025,TC,,Blood test (technical),12.345,2025-01-01,
            loc_andheri,LAB025,X,,Blood test,100,2025-13-01,
            """
        let rejected = platform.request(
            .POST, "/api/billing/fee-schedule/import", headers: [("Content-Type", "text/csv")], body: bad)
        #expect(rejected.status == 422)
        let pointers = Set(
            (rejected.object["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String })
        #expect(pointers == ["/rows/2/amount", "/rows/3/modifier", "/rows/3/effectiveFrom"])
        let good = """
            locationId,code,modifier,payerId,description,amount,effectiveFrom,effectiveTo
            loc_andheri,OPD001,,\(star),"Consultation, Star contract",350,2025-01-01,
            loc_andheri,LAB025,TC,,Blood test (technical),150,2025-01-01,
            """
        let imported = platform.request(
            .POST, "/api/billing/fee-schedule/import", headers: [("Content-Type", "text/csv")], body: good)
        #expect(imported.status == 200, "\(imported.bodyText)")
        #expect(imported.object["imported"] as? Int == 2)
        // P10001 is insured by Star: the contracted amount is billed.
        let insured = platform.post(
            "/api/billing/generate",
            #"{"patientId": "P10001", "dateOfService": "2026-05-01", "services": [{"code": "OPD001"}]}"#)
        #expect(decimal(insured.object["total"]) == 350)
        #expect(
            platform.request(
                .POST, "/api/billing/fee-schedule/import", headers: [("Content-Type", "application/json")], body: "{}"
            ).status == 415)
    }

    @Test("a tax rule adds the patient's tax to the lines it names; none by default")
    func taxes() throws {
        let platform = try TestPlatform()
        let rule = platform.request(
            .PUT, "/api/billing/tax-rules/LAB025", headers: [("Content-Type", "application/json")],
            body: #"{"name": "GST 18%", "ratePercent": 18, "effectiveFrom": "2025-01-01"}"#)
        #expect(rule.status == 200, "\(rule.bodyText)")
        let invoice = platform.post(
            "/api/billing/generate", #"{"patientId": "P10002", "services": [{"code": "OPD001"}, {"code": "LAB025"}]}"#
        ).object
        let lines = invoice["lines"] as? [[String: Any]] ?? []
        #expect(lines[0]["taxAmount"] == nil)
        #expect(decimal(lines[1]["taxAmount"]) == 45)
        #expect(lines[1]["taxName"] as? String == "GST 18%")
        #expect(decimal(invoice["total"]) == 695)
        #expect(decimal(invoice["patientAmount"]) == 695)
        let badRate = platform.request(
            .PUT, "/api/billing/tax-rules/LAB025", headers: [("Content-Type", "application/json")],
            body: #"{"name": "GST", "ratePercent": 180}"#)
        #expect(badRate.status == 422)
    }

    @Test("estimates explain each line: insured from the encounter or services, self-pay with a Good Faith Estimate")
    func estimates() throws {
        let platform = try TestPlatform()
        // P10001: copay 100, deductible met, coinsurance 10% (as registered).
        let insured = platform.post(
            "/api/billing/estimates", #"{"patientId": "P10001", "services": [{"code": "OPD001"}, {"code": "LAB025"}]}"#)
        #expect(insured.status == 201, "\(insured.bodyText)")
        let estimate = insured.object
        #expect(decimal(estimate["patientAmount"]) == 155)
        #expect(decimal(estimate["payerAmount"]) == 495)
        let lines = estimate["lines"] as? [[String: Any]] ?? []
        let explanation = (lines.first?["explanation"] as? [String] ?? []).joined(separator: " ")
        #expect(explanation.contains("Copay: 100.00"))
        #expect(explanation.contains("Coinsurance: 10% of 300.00 = 30.00"))
        #expect(estimate["goodFaithEstimate"] == nil)
        // After the visit, from the encounter.
        let encounter = try #require(
            platform.post("/api/billing/encounters", EncounterTests.visit).object["id"] as? String)
        let after = platform.post("/api/billing/estimates", #"{"patientId": "P10001", "encounterId": "\#(encounter)"}"#)
        #expect(after.object["basis"] as? String == "encounter")
        #expect(decimal(after.object["total"]) == 900)
        // Self-pay: a Good Faith Estimate with codes and expected charges.
        let selfPay = platform.post(
            "/api/billing/estimates", #"{"patientId": "P10002", "services": [{"code": "LAB025", "units": 2}]}"#)
        let gfe = try #require(selfPay.object["goodFaithEstimate"] as? [String: Any])
        #expect(decimal(gfe["totalExpectedCharges"]) == 500)
        #expect((gfe["items"] as? [[String: Any]])?.first?["code"] as? String == "LAB025")
        #expect((gfe["disclaimer"] as? String)?.contains("Good Faith Estimate") == true)
        #expect(gfe["patientName"] as? String == "Rahul Mehta")
        // Bad: no source, two sources, an unknown code.
        #expect(platform.post("/api/billing/estimates", #"{"patientId": "P10001"}"#).status == 422)
        #expect(
            platform.post(
                "/api/billing/estimates", #"{"patientId": "P10001", "encounterId": "\#(encounter)", "services": []}"#
            )
            .status == 422)
        let unknown = platform.post(
            "/api/billing/estimates", #"{"patientId": "P10001", "services": [{"code": "NOPE"}]}"#)
        #expect((unknown.object["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/services/0/code")
    }

    @Test("the scrubber holds a claim with errors in the work queue; a clean one goes on as a draft")
    func scrubbing() throws {
        let platform = try TestPlatform()
        // P10001 is a woman: a male-only diagnosis (N40.0, benign prostatic hyperplasia) is a sex conflict.
        let conflicted = try #require(
            platform.post(
                "/api/billing/encounters",
                Self.visit.replacingOccurrences(of: #"["E11.9", "I10"]"#, with: #"["N40.0", "I10"]"#)
            ).object["id"] as? String)
        let onDemand = platform.post("/api/billing/encounters/\(conflicted)/scrub", "{}")
        #expect(onDemand.status == 200, "\(onDemand.bodyText)")
        #expect(onDemand.object["clean"] as? Bool == false)
        let findings = onDemand.object["findings"] as? [[String: Any]] ?? []
        #expect(findings.contains { $0["ruleId"] as? String == "SEX-001" && $0["path"] as? String == "/diagnoses/0" })
        #expect(platform.post("/api/billing/encounters/\(conflicted)/sign", "{}").status == 200)
        let held = platform.post("/api/billing/generate", #"{"encounterId": "\#(conflicted)"}"#)
        #expect(held.status == 201)
        #expect((held.object["scrub"] as? [String: Any])?["clean"] as? Bool == false)
        try platform.platform.drainEvents()
        let heldId = try #require(held.object["id"] as? String)
        let claim = try #require(
            (try platform.json("/api/claims?invoiceId=\(heldId)")["items"] as? [[String: Any]])?.first)
        #expect(claim["status"] as? String == "held")
        #expect((claim["findings"] as? [[String: Any]])?.contains { $0["ruleId"] as? String == "SEX-001" } == true)
        let queue = try platform.json("/api/claims?status=held")["items"] as? [[String: Any]] ?? []
        #expect(queue.map { $0["id"] as? String } == [claim["id"] as? String])
        // Released by a biller who checked it: held → draft; it cannot be submitted straight from held.
        let claimId = try #require(claim["id"] as? String)
        #expect(
            platform.post("/api/claims/\(claimId)/transitions", #"{"status": "submitted"}"#).status == 409)
        #expect(
            platform.post(
                "/api/claims/\(claimId)/transitions",
                #"{"status": "draft", "reason": "diagnosis confirmed by the doctor"}"#
            ).status == 200)

        // A clean encounter's claim goes on as a draft.
        let clean = try #require(platform.post("/api/billing/encounters", Self.visit).object["id"] as? String)
        #expect(platform.post("/api/billing/encounters/\(clean)/sign", "{}").status == 200)
        let invoice = platform.post("/api/billing/generate", #"{"encounterId": "\#(clean)"}"#)
        #expect((invoice.object["scrub"] as? [String: Any])?["clean"] as? Bool == true)
        try platform.platform.drainEvents()
        let invoiceId = try #require(invoice.object["id"] as? String)
        let draft = (try platform.json("/api/claims?invoiceId=\(invoiceId)")["items"] as? [[String: Any]])?.first
        #expect(draft?["status"] as? String == "draft")
    }
}
