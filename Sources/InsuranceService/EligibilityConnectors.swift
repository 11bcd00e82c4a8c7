import Foundation
import RCMCore
import RCMHTTP
import RCMX12

/// Who the patient is, as far as a payer needs to know to find the member.
struct PatientDemographics: Codable, Sendable {
    var id: String
    var givenName: String
    var familyName: String
    var dateOfBirth: CalendarDate
    var sex: String?
}

/// The provider asking (X12 loop 2100B, FHIR `provider`).
public struct ProviderIdentity: Codable, Sendable, Equatable {
    public var name: String
    public var npi: String

    public init(name: String, npi: String) {
        self.name = name
        self.npi = npi
    }
}

/// Everything a connector needs to put one eligibility question to a payer.
struct EligibilityQuestion: Sendable {
    var checkId: String
    var organizationId: String
    var payer: Payer
    var coverage: Coverage
    var patient: PatientDemographics
    var provider: ProviderIdentity
    var dateOfService: CalendarDate
    var serviceTypeCodes: [String]
    /// ISA13 for an X12 interchange: unique per sender, allocated from the insurance database.
    var interchangeControlNumber: Int
    var timeout: TimeInterval { Double(payer.timeoutMilliseconds) / 1000 }
}

/// What went over the wire, kept with the check.
struct EligibilityExchange: Sendable {
    var rawRequest: String
    var rawResponse: String?
    var controlNumbers: EligibilityCheck.ControlNumbers
}

enum ConnectorAnswer: Sendable {
    /// The payer answered now.
    case answered(EligibilityExchange, EligibilityResult)
    /// The question was accepted; the answer comes later by callback (NHCX `on_check`).
    case pending(EligibilityExchange)
}

/// A payer that could not be asked or did not answer.
struct ConnectorFailure: Error, Sendable {
    enum Kind: Sendable {
        case timeout, unavailable, protocolError, notConfigured
    }
    var kind: Kind
    var message: String
    var exchange: EligibilityExchange?
}

/// One way of asking payers about eligibility; chosen per payer (`Payer.connector`).
protocol EligibilityConnector: Sendable {
    func ask(_ question: EligibilityQuestion) throws -> ConnectorAnswer
}

// MARK: X12 270/271

/// Builds the 270 for a question and reads a 271 into the platform's result.
enum X12EligibilityMapping {
    static func inquiry(_ question: EligibilityQuestion) -> EligibilityInquiry {
        let patient = question.patient
        let coverage = question.coverage
        let gender: String? =
            switch patient.sex {
            case "female": "F"
            case "male": "M"
            default: "U"
            }
        let subscriber: X12Person
        var dependent: X12Person?
        if coverage.relationship != .self, let holder = coverage.subscriber {
            subscriber = X12Person(
                lastName: holder.familyName, firstName: holder.givenName, memberId: coverage.memberId,
                dateOfBirth: holder.dateOfBirth,
                gender: holder.sex == "female" ? "F" : holder.sex == "male" ? "M" : nil)
            let relationship: String =
                switch coverage.relationship {
                case .spouse: "01"
                case .child: "19"
                default: "G8"
                }
            dependent = X12Person(
                lastName: patient.familyName, firstName: patient.givenName, memberId: nil,
                dateOfBirth: patient.dateOfBirth, gender: gender, relationship: relationship)
        } else {
            subscriber = X12Person(
                lastName: patient.familyName, firstName: patient.givenName, memberId: coverage.memberId,
                dateOfBirth: patient.dateOfBirth, gender: gender)
        }
        return EligibilityInquiry(
            payer: X12Party(name: question.payer.name, identifierQualifier: "PI", identifier: question.payer.payerCode),
            provider: X12Party(
                name: question.provider.name, identifierQualifier: "XX", identifier: question.provider.npi),
            subscriber: subscriber, dependent: dependent,
            serviceTypeCodes: question.serviceTypeCodes.isEmpty ? ["30"] : question.serviceTypeCodes,
            dateOfService: question.dateOfService,
            traceNumber: String(question.checkId.filter { $0.isLetter || $0.isNumber }.prefix(50)))
    }

    static func envelope(_ question: EligibilityQuestion) -> X12EnvelopeSettings {
        let sender = String(question.organizationId.uppercased().filter { $0.isLetter || $0.isNumber }.prefix(15))
        let receiver = String(
            (question.payer.x12ReceiverId ?? question.payer.payerCode).uppercased()
                .filter { $0.isLetter || $0.isNumber }.prefix(15))
        return X12EnvelopeSettings(
            senderId: sender, receiverId: receiver, applicationSenderCode: sender, applicationReceiverCode: receiver,
            interchangeControlNumber: question.interchangeControlNumber,
            groupControlNumber: question.interchangeControlNumber, usageIndicator: "P")
    }

    static func controlNumbers(_ question: EligibilityQuestion, trace: String) -> EligibilityCheck.ControlNumbers {
        let number = String(format: "%09d", question.interchangeControlNumber)
        return .init(
            interchange: number, group: String(question.interchangeControlNumber), transaction: "0001", trace: trace)
    }

    static let benefitKinds: [String: String] = [
        "1": "active", "6": "inactive", "B": "copay", "A": "coinsurance", "C": "deductible", "G": "out_of_pocket",
        "F": "limitation", "I": "non_covered",
    ]
    static let periods: [String: String] = [
        "6": "hour", "7": "day", "13": "24_hours", "21": "years", "22": "service_year", "23": "calendar_year",
        "24": "year_to_date", "25": "contract", "26": "episode", "27": "visit", "28": "outlier", "29": "remaining",
        "30": "exceeded", "31": "not_exceeded", "32": "lifetime", "33": "lifetime_remaining", "34": "month",
        "35": "week", "36": "admission",
    ]

    static func result(_ response: EligibilityResponse) -> EligibilityResult {
        let benefits = response.benefits.map { benefit in
            EligibilityResult.Benefit(
                kind: benefitKinds[benefit.code] ?? "other", code: benefit.code, description: benefit.meaning,
                level: benefit.coverageLevel.map { $0 == "FAM" ? "family" : "individual" },
                network: benefit.inNetwork.map { $0 ? "in" : "out" },
                period: benefit.timePeriod.map { periods[$0] ?? $0 }, serviceTypeCodes: benefit.serviceTypeCodes,
                amount: benefit.amount.flatMap { Money(exactly: $0) },
                percent: benefit.percent.map { $0 * 100 }, messages: benefit.messages)
        }
        let active: Bool? =
            switch response.status {
            case .active: true
            case .inactive: false
            case .unknown: nil
            }
        return EligibilityResult(
            active: response.rejections.isEmpty ? active : nil, planName: response.planName,
            groupNumber: response.groupNumber, benefits: benefits,
            rejections: response.rejections.map {
                .init(code: $0.code, explanation: $0.explanation, followUp: $0.followUp, loop: $0.loop)
            },
            messages: response.messages)
    }
}

/// The built-in payer: answers every question at once, in-process, with a real 271 built and
/// parsed by the X12 toolkit, so the demo and the tests run the whole path.
struct SimulatorConnector: EligibilityConnector {
    func ask(_ question: EligibilityQuestion) throws -> ConnectorAnswer {
        let inquiry = X12EligibilityMapping.inquiry(question)
        let request = try X12Eligibility.make270(inquiry, envelope: X12EligibilityMapping.envelope(question))
        let controls = X12EligibilityMapping.controlNumbers(question, trace: inquiry.traceNumber)
        let scenario = PayerSimulator.Scenario(memberId: question.coverage.memberId)
        if scenario == .timeout {
            Thread.sleep(forTimeInterval: question.timeout)
            throw ConnectorFailure(
                kind: .timeout, message: "The payer did not answer within \(question.payer.timeoutMilliseconds) ms.",
                exchange: EligibilityExchange(rawRequest: request, rawResponse: nil, controlNumbers: controls))
        }
        let answer = try PayerSimulator.answer271(to: inquiry, scenario: scenario, question: question)
        let parsed = try X12Eligibility.parse271(answer)
        return .answered(
            EligibilityExchange(rawRequest: request, rawResponse: answer, controlNumbers: controls),
            X12EligibilityMapping.result(parsed))
    }
}

/// X12 270/271 in real time over HTTP, as CAQH CORE connectivity exchanges it: a MIME multipart
/// POST with the envelope fields and the 270 as `Payload`, answered the same way with the 271.
struct X12HTTPConnector: EligibilityConnector {
    func ask(_ question: EligibilityQuestion) throws -> ConnectorAnswer {
        guard let endpoint = question.payer.x12Endpoint else {
            throw ConnectorFailure(kind: .notConfigured, message: "The payer has no X12 endpoint.", exchange: nil)
        }
        let inquiry = X12EligibilityMapping.inquiry(question)
        let envelope = X12EligibilityMapping.envelope(question)
        let request = try X12Eligibility.make270(inquiry, envelope: envelope)
        let controls = X12EligibilityMapping.controlNumbers(question, trace: inquiry.traceNumber)
        let boundary = "rcm-" + question.checkId
        let body = MultipartForm.encode(
            [
                ("PayloadType", "X12_270_Request_005010X279A1"), ("ProcessingMode", "RealTime"),
                ("PayloadID", question.checkId), ("TimeStamp", Timestamp.now()), ("SenderID", envelope.senderId),
                ("ReceiverID", envelope.receiverId), ("CORERuleVersion", "2.2.0"), ("Payload", request),
            ], boundary: boundary)
        var exchange = EligibilityExchange(rawRequest: request, rawResponse: nil, controlNumbers: controls)
        let response = try Retrying.send(
            method: "POST", url: endpoint,
            headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body,
            timeout: question.timeout, exchange: exchange)
        guard response.status == 200,
            let boundary = MultipartForm.boundary(of: response.headers["Content-Type"]),
            let fields = MultipartForm.decode(response.body, boundary: boundary)
        else {
            exchange.rawResponse = response.bodyText
            throw ConnectorFailure(
                kind: response.status >= 500 ? .unavailable : .protocolError,
                message: "The payer's CORE endpoint answered \(response.status) without a usable 271.",
                exchange: exchange)
        }
        exchange.rawResponse = fields["Payload"]
        guard fields["ErrorCode"] ?? "Success" == "Success", let payload = fields["Payload"], !payload.isEmpty else {
            throw ConnectorFailure(
                kind: .unavailable,
                message: "The payer's CORE endpoint reported \(fields["ErrorCode"] ?? "an error"): "
                    + (fields["ErrorMessage"] ?? "no detail"),
                exchange: exchange)
        }
        do {
            return .answered(exchange, X12EligibilityMapping.result(try X12Eligibility.parse271(payload)))
        } catch {
            throw ConnectorFailure(
                kind: .protocolError, message: "The payer's 271 could not be read: \(error)", exchange: exchange)
        }
    }
}

/// Sends a safe (read-only) request, retrying once with jitter when the target could not be
/// reached or answered 5xx, all within one deadline.
enum Retrying {
    static func send(
        method: String, url: String, headers: [(String, String)], body: [UInt8], timeout: TimeInterval,
        exchange: EligibilityExchange?
    ) throws -> HTTPResponse {
        let deadline = Date().addingTimeInterval(timeout)
        var attempt = 0
        while true {
            attempt += 1
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0.01 else {
                throw ConnectorFailure(
                    kind: .timeout, message: "The payer did not answer within \(Int(timeout * 1000)) ms.",
                    exchange: exchange)
            }
            do {
                let response = try OutboundHTTP.send(
                    method: method, url: url, headers: headers, body: body, timeout: remaining)
                if response.status >= 500, attempt < 2 {
                    Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.2))
                    continue
                }
                return response
            } catch let failure as OutboundHTTP.Failure {
                switch failure.kind {
                case .timeout:
                    throw ConnectorFailure(
                        kind: .timeout, message: "The payer did not answer within \(Int(timeout * 1000)) ms.",
                        exchange: exchange)
                case .unreachable where attempt < 2:
                    Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.2))
                    continue
                case .unreachable, .badURL:
                    throw ConnectorFailure(
                        kind: .unavailable, message: "The payer could not be reached (\(failure)).", exchange: exchange)
                }
            }
        }
    }
}

/// FHIR R4 through an NHCX gateway: the CoverageEligibilityRequest bundle is posted to
/// `/coverageeligibility/check` and accepted (202); the payer's CoverageEligibilityResponse comes
/// back later to this platform's `/api/insurance/nhcx/coverageeligibility/on_check`, matched by the
/// correlation id (the check's id).
struct NHCXConnector: EligibilityConnector {
    func ask(_ question: EligibilityQuestion) throws -> ConnectorAnswer {
        guard let base = question.payer.fhirEndpoint else {
            throw ConnectorFailure(kind: .notConfigured, message: "The payer has no NHCX endpoint.", exchange: nil)
        }
        let bundle = EligibilityFHIR.requestBundle(question)
        let envelope = NHCXEnvelope(
            apiCallId: UUID().uuidString.lowercased(), correlationId: question.checkId,
            timestamp: Timestamp.now(), senderCode: question.organizationId, recipientCode: question.payer.payerCode,
            status: "request.queued", payload: bundle)
        let body = try JSON.encode(envelope)
        let controls = EligibilityCheck.ControlNumbers(
            interchange: nil, group: nil, transaction: envelope.apiCallId, trace: question.checkId)
        let exchange = EligibilityExchange(
            rawRequest: String(decoding: body, as: UTF8.self), rawResponse: nil, controlNumbers: controls)
        let url = base.hasSuffix("/") ? base + "coverageeligibility/check" : base + "/coverageeligibility/check"
        let response = try Retrying.send(
            method: "POST", url: url, headers: [("Content-Type", "application/json")], body: body,
            timeout: question.timeout, exchange: exchange)
        guard response.status == 202 || response.status == 200 else {
            var failed = exchange
            failed.rawResponse = response.bodyText
            throw ConnectorFailure(
                kind: response.status >= 500 ? .unavailable : .protocolError,
                message: "The NHCX gateway answered \(response.status).", exchange: failed)
        }
        return .pending(exchange)
    }
}
