import Foundation
import RCMCore
import RCMHTTP
import RCMSecurity
import RCMStorage
import RCMTestSupport
import Testing

@testable import RCMPlatform

@Suite("Patients, insurance, health and operations")
struct ServiceTests {
    @Test("registering gives an id and a record number per organization; search is prefix, case and accent-insensitive")
    func patients() throws {
        let platform = try TestPlatform()
        let created = platform.post(
            "/api/patients",
            #"{"locationId": "loc_powai", "givenName": "José", "familyName": "Álvarez", "dateOfBirth": "1990-02-03", "sex": "male", "phone": "+91 98200 33333"}"#
        )
        #expect(created.status == 201)
        let patient = created.object
        #expect(patient["id"] as? String == "P10004")  // after the three demo patients
        #expect(patient["mrn"] as? String == "MRN0000004")
        #expect(created.headers["ETag"] == "\"1\"")
        for query in ["name=alv", "name=ALVAREZ", "name=jose", "name=Jos%C3%A9%20%C3%81l", "dateOfBirth=1990-02-03"] {
            let items = try platform.json("/api/patients?\(query)")["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["id"] as? String } == ["P10004"], "\(query)")
        }
        #expect((try platform.json("/api/patients?name=zzz")["items"] as? [Any])?.isEmpty == true)
        // A % in the name is a character to find, not a LIKE wildcard.
        #expect((try platform.json("/api/patients?name=%25")["items"] as? [Any])?.isEmpty == true)
        let page = try platform.json("/api/patients?limit=2")
        #expect((page["items"] as? [Any])?.count == 2)
        let next = try #require(page["nextCursor"] as? String)
        #expect((try platform.json("/api/patients?limit=2&cursor=\(next)")["items"] as? [Any])?.count == 2)
    }

    @Test("updates need the current ETag when If-Match is sent")
    func updates() throws {
        let platform = try TestPlatform()
        let stale = platform.request(
            .PATCH, "/api/patients/P10001",
            headers: [("Content-Type", "application/json"), ("If-Match", "\"7\"")],
            body: #"{"phone": "+91 1111 22222"}"#)
        #expect(stale.status == 412)
        let fresh = platform.request(
            .PATCH, "/api/patients/P10001",
            headers: [("Content-Type", "application/json"), ("If-Match", "\"1\"")],
            body: #"{"phone": "+91 1111 22222"}"#)
        #expect(fresh.status == 200)
        #expect(fresh.headers["ETag"] == "\"2\"")
        #expect(try platform.json("/api/patients/P10001")["phone"] as? String == "+91 1111 22222")
        #expect(platform.get("/api/patients/P99999").status == 404)
    }

    @Test("the active coverage on a date, and none outside its dates")
    func coverage() throws {
        let platform = try TestPlatform()
        let active = try platform.json("/api/insurance/patients/P10001/active-coverage?date=2026-06-01")
        #expect(active["memberId"] as? String == "SH-DEDMET-445566")
        #expect(decimal(active["copay"]) == 100)
        #expect(decimal(active["coinsurancePercent"]) == 10)
        #expect(platform.get("/api/insurance/patients/P10001/active-coverage?date=2031-01-01").status == 404)
        #expect(platform.get("/api/insurance/patients/P10002/active-coverage").status == 404)
        #expect(platform.get("/api/insurance/patients/P10001/active-coverage?date=June").status == 422)
        let payers = try platform.json("/api/insurance/payers")["items"] as? [[String: Any]] ?? []
        #expect(payers.count == 2)
        let duplicate = platform.post("/api/insurance/payers", #"{"name": "Again", "payerCode": "STARHEALTH"}"#)
        #expect(duplicate.status == 409)
        let unknownPatient = platform.post(
            "/api/insurance/coverages",
            #"{"patientId": "P99999", "payerId": "x", "planName": "p", "memberId": "m", "relationship": "self", "validFrom": "2026-01-01"}"#
        )
        #expect(try unknownPatient.decode(Problem.self).errors.map(\.pointer) == ["/patientId"])
    }

    @Test("an invoice on a date outside the coverage is the patient's")
    func coverageDates() throws {
        let platform = try TestPlatform()
        let body = #"{"patientId": "P10001", "dateOfService": "2024-03-01", "services": [{"code": "OPD001"}]}"#
        let invoice = platform.post("/api/billing/generate", body).object
        #expect(decimal(invoice["total"]) == 400)  // the charge master's price when no cost is given
        #expect(decimal(invoice["patientAmount"]) == 400)
        #expect(invoice["coverage"] == nil)
    }

    @Test("health: live always, ready when every database answers")
    func health() throws {
        let platform = try TestPlatform(demo: false)
        #expect(platform.get("/health/live").status == 200)
        let ready = platform.get("/health/ready")
        #expect(ready.status == 200)
        #expect((ready.object["databases"] as? [String: String])?.count == 8)
    }

    @Test("operators list dead letters and replay them, over HTTP and with the rcm command")
    func deadLetters() throws {
        let platform = try TestPlatform()
        #expect(platform.post("/api/billing/generate", TestPlatform.specificationBody).status == 201)
        // As if reporting had refused the event eight times (SQLite: a failed delivery gets a row
        // and the subscriber's cursor moves past it).
        let billing = try #require(platform.platform.databases["billing"])
        try billing.write { connection in
            if billing.dialect == .sqlite {
                try connection.execute(
                    """
                    INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at, last_error)
                    SELECT seq, id, 'reporting', 'dead', 8, 0, 'refused' FROM outbox_events WHERE type = 'invoice.issued'
                    """)
                try connection.execute(
                    """
                    INSERT INTO outbox_cursors (subscriber, delivered_seq)
                    SELECT 'reporting', MAX(seq) FROM outbox_events WHERE type = 'invoice.issued'
                    """)
                return
            }
            try connection.execute(
                """
                UPDATE outbox_deliveries SET status = 'dead', attempts = 8, last_error = 'refused'
                WHERE subscriber = 'reporting' AND event_id IN (SELECT id FROM outbox_events WHERE type = 'invoice.issued')
                """)
        }
        try platform.platform.drainEvents()
        #expect(try platform.json("/api/reporting/summary")["invoiceCount"] as? Int == 0)
        let letters = try platform.json("/api/events/dead-letters")["items"] as? [[String: Any]] ?? []
        #expect(letters.count == 1)
        #expect(letters.first?["subscriber"] as? String == "reporting")
        let eventId = try #require(letters.first?["eventId"] as? String)

        var arguments = ["events", "replay", eventId, "--data-dir", platform.configuration.dataDirectory]
        if let url = platform.configuration.databaseURL {
            arguments += ["--database-url", url, "--schema-prefix", platform.configuration.schemaPrefix]
        }
        #expect(RCMCommand.run(arguments) == 0)
        #expect(RCMCommand.run(["events", "replay", "evt_nope"] + arguments.dropFirst(3)) != 0)
        try platform.platform.drainEvents()
        let summary = try platform.json("/api/reporting/summary")
        #expect(summary["invoiceCount"] as? Int == 1)
        #expect((try platform.json("/api/events/dead-letters")["items"] as? [Any])?.isEmpty == true)
        #expect(platform.post("/api/events/dead-letters/\(eventId)/replay", "").status == 404)
    }
}

@Suite("Services in separate processes")
struct SplitTopologyTests {
    @Test("billing in one platform asks patient and insurance in another over HTTP")
    func billingCallsOverHTTP() throws {
        // Identity lives with patient and insurance; billing has keys of its own and verifies
        // identity's tokens through its JWKS.
        let owners = try TestPlatform(services: ["identity", "patient", "insurance"])
        let port = try owners.platform.serve()
        let billing = try TestPlatform(
            demo: false, services: ["billing"],
            serviceURLs: [
                "patient": URL(string: "http://127.0.0.1:\(port)")!,
                "insurance": URL(string: "http://127.0.0.1:\(port)")!,
                "identity": URL(string: "http://127.0.0.1:\(port)")!,
            ])
        // A token identity signed; billing holds no copy of identity's key.
        let identityToken = [("Authorization", "Bearer " + owners.token)]
        #expect(billing.platform.keys.publicKeys[owners.platform.keys.active.kid] == nil)
        for code in ["OPD001", "LAB025"] {
            let price = code == "OPD001" ? "400" : "250"
            let response = billing.request(
                .PUT, "/api/billing/charge-items/loc_andheri/\(code)",
                headers: identityToken + [("Content-Type", "application/json")],
                body: #"{"description": "x", "price": \#(price)}"#)
            #expect(response.status == 200)
        }
        let invoice = billing.post("/api/billing/generate", TestPlatform.specificationBody, headers: identityToken)
        #expect(invoice.status == 201)
        #expect(decimal(invoice.object["payerAmount"]) == 495)
        let unknown = billing.post(
            "/api/billing/generate", #"{"patientId": "P99999", "services": [{"code": "OPD001"}]}"#,
            headers: identityToken)
        #expect(try unknown.decode(Problem.self).errors.map(\.pointer) == ["/patientId"])
        // A token from a key identity does not publish is refused.
        let stranger = try SigningKey.generate()
        let now = Int64(Date().timeIntervalSince1970)
        let forged = try JWT.sign(
            AccessClaims(
                iss: "rcm", aud: "rcm-api", sub: "usr_x", org: "org_demo", roles: ["admin"], locations: [], iat: now,
                exp: now + 60, jti: "j"),
            with: stranger)
        #expect(billing.get("/api/billing/invoices", headers: [("Authorization", "Bearer " + forged)]).status == 401)
    }
}
