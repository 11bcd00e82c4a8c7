import Foundation
import RCMCore
import RCMFHIR
import RCMHTTP
import RCMX12
import Synchronization

/// A payer that answers eligibility questions deterministically by member-id pattern, for the
/// demo and the tests:
///
/// | member id contains | answer |
/// |---|---|
/// | `INACT` | coverage inactive (EB*6) |
/// | `NOTFOUND` | rejected: subscriber not found (AAA 75) |
/// | `DEDMET` | active, deductible fully met |
/// | `DOWN` | payer unable to respond (AAA 42): not verified, retry |
/// | `TIMEOUT` | no answer at all (the connector's timeout decides) |
/// | anything else | active: copay 100, coinsurance 10% (30% out of network), deductible 5,000 with 2,000 left, out-of-pocket 50,000 with 42,000 left |
public enum PayerSimulator {
    enum Scenario: Equatable {
        case active, inactive, notFound, deductibleMet, unavailable, timeout

        init(memberId: String) {
            let id = memberId.uppercased()
            if id.contains("INACT") {
                self = .inactive
            } else if id.contains("NOTFOUND") {
                self = .notFound
            } else if id.contains("DEDMET") {
                self = .deductibleMet
            } else if id.contains("DOWN") {
                self = .unavailable
            } else if id.contains("TIMEOUT") {
                self = .timeout
            } else {
                self = .active
            }
        }
    }

    static func benefit(
        _ code: String, level: String? = "IND", services: [String] = ["30"], period: String? = nil,
        amount: Decimal? = nil, percent: Decimal? = nil, inNetwork: Bool? = nil, plan: String? = nil
    ) -> EligibilityBenefit {
        EligibilityBenefit(
            code: code, coverageLevel: level, serviceTypeCodes: services, planDescription: plan, timePeriod: period,
            amount: amount, percent: percent, inNetwork: inNetwork)
    }

    /// The X12 answer for a scenario (before it is written as a 271).
    static func response(to inquiry: EligibilityInquiry, scenario: Scenario) -> EligibilityResponse {
        var response = EligibilityResponse(
            status: .active, memberId: inquiry.subscriber.memberId, subscriber: inquiry.subscriber,
            payer: inquiry.payer, traceNumbers: [inquiry.traceNumber])
        switch scenario {
        case .notFound:
            response.status = .unknown
            response.rejections = [
                EligibilityRejection(code: "75", followUpCode: "C", loop: "2100C")
            ]
        case .unavailable, .timeout:
            response.status = .unknown
            response.rejections = [
                EligibilityRejection(code: "42", followUpCode: "R", loop: "2100A")
            ]
        case .inactive:
            response.status = .inactive
            response.benefits = [benefit("6", plan: "Simulated Health Plan")]
        case .active, .deductibleMet:
            let remaining: Decimal = scenario == .deductibleMet ? 0 : 2000
            let familyRemaining: Decimal = scenario == .deductibleMet ? 0 : 7000
            response.planName = "Simulated Health Plan"
            response.benefits = [
                benefit("1", plan: "Simulated Health Plan"),
                benefit("B", services: ["98"], period: "27", amount: 100, inNetwork: true),
                benefit("A", services: ["30"], percent: Decimal(string: "0.1"), inNetwork: true),
                benefit("A", services: ["30"], percent: Decimal(string: "0.3"), inNetwork: false),
                benefit("C", period: "23", amount: 5000, inNetwork: true),
                benefit("C", period: "29", amount: remaining, inNetwork: true),
                benefit("C", level: "FAM", period: "23", amount: 10000, inNetwork: true),
                benefit("C", level: "FAM", period: "29", amount: familyRemaining, inNetwork: true),
                benefit("G", period: "23", amount: 50000, inNetwork: true),
                benefit("G", period: "29", amount: 42000, inNetwork: true),
            ]
        }
        return response
    }

    /// The 271 text the simulated payer sends back for a question.
    static func answer271(
        to inquiry: EligibilityInquiry, scenario: Scenario, question: EligibilityQuestion
    ) throws -> String {
        var envelope = X12EligibilityMapping.envelope(question)
        swap(&envelope.senderId, &envelope.receiverId)
        swap(&envelope.applicationSenderCode, &envelope.applicationReceiverCode)
        return try X12Eligibility.make271(
            response(to: inquiry, scenario: scenario), inquiry: inquiry, envelope: envelope)
    }
}

/// The simulator on a real socket: a CAQH CORE real-time endpoint (`POST /core`, multipart 270 in,
/// 271 out) and an NHCX gateway (`POST /coverageeligibility/check`, answered 202 and then by a
/// callback to `on_check` with the bearer token given). Tests and `rcm payer-simulator` start it.
public final class PayerSimulatorServer: Sendable {
    let server: HTTPServer
    public var port: UInt16 { server.port }

    /// - Parameters:
    ///   - callbackURL: where NHCX answers go (`…/api/insurance/nhcx/coverageeligibility/on_check`).
    ///   - callbackToken: the bearer token the gateway presents there.
    public init(port: UInt16 = 0, callbackURL: String? = nil, callbackToken: String? = nil) {
        let router = RouterBuilder()
        router.post("/core") { request, _ in PayerSimulatorServer.core(request) }
        router.post("/coverageeligibility/check") { request, _ in
            try PayerSimulatorServer.nhcxCheck(request, callbackURL: callbackURL, callbackToken: callbackToken)
        }
        server = HTTPServer(
            application: HTTPApplication(router: router.build()),
            configuration: HTTPServer.Configuration(host: "127.0.0.1", port: port))
    }

    public func start() throws { try server.start() }
    public func stop() { server.shutdown(grace: .seconds(1)) }

    static func multipart(_ fields: [(String, String)]) -> HTTPResponse {
        let boundary = "sim-" + UUID().uuidString.lowercased()
        return HTTPResponse(
            status: 200, headers: HTTPHeaders([("Content-Type", "multipart/form-data; boundary=\(boundary)")]),
            body: MultipartForm.encode(fields, boundary: boundary))
    }

    static func core(_ request: HTTPRequest) -> HTTPResponse {
        guard let boundary = MultipartForm.boundary(of: request.headers["Content-Type"]),
            let fields = MultipartForm.decode(request.body, boundary: boundary), let payload = fields["Payload"]
        else {
            return multipart([("ErrorCode", "PayloadRequired"), ("ErrorMessage", "multipart Payload missing")])
        }
        do {
            let (inquiry, envelope) = try X12Eligibility.parse270(payload)
            let scenario = PayerSimulator.Scenario(memberId: inquiry.subscriber.memberId ?? "")
            if scenario == .timeout { Thread.sleep(forTimeInterval: 30) }
            var reply = envelope
            swap(&reply.senderId, &reply.receiverId)
            swap(&reply.applicationSenderCode, &reply.applicationReceiverCode)
            let answer = try X12Eligibility.make271(
                PayerSimulator.response(to: inquiry, scenario: scenario), inquiry: inquiry, envelope: reply)
            return multipart([
                ("PayloadType", "X12_271_Response_005010X279A1"), ("ProcessingMode", "RealTime"),
                ("PayloadID", fields["PayloadID"] ?? UUID().uuidString), ("TimeStamp", Timestamp.now()),
                ("SenderID", fields["ReceiverID"] ?? ""), ("ReceiverID", fields["SenderID"] ?? ""),
                ("CORERuleVersion", "2.2.0"), ("Payload", answer), ("ErrorCode", "Success"),
                ("ErrorMessage", "None"),
            ])
        } catch {
            return multipart([("ErrorCode", "PayloadInvalid"), ("ErrorMessage", "the 270 could not be read")])
        }
    }

    static func nhcxCheck(_ request: HTTPRequest, callbackURL: String?, callbackToken: String?) throws -> HTTPResponse {
        let envelope = try JSON.decode(NHCXEnvelope.self, from: request.body)
        guard
            let eligibility = envelope.payload.first({ resource -> FHIRCoverageEligibilityRequest? in
                if case .coverageEligibilityRequest(let value) = resource { return value }
                return nil
            }),
            let coverage = envelope.payload.first({ resource -> FHIRCoverage? in
                if case .coverage(let value) = resource { return value }
                return nil
            })
        else { throw Problem.invalid(pointer: "/payload", "no CoverageEligibilityRequest and Coverage") }
        let scenario = PayerSimulator.Scenario(memberId: coverage.subscriberId ?? "")
        let acknowledgement = try HTTPResponse.json(
            [
                "timestamp": Timestamp.now(), "x-hcx-api_call_id": envelope.apiCallId,
                "x-hcx-correlation_id": envelope.correlationId,
            ], status: 202)
        guard let callbackURL, scenario != .timeout else { return acknowledgement }
        let inquiry = EligibilityInquiry(
            payer: X12Party(name: "", identifierQualifier: "PI", identifier: envelope.recipientCode),
            provider: X12Party(name: "", identifierQualifier: "XX", identifier: ""),
            subscriber: X12Person(lastName: "", firstName: "", memberId: coverage.subscriberId), dependent: nil,
            serviceTypeCodes: ["30"], dateOfService: CalendarDate(eligibility.servicedDate ?? "") ?? .today(),
            traceNumber: envelope.correlationId)
        let result = X12EligibilityMapping.result(PayerSimulator.response(to: inquiry, scenario: scenario))
        let response = EligibilityFHIR.response(
            id: "resp-" + envelope.correlationId, requestId: eligibility.id ?? envelope.correlationId,
            patientId: String(eligibility.patient.reference?.split(separator: "/").last ?? ""),
            payerId: String(eligibility.insurer.reference?.split(separator: "/").last ?? ""),
            coverageId: coverage.id ?? "", dateOfService: inquiry.dateOfService, result: result, currency: "INR")
        let answer = NHCXEnvelope(
            apiCallId: UUID().uuidString.lowercased(), correlationId: envelope.correlationId,
            timestamp: Timestamp.now(), senderCode: envelope.recipientCode, recipientCode: envelope.senderCode,
            status: "response.complete",
            payload: FHIRBundle(
                id: "bundle-resp-" + fhirId(envelope.correlationId), identifier: nil, timestamp: Timestamp.now(),
                entry: [
                    .init(
                        fullUrl:
                            "https://payer.invalid/fhir/CoverageEligibilityResponse/resp-\(fhirId(envelope.correlationId))",
                        resource: .coverageEligibilityResponse(response))
                ]))
        let body = try JSON.encode(answer)
        // The gateway answers later, from its own thread, as NHCX does.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.05)
            var headers = [("Content-Type", "application/json")]
            if let callbackToken { headers.append(("Authorization", "Bearer " + callbackToken)) }
            _ = try? OutboundHTTP.send(method: "POST", url: callbackURL, headers: headers, body: body, timeout: 5)
        }
        return acknowledgement
    }
}
