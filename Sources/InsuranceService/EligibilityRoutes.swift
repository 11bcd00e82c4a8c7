import Foundation
import RCMCore
import RCMFHIR
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// The body of `POST /api/insurance/eligibility/checks`.
struct EligibilityCheckInput: Decodable {
    var coverageId: String?
    var dateOfService: CalendarDate?
    var serviceTypeCodes: [String]?
    var provider: ProviderIdentity?
    var force: Bool?
}

extension InsuranceService {
    /// Asks the coverage's payer now (or answers from a fresh cached answer: 200 with
    /// `X-Eligibility-Cache: hit`). 201 with the check otherwise, whatever the payer said — a
    /// payer that did not answer gives status `not_verified` and `retryable: true`; 202 when the
    /// answer comes later by callback (NHCX).
    func checkEligibility(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let input = try request.decode(EligibilityCheckInput.self)
        var validation = Validation()
        validation.text(input.coverageId, "/coverageId", maxLength: 64)
        for (index, code) in (input.serviceTypeCodes ?? []).enumerated() {
            validation.require(
                (1...2).contains(code.count) && code.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) },
                "/serviceTypeCodes/\(index)", "must be an X12 service type code (1–2 letters or digits, e.g. 30, 98)")
        }
        validation.require((input.serviceTypeCodes ?? []).count <= 20, "/serviceTypeCodes", "at most 20 codes")
        if let provider = input.provider {
            validation.require(
                NPI.isValid(provider.npi), "/provider/npi", "must be a 10-digit NPI with a valid check digit")
            validation.text(provider.name, "/provider/name", maxLength: 60)
        }
        if let date = input.dateOfService {
            validation.require(
                date <= CalendarDate.today().adding(days: 365), "/dateOfService", "must be within a year from today")
        }
        try validation.check()
        let ask = EligibilityEngine.Ask(
            coverageId: input.coverageId ?? "", dateOfService: input.dateOfService ?? .today(),
            serviceTypeCodes: input.serviceTypeCodes ?? ["30"],
            provider: input.provider ?? EligibilityEngine.defaultProvider,
            trigger: "manual", appointmentId: nil, force: input.force ?? false)
        let (check, cached) = try eligibility.check(ask, context: context)
        var response = try HTTPResponse.json(check, status: cached ? 200 : check.status == .pending ? 202 : 201)
        response.headers.add("Location", "/api/insurance/eligibility/checks/\(check.id)")
        response.headers.add("X-Eligibility-Cache", cached ? "hit" : "miss")
        return response
    }

    func readEligibilityCheck(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try .json(try findCheck(context.parameter("id"), context))
    }

    func findCheck(_ id: String, _ context: RequestContext) throws -> EligibilityCheck {
        guard
            let check = try environment.database.read({
                try EligibilityStore.find(id, organization: context.organizationId, fields: environment.fields, in: $0)
            })
        else { throw Problem.notFound("Eligibility check \(id) does not exist.") }
        return check
    }

    /// `?patientId=` or `?coverageId=`: newest first.
    func listEligibilityChecks(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let limit = try request.pageLimit()
        var sql: SQL = "SELECT * FROM eligibility_checks WHERE organization_id = \(context.organizationId)"
        switch (request.query["patientId"], request.query["coverageId"]) {
        case (let patient?, nil): sql = sql + " AND patient_id = \(patient)"
        case (nil, let coverage?): sql = sql + " AND coverage_id = \(coverage)"
        case (let patient?, let coverage?): sql = sql + " AND patient_id = \(patient) AND coverage_id = \(coverage)"
        case (nil, nil):
            throw Problem.invalid(pointer: "query:patientId", "patientId or coverageId is required")
        }
        sql = sql + " ORDER BY requested_at DESC LIMIT \(limit)"
        let checks = try environment.database.read { connection in
            try connection.query(sql).map { try EligibilityStore.check(from: $0, fields: environment.fields) }
        }
        return try .json(["items": checks])
    }

    /// The exchange as it went over the wire (X12 270/271 or NHCX JSON), for billing staff and audits.
    func rawEligibilityExchange(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let row = try environment.database.read { connection in
            try connection.queryFirst(
                "SELECT raw_request, raw_response FROM eligibility_checks WHERE id = \(id) AND organization_id = \(context.organizationId)"
            )
        }
        guard let row else { throw Problem.notFound("Eligibility check \(id) does not exist.") }
        let fields = environment.fields
        return try .json([
            "request": try row.optionalString("raw_request").map {
                try fields.decrypt($0, field: "eligibility.raw_request")
            },
            "response": try row.optionalString("raw_response").map {
                try fields.decrypt($0, field: "eligibility.raw_response")
            },
        ])
    }

    /// The answer as a FHIR R4 CoverageEligibilityResponse, whichever connector brought it.
    func eligibilityAsFHIR(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let check = try findCheck(context.parameter("id"), context)
        guard let result = check.result else {
            throw Problem.conflict("Eligibility check \(check.id) has no answer yet (status \(check.status.rawValue)).")
        }
        let resource = EligibilityFHIR.response(
            id: check.id, requestId: check.id, patientId: check.patientId, payerId: check.payerId,
            coverageId: check.coverageId, dateOfService: check.dateOfService, result: result,
            currency: environment.currency)
        var response = try HTTPResponse.json(resource)
        response.headers.set("Content-Type", "application/fhir+json")
        return response
    }

    /// NHCX callback: the payer's CoverageEligibilityResponse for a check sent earlier, matched by
    /// `x-hcx-correlation_id`. Answered 202 as the protocol expects; an unknown correlation id is 404.
    func nhcxOnCheck(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let envelope: NHCXEnvelope
        do {
            envelope = try JSON.decode(NHCXEnvelope.self, from: request.body)
        } catch {
            throw Problem.invalid(pointer: "", "not an NHCX envelope with a FHIR Bundle payload: \(error)")
        }
        guard
            let answer = envelope.payload.first({ resource -> FHIRCoverageEligibilityResponse? in
                if case .coverageEligibilityResponse(let value) = resource { return value }
                return nil
            })
        else { throw Problem.invalid(pointer: "/payload", "the bundle has no CoverageEligibilityResponse") }
        let fields = environment.fields
        let updated = try environment.database.write { connection -> EligibilityCheck in
            guard
                var check = try EligibilityStore.find(
                    envelope.correlationId, organization: context.organizationId, fields: fields, in: connection)
            else { throw Problem.notFound("No eligibility check \(envelope.correlationId) is waiting for an answer.") }
            guard check.status == .pending else { return check }  // a repeated callback changes nothing
            let payer = try connection.queryFirst("SELECT * FROM payers WHERE id = \(check.payerId)")
                .map(InsuranceService.payer(from:))
            guard let payer else { throw Problem.notFound("Payer \(check.payerId) does not exist.") }
            eligibility.apply(EligibilityFHIR.result(from: answer), to: &check, payer: payer)
            check.completedAt = Timestamp.now()
            try EligibilityStore.complete(check, fields: fields, in: connection)
            try EligibilityStore.recordExchange(
                check, rawRequest: nil, rawResponse: String(decoding: request.body, as: UTF8.self), fields: fields,
                in: connection)
            try eligibility.publish(check, context.requestId, in: connection)
            return check
        }
        environment.outbox.notify()
        return try .json(
            [
                "timestamp": Timestamp.now(), "x-hcx-api_call_id": envelope.apiCallId,
                "x-hcx-correlation_id": envelope.correlationId, "status": updated.status.rawValue,
            ], status: 202)
    }

    /// Runs the due checks of coming and checked-in appointments now (the scheduler does it every minute).
    func runDueEligibility(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let processed = try scheduler.runDue(organizationId: context.organizationId)
        return try .json(["processed": processed])
    }
}
