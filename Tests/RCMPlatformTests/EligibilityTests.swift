import Foundation
import InsuranceService
import RCMCore
import RCMHTTP
import RCMStorage
import Testing

@testable import RCMPlatform

/// Runs an outside validator (a Python in a virtual environment named by an environment
/// variable); fails the test when the variable is missing, unless outside validators are
/// explicitly skipped with RCM_SKIP_OUTSIDE_VALIDATORS=1.
enum OutsideValidator {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Validates FHIR JSON documents with fhir.resources (R4B models); nil when skipped.
    static func fhir(_ documents: [String]) throws -> (ok: Bool, output: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let python = environment["RCM_FHIR_PYTHON"] else {
            if environment["RCM_SKIP_OUTSIDE_VALIDATORS"] == "1" { return nil }
            Issue.record("RCM_FHIR_PYTHON is not set: run the tests through scripts/test.sh")
            return (false, "")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fhir-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [String] = []
        for (index, document) in documents.enumerated() {
            let file = directory.appendingPathComponent("\(index).json")
            try document.write(to: file, atomically: true, encoding: .utf8)
            files.append(file.path)
        }
        return try run(python, [root.appendingPathComponent("scripts/validate-fhir.py").path] + files)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (ok: Bool, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus == 0, output)
    }
}

@Suite("Eligibility: X12 270/271, NHCX FHIR, connectors, cache, breaker, scheduling")
struct EligibilityTests {
    /// A payer and a coverage with this member id, of P10002 (registered uninsured in the demo) or
    /// of a new patient.
    static func coverage(
        _ platform: TestPlatform, memberId: String, payer: String? = nil, timeoutMilliseconds: Int = 300,
        patient: String? = nil
    ) throws -> String {
        let patientId: String
        if let patient {
            patientId = patient
        } else {
            let created = platform.post(
                "/api/patients",
                #"{"locationId": "loc_andheri", "givenName": "Test", "familyName": "\#(memberId)", "dateOfBirth": "1980-01-01", "sex": "female"}"#
            )
            patientId = try #require(created.object["id"] as? String, "\(created.bodyText)")
        }
        let payerId: String
        if let payer {
            payerId = payer
        } else {
            let created = platform.post(
                "/api/insurance/payers",
                #"{"name": "Sim Payer \#(memberId)", "payerCode": "SIM\#(memberId.prefix(20))", "timeoutMilliseconds": \#(timeoutMilliseconds)}"#
            )
            payerId = try #require(created.object["id"] as? String, "\(created.bodyText)")
        }
        let coverage = platform.post(
            "/api/insurance/coverages",
            #"{"patientId": "\#(patientId)", "payerId": "\#(payerId)", "planName": "Gold", "memberId": "\#(memberId)", "relationship": "self", "validFrom": "2025-01-01", "copay": 50, "coinsurancePercent": 25, "deductible": 1000, "deductibleMet": 0}"#
        )
        return try #require(coverage.object["id"] as? String, "\(coverage.bodyText)")
    }

    static func check(_ platform: TestPlatform, _ coverage: String, extra: String = "") -> HTTPResponse {
        platform.post("/api/insurance/eligibility/checks", #"{"coverageId": "\#(coverage)"\#(extra)}"#)
    }

    @Test("the simulator answers through a real 270/271; benefits feed billing's split; answers are cached")
    func activeCoverage() throws {
        let platform = try TestPlatform()
        let coverage = try Self.coverage(platform, memberId: "MEM-1001", patient: "P10002")
        let response = Self.check(platform, coverage)
        #expect(response.status == 201, "\(response.bodyText)")
        let check = response.object
        #expect(check["status"] as? String == "active")
        #expect(check["retryable"] as? Bool == false)
        let result = try #require(check["result"] as? [String: Any])
        let share = try #require(result["costShare"] as? [String: Any])
        #expect(decimal(share["copay"]) == 100)
        #expect(decimal(share["coinsurancePercent"]) == 10)
        #expect(decimal(share["deductible"]) == 5000)
        #expect(decimal(share["deductibleRemaining"]) == 2000)
        #expect(decimal(share["outOfPocketRemaining"]) == 42000)
        #expect(decimal(share["familyDeductibleRemaining"]) == 7000)
        let controls = try #require(check["controlNumbers"] as? [String: Any])
        #expect((controls["interchange"] as? String)?.count == 9)
        let id = try #require(check["id"] as? String)

        // The raw exchange is kept: a 270 out, a 271 back, with matching control numbers.
        let raw = try platform.json("/api/insurance/eligibility/checks/\(id)/raw")
        let request = try #require(raw["request"] as? String)
        let answer = try #require(raw["response"] as? String)
        #expect(request.hasPrefix("ISA*") && request.contains("ST*270*") && request.contains("005010X279A1"))
        #expect(answer.contains("ST*271*") && answer.contains("EB*B*"))
        #expect(request.contains("NM1*IL*1*Mehta*Rahul****MI*MEM-1001"))

        // Billing's split now uses the payer's figures.
        let active = try platform.json("/api/insurance/patients/P10002/active-coverage")
        #expect(active["costShareSource"] as? String == "eligibility")
        #expect(decimal(active["copay"]) == 100)
        #expect(decimal(active["coinsurancePercent"]) == 10)
        #expect(decimal(active["deductibleMet"]) == 3000)
        #expect((active["eligibility"] as? [String: Any])?["checkId"] as? String == id)

        // Asked again: the cached answer, no second question to the payer.
        let before = try platform.count("insurance", "eligibility_checks")
        let again = Self.check(platform, coverage)
        #expect(again.status == 200)
        #expect(again.headers["X-Eligibility-Cache"] == "hit")
        #expect(again.object["id"] as? String == id)
        #expect(try platform.count("insurance", "eligibility_checks") == before)
        let forced = Self.check(platform, coverage, extra: #", "force": true"#)
        #expect(forced.status == 201)
        #expect(try platform.count("insurance", "eligibility_checks") == before + 1)

        // The event reaches the patient's timeline.
        try platform.platform.drainEvents()
        let timeline = try platform.json("/api/reporting/timeline?patientId=P10002")["items"] as? [[String: Any]] ?? []
        #expect(timeline.contains { $0["type"] as? String == "eligibility.checked" })
    }

    @Test("inactive, not found, payer down and timeout each give the front desk a clear state")
    func outcomes() throws {
        let platform = try TestPlatform()
        let inactive = Self.check(platform, try Self.coverage(platform, memberId: "INACT-1", patient: "P10002"))
        #expect(inactive.object["status"] as? String == "inactive")
        #expect((inactive.object["message"] as? String)?.contains("NOT active") == true)
        // A verified inactive answer stops billing from treating the patient as insured that day.
        #expect(platform.get("/api/insurance/patients/P10002/active-coverage").status == 404)

        let notFound = Self.check(platform, try Self.coverage(platform, memberId: "NOTFOUND-1")).object
        #expect(notFound["status"] as? String == "rejected")
        let rejection = try #require(((notFound["result"] as? [String: Any])?["rejections"] as? [[String: Any]])?.first)
        #expect(rejection["code"] as? String == "75")
        #expect((rejection["explanation"] as? String)?.isEmpty == false)

        let down = Self.check(platform, try Self.coverage(platform, memberId: "DOWN-1")).object
        #expect(down["status"] as? String == "not_verified")
        #expect(down["retryable"] as? Bool == true)

        let started = Date()
        let timeout = Self.check(platform, try Self.coverage(platform, memberId: "TIMEOUT-1", timeoutMilliseconds: 200))
        #expect(timeout.status == 201)
        #expect(timeout.object["status"] as? String == "not_verified")
        #expect(timeout.object["retryable"] as? Bool == true)
        #expect(Date().timeIntervalSince(started) < 3, "a payer that does not answer must not hang the front desk")
        // Not-verified answers are never cached: the next attempt asks again.
        let coverage = try #require(timeout.object["coverageId"] as? String)
        #expect(Self.check(platform, coverage).headers["X-Eligibility-Cache"] == "miss")
    }

    @Test("after repeated failures the payer's circuit opens and checks answer at once")
    func circuitBreaker() throws {
        let platform = try TestPlatform()
        let coverage = try Self.coverage(platform, memberId: "TIMEOUT-2", timeoutMilliseconds: 100)
        for _ in 0..<5 { _ = Self.check(platform, coverage) }
        let started = Date()
        let refused = Self.check(platform, coverage).object
        #expect(Date().timeIntervalSince(started) < 0.09)
        #expect(refused["status"] as? String == "not_verified")
        #expect((refused["message"] as? String)?.contains("failed repeatedly") == true)
    }

    @Test("X12 270/271 over HTTP, CAQH CORE multipart, against a payer on a real socket")
    func coreConnector() throws {
        let platform = try TestPlatform()
        let payer = PayerSimulatorServer()
        try payer.start()
        defer { payer.stop() }
        let created = platform.post(
            "/api/insurance/payers",
            #"{"name": "Core Payer", "payerCode": "COREPAYER", "connector": "x12-http", "x12Endpoint": "http://127.0.0.1:\#(payer.port)/core"}"#
        )
        let payerId = try #require(created.object["id"] as? String, "\(created.bodyText)")
        let active = Self.check(platform, try Self.coverage(platform, memberId: "C-100", payer: payerId)).object
        #expect(active["status"] as? String == "active", "\(active)")
        #expect(active["connector"] as? String == "x12-http")
        let notFound = Self.check(platform, try Self.coverage(platform, memberId: "NOTFOUND-C", payer: payerId)).object
        #expect(notFound["status"] as? String == "rejected")

        // A CORE endpoint that is not there: not verified, retryable, quickly.
        let gone = platform.post(
            "/api/insurance/payers",
            #"{"name": "Gone", "payerCode": "GONE", "connector": "x12-http", "x12Endpoint": "http://127.0.0.1:9/core", "timeoutMilliseconds": 1000}"#
        )
        let goneId = try #require(gone.object["id"] as? String)
        let unreachable = Self.check(platform, try Self.coverage(platform, memberId: "G-1", payer: goneId)).object
        #expect(unreachable["status"] as? String == "not_verified")
        #expect(unreachable["retryable"] as? Bool == true)
    }

    @Test("NHCX: the FHIR request is accepted, the answer arrives by on_check callback; both validate as FHIR")
    func nhcx() throws {
        let platform = try TestPlatform()
        let port = try platform.platform.serve()
        let integration = try platform.platform.systemToken(roles: [.integration], lifetime: 600)
        let gateway = PayerSimulatorServer(
            callbackURL: "http://127.0.0.1:\(port)/api/insurance/nhcx/coverageeligibility/on_check",
            callbackToken: integration)
        try gateway.start()
        defer { gateway.stop() }
        let created = platform.post(
            "/api/insurance/payers",
            #"{"name": "NHCX Payer", "payerCode": "1000003538@sbx", "connector": "nhcx", "fhirEndpoint": "http://127.0.0.1:\#(gateway.port)"}"#
        )
        let payerId = try #require(created.object["id"] as? String, "\(created.bodyText)")
        let sent = Self.check(platform, try Self.coverage(platform, memberId: "NH-1", payer: payerId))
        #expect(sent.status == 202, "\(sent.bodyText)")
        #expect(sent.object["status"] as? String == "pending")
        let id = try #require(sent.object["id"] as? String)
        var status = "pending"
        let deadline = Date().addingTimeInterval(5)
        while status == "pending", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            status = try platform.json("/api/insurance/eligibility/checks/\(id)")["status"] as? String ?? ""
        }
        #expect(status == "active")
        let check = try platform.json("/api/insurance/eligibility/checks/\(id)")
        #expect(decimal(((check["result"] as? [String: Any])?["costShare"] as? [String: Any])?["copay"]) == 100)

        // What went out (the request bundle) and what we serve (the response) are valid FHIR R4.
        let raw = try platform.json("/api/insurance/eligibility/checks/\(id)/raw")
        let envelope = try #require(
            try JSONSerialization.jsonObject(with: Data((raw["request"] as? String ?? "").utf8)) as? [String: Any])
        let bundle = String(
            decoding: try JSONSerialization.data(withJSONObject: try #require(envelope["payload"])), as: UTF8.self)
        let fhir = platform.get("/api/insurance/eligibility/checks/\(id)/fhir")
        #expect(fhir.status == 200)
        #expect(fhir.headers["Content-Type"] == "application/fhir+json")
        if let validation = try OutsideValidator.fhir([bundle, fhir.bodyText]) {
            #expect(validation.ok, "\(validation.output)")
        }

        // The callback is for the integration role; a repeated callback changes nothing.
        let callback = raw["response"] as? String ?? ""
        let replay = platform.request(
            .POST, "/api/insurance/nhcx/coverageeligibility/on_check",
            headers: [("Authorization", "Bearer " + integration), ("Content-Type", "application/json")], body: callback)
        #expect(replay.status == 202, "\(replay.bodyText)")
        let other = platform.request(
            .GET, "/api/insurance/eligibility/checks/\(id)", headers: [("Authorization", "Bearer " + integration)])
        #expect(other.status == 403)
        let unknown = platform.request(
            .POST, "/api/insurance/nhcx/coverageeligibility/on_check",
            headers: [("Authorization", "Bearer " + integration), ("Content-Type", "application/json")],
            body: callback.replacingOccurrences(of: id, with: "elg_unknown"))
        #expect(unknown.status == 404)
    }

    @Test("booked appointments are verified ahead by the scheduled job, and again at check-in")
    func scheduled() throws {
        let platform = try TestPlatform()
        let today = CalendarDate.today()
        let slots =
            try platform.json(
                "/api/patients/slots?appointmentType=FOLLOWUP&locationId=loc_andheri&from=\(today.adding(days: 1))&to=\(today.adding(days: 2))&limit=50"
            )["items"] as? [[String: Any]] ?? []
        let slot = try #require(slots.last, "no free slot in the next two days")
        let types = try platform.json("/api/patients/appointment-types")["items"] as? [[String: Any]] ?? []
        let followUp = try #require(types.first { $0["code"] as? String == "FOLLOWUP" }?["id"] as? String)
        let booked = platform.post(
            "/api/patients/appointments",
            #"{"patientId": "P10001", "providerId": "\#(slot["providerId"] as? String ?? "")", "locationId": "loc_andheri", "appointmentTypeId": "\#(followUp)", "start": "\#(slot["start"] as? String ?? "")"}"#
        )
        #expect(booked.status == 201, "\(booked.bodyText)")
        let appointment = try #require(booked.object["id"] as? String)
        try platform.platform.drainEvents()
        let ran = platform.post("/api/insurance/eligibility/run-due", "{}")
        #expect(ran.status == 200)
        #expect((ran.object["processed"] as? Int ?? 0) >= 1)
        func queued() throws -> Row {
            try #require(
                try platform.platform.databases["insurance"]?.read {
                    try $0.queryFirst(
                        "SELECT state, reason, check_id FROM eligibility_queue WHERE appointment_id = \(appointment)")
                })
        }
        #expect(try queued().string("state") == "done")
        // The demo's own appointments of P10001 may have been verified in the same run: the answer
        // is then shared through the cache.
        let checkId = try #require(try queued().optionalString("check_id"))
        let scheduled = try platform.json("/api/insurance/eligibility/checks/\(checkId)")
        #expect(scheduled["trigger"] as? String == "scheduled")
        #expect(scheduled["status"] as? String == "active")
        #expect(scheduled["appointmentId"] != nil)
        // P10001's member id asks the simulator for "deductible met": billing's split is unchanged.
        let active = try platform.json("/api/insurance/patients/P10001/active-coverage")
        #expect(active["costShareSource"] as? String == "eligibility")
        #expect(decimal(active["deductibleMet"]) == decimal(active["deductible"]))

        // Check-in queues it again; the fresh answer is reused rather than asking the payer twice.
        let before = try platform.count("insurance", "eligibility_checks")
        #expect(platform.post("/api/patients/appointments/\(appointment)/check-in", "{}").status == 200)
        try platform.platform.drainEvents()
        #expect(platform.post("/api/insurance/eligibility/run-due", "{}").object["processed"] as? Int == 1)
        #expect(try platform.count("insurance", "eligibility_checks") == before)
        let queue = try queued()
        #expect(try queue.string("state") == "done")
        #expect(try queue.string("reason") == "check_in")
        #expect(queue.optionalString("check_id") == checkId)
    }

    @Test("bad questions are refused naming the field, and nothing is asked or written")
    func badInput() throws {
        let platform = try TestPlatform()
        let coverage = try Self.coverage(platform, memberId: "MEM-BAD")
        let before = try platform.count("insurance", "eligibility_checks")
        let cases: [(String, String)] = [
            (#"{"coverageId": "cov_nope"}"#, "/coverageId"),
            (#"{"coverageId": "\#(coverage)", "serviceTypeCodes": ["30", "bad code"]}"#, "/serviceTypeCodes/1"),
            (#"{"coverageId": "\#(coverage)", "provider": {"name": "X", "npi": "1234567890"}}"#, "/provider/npi"),
            (#"{"coverageId": "\#(coverage)", "dateOfService": "2020-01-01"}"#, "/dateOfService"),
            (#"{"serviceTypeCodes": ["30"]}"#, "/coverageId"),
        ]
        for (body, pointer) in cases {
            let response = platform.post("/api/insurance/eligibility/checks", body)
            #expect(response.status == 422, "\(body): \(response.bodyText)")
            let errors = response.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.contains { $0["pointer"] as? String == pointer }, "\(body): \(response.bodyText)")
        }
        #expect(try platform.count("insurance", "eligibility_checks") == before)
        // Payer directory: a connector without its endpoint is refused.
        let payer = platform.post(
            "/api/insurance/payers", #"{"name": "P", "payerCode": "PX", "connector": "x12-http"}"#)
        #expect(payer.status == 422)
        #expect((payer.object["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/x12Endpoint")
    }

    @Test("plans, coverage order and subscriber details of a dependant")
    func planAndOrder() throws {
        let platform = try TestPlatform()
        let payers = try platform.json("/api/insurance/payers")["items"] as? [[String: Any]] ?? []
        let star = try #require(payers.first { $0["payerCode"] as? String == "STARHEALTH" }?["id"] as? String)
        let plan = platform.post(
            "/api/insurance/plans", #"{"payerId": "\#(star)", "name": "Family Optima", "planType": "family floater"}"#)
        #expect(plan.status == 201)
        let planId = try #require(plan.object["id"] as? String)
        let plans = try platform.json("/api/insurance/payers/\(star)/plans")["items"] as? [[String: Any]] ?? []
        #expect(plans.map { $0["id"] as? String } == [planId])
        // P10001 already has a primary coverage: a second primary for the same period is refused.
        let duplicate = platform.post(
            "/api/insurance/coverages",
            #"{"patientId": "P10001", "payerId": "\#(star)", "planName": "X", "memberId": "M2", "relationship": "self", "validFrom": "2026-01-01", "order": 1}"#
        )
        #expect(duplicate.status == 422)
        #expect((duplicate.object["errors"] as? [[String: Any]])?.first?["pointer"] as? String == "/order")
        // Secondary, as a dependant child, with the subscriber's details.
        let secondary = platform.post(
            "/api/insurance/coverages",
            #"{"patientId": "P10001", "payerId": "\#(star)", "planId": "\#(planId)", "planName": "Family Optima", "memberId": "SUB-77", "relationship": "child", "order": 2, "validFrom": "2026-01-01", "subscriber": {"givenName": "Ravi", "familyName": "Rao", "dateOfBirth": "1960-02-02", "sex": "male"}}"#
        )
        #expect(secondary.status == 201, "\(secondary.bodyText)")
        #expect(secondary.object["order"] as? Int == 2)
        // The primary stays the active coverage billing uses.
        let active = try platform.json("/api/insurance/patients/P10001/active-coverage")
        #expect(active["order"] as? Int == 1)
        // The 270 of the dependant names the subscriber (2100C) and the patient (2100D).
        let check = Self.check(platform, try #require(secondary.object["id"] as? String)).object
        let raw = try platform.json("/api/insurance/eligibility/checks/\(check["id"] as? String ?? "")/raw")
        let request = raw["request"] as? String ?? ""
        #expect(request.contains("NM1*IL*1*Rao*Ravi****MI*SUB-77"))
        #expect(request.contains("NM1*03*1*Rao*Asha"))
        // A non-self relationship needs the subscriber.
        let missing = platform.post(
            "/api/insurance/coverages",
            #"{"patientId": "P10001", "payerId": "\#(star)", "planName": "X", "memberId": "M3", "relationship": "spouse", "order": 3, "validFrom": "2026-01-01"}"#
        )
        #expect(missing.status == 422)
    }
}
