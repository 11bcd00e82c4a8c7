import Foundation
import RCMCore
import RCMHTTP
import Testing

@testable import RCMPlatform

@Suite("Bad input is refused, names the field and changes nothing")
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let body: String
        var contentType = "application/json"
        let status: Int
        let pointer: String
        var testDescription: String { name }
    }

    static let services = #"[{"code": "OPD001", "cost": 400}]"#

    static let cases: [Case] = [
        Case(
            name: "unknown patient", body: #"{"patientId": "P99999", "services": \#(services)}"#, status: 422,
            pointer: "/patientId"),
        Case(name: "missing patient", body: #"{"services": \#(services)}"#, status: 422, pointer: "/patientId"),
        Case(
            name: "unknown service code",
            body:
                #"{"patientId": "P10001", "services": [{"code": "OPD001", "cost": 400}, {"code": "NOPE99", "cost": 1}]}"#,
            status: 422, pointer: "/services/1/code"),
        Case(
            name: "negative cost", body: #"{"patientId": "P10001", "services": [{"code": "OPD001", "cost": -400}]}"#,
            status: 422, pointer: "/services/0/cost"),
        Case(
            name: "non-numeric cost",
            body: #"{"patientId": "P10001", "services": [{"code": "OPD001", "cost": "four hundred"}]}"#,
            status: 422, pointer: "/services/0/cost"),
        Case(
            name: "cost with three decimals",
            body: #"{"patientId": "P10001", "services": [{"code": "OPD001", "cost": 400.125}]}"#,
            status: 422, pointer: "/services/0/cost"),
        Case(
            name: "empty services", body: #"{"patientId": "P10001", "services": []}"#, status: 422, pointer: "/services"
        ),
        Case(
            name: "services not a list", body: #"{"patientId": "P10001", "services": {}}"#, status: 422,
            pointer: "/services"),
        Case(name: "malformed JSON", body: #"{"patientId": "P10001", "services": ["#, status: 400, pointer: ""),
        Case(
            name: "wrong content type", body: #"{"patientId": "P10001", "services": \#(services)}"#,
            contentType: "text/plain",
            status: 415, pointer: "header:Content-Type"),
        Case(
            name: "oversized body",
            body: #"{"patientId": "P10001", "services": \#(services), "pad": ""#
                + String(repeating: "x", count: 1_100_000) + "\"}",
            status: 413, pointer: ""),
    ]

    @Test("POST /api/billing/generate", arguments: cases)
    func generate(_ bad: Case) throws {
        let platform = try TestPlatform()
        let response = platform.request(
            .POST, "/api/billing/generate", headers: [("Content-Type", bad.contentType), ("Idempotency-Key", "bad-1")],
            body: bad.body)
        #expect(response.status == bad.status)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let problem = try response.decode(Problem.self)
        #expect(problem.status == bad.status)
        #expect(problem.errors.contains { $0.pointer == bad.pointer }, "\(problem.errors)")
        try platform.platform.drainEvents()
        #expect(try platform.count("billing", "invoices") == 0)
        #expect(try platform.count("billing", "invoice_lines") == 0)
        #expect(try platform.count("billing", "idempotency_keys") == 0)
        #expect(try platform.count("billing", "outbox_events") == 0)
        #expect(try platform.count("claim", "claims") == 0)
        #expect(try platform.count("payment", "payment_requests") == 0)
        #expect(try platform.count("reporting", "rm_invoices") == 0)
    }

    @Test("other services name their fields too")
    func otherServices() throws {
        let platform = try TestPlatform()
        let patient = platform.post("/api/patients", #"{"givenName": "", "dateOfBirth": "2999-01-01", "sex": "x"}"#)
        #expect(patient.status == 422)
        let pointers = Set(try patient.decode(Problem.self).errors.map(\.pointer))
        #expect(pointers == ["/sex"])  // an unknown enum value fails decoding first
        let fields = platform.post(
            "/api/patients",
            #"{"givenName": "", "familyName": "Rao", "dateOfBirth": "2999-01-01", "sex": "female", "email": "nope"}"#)
        #expect(
            Set(try fields.decode(Problem.self).errors.map(\.pointer)) == [
                "/locationId", "/givenName", "/dateOfBirth", "/email",
            ])
        let payment = platform.post("/api/payments", #"{"invoiceId": "inv_x", "amount": 0, "method": "gold"}"#)
        #expect(Set(try payment.decode(Problem.self).errors.map(\.pointer)) == ["/amount", "/method"])
        let coverage = platform.post(
            "/api/insurance/coverages",
            #"{"patientId": "P10001", "payerId": "pyr_x", "planName": "p", "memberId": "m", "relationship": "self", "validFrom": "2026-13-01"}"#
        )
        #expect(try coverage.decode(Problem.self).errors.map(\.pointer) == ["/validFrom"])
        #expect(try platform.count("payment", "payments") == 0)
    }
}
