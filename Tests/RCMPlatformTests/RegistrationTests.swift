import Foundation
import RCMCore
import RCMHTTP
import Testing

@testable import RCMPlatform

@Suite("Registration: demographics, duplicates, merges, search by member id")
struct RegistrationTests {
    static let full = #"""
        {"locationId": "loc_andheri", "namePrefix": "Dr", "givenName": "Meera", "middleName": "S",
         "familyName": "Iyer", "nameSuffix": "Jr", "dateOfBirth": "1970-05-06", "sex": "female",
         "genderIdentity": "woman", "preferredLanguage": "mr-IN", "phone": "+91 98200 44444",
         "identifiers": [{"system": "aadhaar", "value": "2345 6789 0123"}],
         "guarantor": {"name": "Suresh Iyer", "relationship": "spouse", "phone": "+91 98200 55555"},
         "emergencyContact": {"name": "Anil Iyer", "relationship": "son", "phone": "+91 98200 66666"},
         "consents": [{"type": "treatment", "grantedOn": "2026-01-10"},
                      {"type": "sms", "grantedOn": "2026-01-10", "withdrawnOn": "2026-03-01"}]}
        """#

    @Test("every registration field is kept; guarantor and emergency contact are stored encrypted")
    func fullRecord() throws {
        let platform = try TestPlatform()
        let created = platform.post("/api/patients", Self.full)
        #expect(created.status == 201, "\(created.bodyText)")
        let patient = created.object
        let id = try #require(patient["id"] as? String)
        let read = try platform.json("/api/patients/\(id)")
        #expect(read["middleName"] as? String == "S")
        #expect(read["namePrefix"] as? String == "Dr")
        #expect(read["nameSuffix"] as? String == "Jr")
        #expect(read["genderIdentity"] as? String == "woman")
        #expect(read["preferredLanguage"] as? String == "mr-IN")
        #expect((read["guarantor"] as? [String: Any])?["name"] as? String == "Suresh Iyer")
        #expect((read["emergencyContact"] as? [String: Any])?["relationship"] as? String == "son")
        let consents = try #require(read["consents"] as? [[String: Any]])
        #expect(consents.count == 2)
        #expect(consents[1]["withdrawnOn"] as? String == "2026-03-01")
        // At rest: no plaintext of the contacts.
        let raw = try #require(
            try platform.platform.databases["patient"]?.read {
                try $0.queryFirst("SELECT contacts FROM patients WHERE id = \(id)")
            })
        let sealed = try #require(raw.optionalString("contacts"))
        #expect(!sealed.contains("Suresh"))
    }

    @Test("a likely duplicate answers 409 with the candidates unless the caller confirms")
    func duplicates() throws {
        let platform = try TestPlatform()
        #expect(platform.post("/api/patients", Self.full).status == 201)
        // Same name (other case and accents) and date of birth.
        let sameName =
            #"{"locationId": "loc_powai", "givenName": "MEERA", "familyName": "Íyer", "dateOfBirth": "1970-05-06", "sex": "female"}"#
        let conflict = platform.post("/api/patients", sameName)
        #expect(conflict.status == 409)
        let problem = conflict.object
        #expect((problem["type"] as? String)?.hasSuffix("possible-duplicate") == true)
        let candidates = try #require(problem["candidates"] as? [[String: Any]])
        #expect(candidates.count == 1)
        #expect(candidates[0]["matchedOn"] as? String == "name and date of birth")
        // Same identifier, different name.
        let sameIdentifier =
            #"{"locationId": "loc_powai", "givenName": "M", "familyName": "Other", "dateOfBirth": "1971-01-01", "sex": "female", "identifiers": [{"system": "aadhaar", "value": "234567890123"}]}"#
        let second = platform.post("/api/patients", sameIdentifier)
        #expect(second.status == 409)
        #expect((second.object["candidates"] as? [[String: Any]])?.first?["matchedOn"] as? String == "identifier")
        let before = try platform.count("patient", "patients")
        // Confirmed: registered.
        let confirmed = platform.post(
            "/api/patients", String(sameName.dropLast()) + #", "confirmNotDuplicate": true}"#)
        #expect(confirmed.status == 201)
        #expect(try platform.count("patient", "patients") == before + 1)
    }

    @Test("merging keeps both records, redirects the old id and shows both histories under the survivor")
    func merge() throws {
        let platform = try TestPlatform()
        let first = try #require(platform.post("/api/patients", Self.full).object["id"] as? String)
        let second = try #require(
            platform.post(
                "/api/patients",
                #"{"locationId": "loc_andheri", "givenName": "Meera", "familyName": "Iyer", "dateOfBirth": "1970-05-06", "sex": "female", "confirmNotDuplicate": true}"#
            ).object["id"] as? String)
        let merged = platform.post(
            "/api/patients/\(second)/merge", #"{"into": "\#(first)", "reason": "registered twice"}"#)
        #expect(merged.status == 200, "\(merged.bodyText)")
        #expect(merged.object["id"] as? String == first)
        let old = platform.get("/api/patients/\(second)")
        #expect(old.status == 308)
        #expect(old.headers["Location"] == "/api/patients/\(first)")
        // The summary other services read follows the merge.
        let summary = try platform.json("/api/patients/\(second)?view=summary")
        #expect(summary["id"] as? String == first)
        #expect(summary["mergedFrom"] as? String == second)
        // Search no longer lists the merged record.
        let found = try platform.json("/api/patients?name=iyer")["items"] as? [[String: Any]] ?? []
        #expect(found.map { $0["id"] as? String } == [first])
        // Both histories: the reporting timeline of the survivor has the merged record's registration.
        try platform.platform.drainEvents()
        let timeline =
            try platform.json("/api/reporting/timeline?patientId=\(first)")["items"] as? [[String: Any]] ?? []
        let patients = Set(timeline.compactMap { $0["patientId"] as? String })
        #expect(patients == [first, second])
        #expect(timeline.contains { ($0["summary"] as? String)?.contains("merged into") == true })
        // Merging again, or into a merged record, is refused and changes nothing.
        #expect(platform.post("/api/patients/\(second)/merge", #"{"into": "\#(first)"}"#).status == 409)
        #expect(platform.post("/api/patients/\(first)/merge", #"{"into": "\#(second)"}"#).status == 422)
        #expect(platform.post("/api/patients/\(first)/merge", #"{"into": "\#(first)"}"#).status == 422)
        let patch = platform.request(
            .PATCH, "/api/patients/\(second)", headers: [("Content-Type", "application/json")],
            body: #"{"givenName": "X"}"#)
        #expect(patch.status == 409)
    }

    @Test("search by member id goes through the insurance service's blind index")
    func memberIdSearch() throws {
        let platform = try TestPlatform()
        let items = try platform.json("/api/patients?memberId=SH-DEDMET-445566")["items"] as? [[String: Any]] ?? []
        #expect(items.map { $0["id"] as? String } == ["P10001"])
        #expect((try platform.json("/api/patients?memberId=NOPE")["items"] as? [Any])?.isEmpty == true)
    }

    @Test("bad registration details are refused naming the field, and nothing is written")
    func badInput() throws {
        let platform = try TestPlatform()
        let before = try platform.count("patient", "patients")
        let cases: [(String, String)] = [
            (#""preferredLanguage": "english language""#, "/preferredLanguage"),
            (#""guarantor": {"name": "", "relationship": "spouse"}"#, "/guarantor/name"),
            (#""emergencyContact": {"name": "A", "relationship": "son", "phone": "12"}"#, "/emergencyContact/phone"),
            (#""consents": [{"type": "sms", "grantedOn": "2999-01-01"}]"#, "/consents/0/grantedOn"),
            (
                #""consents": [{"type": "sms", "grantedOn": "2026-01-01", "withdrawnOn": "2025-01-01"}]"#,
                "/consents/0/withdrawnOn"
            ),
        ]
        for (field, pointer) in cases {
            let body =
                #"{"locationId": "loc_andheri", "givenName": "Z", "familyName": "Q", "dateOfBirth": "1990-01-01", "sex": "male", "#
                + field + "}"
            let response = platform.post("/api/patients", body)
            #expect(response.status == 422, "\(field)")
            let errors = response.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.contains { $0["pointer"] as? String == pointer }, "\(field): \(response.bodyText)")
        }
        #expect(try platform.count("patient", "patients") == before)
    }
}
