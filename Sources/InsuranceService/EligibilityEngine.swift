import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage
import Synchronization

/// Puts eligibility questions to payers through their connector and keeps every answer: cached
/// until it expires, behind a circuit breaker per payer, never waiting longer than the payer's
/// timeout.
struct EligibilityEngine: Sendable {
    let environment: ServiceEnvironment
    let breaker: CircuitBreaker

    /// The billing provider named in questions when the caller names none.
    static let defaultProvider = ProviderIdentity(name: "Demo Multispeciality Clinic", npi: "1234567893")

    struct Ask: Sendable {
        var coverageId: String
        var dateOfService: CalendarDate
        var serviceTypeCodes: [String]
        var provider: ProviderIdentity
        var trigger: String
        var appointmentId: String?
        /// Ask the payer even when a fresh answer is cached.
        var force: Bool
    }

    func connector(for kind: EligibilityConnectorKind) -> (any EligibilityConnector)? {
        switch kind {
        case .simulator: SimulatorConnector()
        case .x12Http: X12HTTPConnector()
        case .nhcx: NHCXConnector()
        case .none: nil
        }
    }

    /// Answers from the cache or asks the payer; returns the check and whether it came from the cache.
    func check(_ ask: Ask, context: RequestContext) throws -> (EligibilityCheck, cached: Bool) {
        let fields = environment.fields
        let organization = context.organizationId
        let (coverage, payer) = try environment.database.read { connection -> (Coverage, Payer) in
            guard
                let coverage = try connection.queryFirst(
                    "\(unsafeRaw: InsuranceService.coverageSelect) WHERE c.id = \(ask.coverageId) AND c.organization_id = \(organization)"
                ).map({ try InsuranceService.coverage(from: $0, fields: fields) })
            else { throw Problem.invalid(pointer: "/coverageId", "no coverage \(ask.coverageId) in this organization") }
            guard
                let payer = try connection.queryFirst(
                    "SELECT * FROM payers WHERE id = \(coverage.payerId) AND organization_id = \(organization)"
                ).map(InsuranceService.payer(from:))
            else { throw Problem.notFound("Payer \(coverage.payerId) does not exist.") }
            return (coverage, payer)
        }
        guard coverage.isActive(on: ask.dateOfService) else {
            throw Problem.invalid(
                pointer: "/dateOfService",
                "coverage \(coverage.id) is registered from \(coverage.validFrom)"
                    + (coverage.validTo.map { " to \($0)" } ?? "") + ", not on \(ask.dateOfService)")
        }
        let serviceTypes = ask.serviceTypeCodes.joined(separator: "^")
        if !ask.force, let cached = try cachedCheck(coverage.id, ask.dateOfService, serviceTypes, organization) {
            return (cached, true)
        }
        guard let connector = connector(for: payer.connector) else {
            throw Problem.conflict(
                "\(payer.name) has no electronic eligibility (connector none); verify by phone or portal.",
                type: "eligibility-not-supported")
        }
        guard
            let patient = try environment.services.client(for: "patient").get(
                PatientDemographics.self, "/api/patients/\(coverage.patientId)?view=summary", context: context)
        else { throw Problem.notFound("Patient \(coverage.patientId) does not exist.") }

        let now = Timestamp.now()
        var check = EligibilityCheck(
            id: Identifier.make("elg"), organizationId: organization, patientId: coverage.patientId,
            coverageId: coverage.id, payerId: payer.id, connector: payer.connector, trigger: ask.trigger,
            appointmentId: ask.appointmentId, dateOfService: ask.dateOfService, serviceTypeCodes: ask.serviceTypeCodes,
            status: .pending, message: "Asking \(payer.name)…", retryable: false, requestedAt: now, completedAt: nil,
            expiresAt: nil, controlNumbers: nil, result: nil)
        // The question is on record before it leaves, so that a callback can find it and a crash
        // mid-call leaves a visible pending check rather than nothing.
        let controlNumber = try environment.database.write { connection -> Int in
            let number = try EligibilityStore.nextControlNumber(in: connection)
            try EligibilityStore.insert(check, fields: fields, in: connection)
            return number
        }
        let question = EligibilityQuestion(
            checkId: check.id, organizationId: organization, payer: payer, coverage: coverage, patient: patient,
            provider: ask.provider, dateOfService: ask.dateOfService, serviceTypeCodes: ask.serviceTypeCodes,
            interchangeControlNumber: controlNumber)

        var exchange: EligibilityExchange?
        if !breaker.allow(payer.id) {
            check.status = .notVerified
            check.retryable = true
            check.message =
                "Not verified: \(payer.name) has failed repeatedly, so it is not being asked for a while. Retry in a minute."
        } else {
            do {
                switch try connector.ask(question) {
                case .answered(let answered, let result):
                    breaker.recordSuccess(payer.id)
                    exchange = answered
                    apply(result, to: &check, payer: payer)
                case .pending(let sent):
                    breaker.recordSuccess(payer.id)
                    exchange = sent
                    check.message = "Sent to \(payer.name) through NHCX; the answer arrives by callback."
                }
            } catch let failure as ConnectorFailure {
                if failure.kind == .timeout || failure.kind == .unavailable { breaker.recordFailure(payer.id) }
                exchange = failure.exchange
                check.status = .notVerified
                check.retryable = failure.kind != .notConfigured
                check.message = "Not verified: \(failure.message) Retry, or verify by phone."
            }
        }
        if check.status != .pending { check.completedAt = Timestamp.now() }
        check.controlNumbers = exchange?.controlNumbers
        let final = check
        try environment.database.write { connection in
            try EligibilityStore.recordExchange(
                final, rawRequest: exchange?.rawRequest, rawResponse: exchange?.rawResponse, fields: fields,
                in: connection)
            // A pending question stays as inserted: its callback may already have answered it.
            guard final.status != .pending else { return }
            try EligibilityStore.complete(final, fields: fields, in: connection)
            try publish(final, context.requestId, in: connection)
        }
        environment.outbox.notify()
        return (final, false)
    }

    /// Status, message and expiry from the payer's answer.
    func apply(_ result: EligibilityResult, to check: inout EligibilityCheck, payer: Payer) {
        check.result = result
        let cacheUntil = Timestamp.format(Date().addingTimeInterval(Double(payer.eligibilityCacheMinutes) * 60))
        if let rejection = result.rejections.first {
            // 42 "unable to respond" and follow-up R "resubmission allowed" ask for a retry later.
            if rejection.code == "42" || rejection.code == "80" {
                check.status = .notVerified
                check.retryable = true
                check.message = "Not verified: \(rejection.explanation). Retry later."
            } else {
                check.status = .rejected
                check.retryable = false
                check.expiresAt = cacheUntil
                check.message =
                    "Rejected by \(payer.name): \(rejection.explanation)."
                    + (rejection.followUp.map { " \($0)." } ?? "")
            }
            return
        }
        check.expiresAt = cacheUntil
        switch result.active {
        case true?:
            check.status = .active
            var parts: [String] = []
            let share = result.costShare
            if let copay = share.copay { parts.append("copay \(copay)") }
            if let percent = share.coinsurancePercent { parts.append("coinsurance \(percent)%") }
            if let remaining = share.deductibleRemaining {
                parts.append("deductible remaining \(remaining)" + (share.deductible.map { " of \($0)" } ?? ""))
            }
            check.message =
                "Coverage active on \(check.dateOfService)"
                + (parts.isEmpty ? "." : ": " + parts.joined(separator: ", ") + ".")
        case false?:
            check.status = .inactive
            check.message =
                "Coverage NOT active on \(check.dateOfService). Ask the patient for current insurance, or register the visit as self-pay."
        case nil:
            check.status = .notVerified
            check.retryable = false
            check.expiresAt = nil
            check.message = "Not verified: the payer's answer did not say whether coverage is active."
        }
    }

    func publish(_ check: EligibilityCheck, _ correlationId: String, in connection: any SQLConnection) throws {
        try environment.outbox.publish(
            try EventEnvelope.make(
                type: "eligibility.checked", organizationId: check.organizationId, locationId: nil,
                correlationId: correlationId, source: InsuranceService.name,
                body: EligibilityCheckedEvent(
                    checkId: check.id, coverageId: check.coverageId, patientId: check.patientId,
                    appointmentId: check.appointmentId, status: check.status.rawValue, trigger: check.trigger)),
            in: connection)
    }

    func cachedCheck(
        _ coverageId: String, _ date: CalendarDate, _ serviceTypes: String, _ organization: String
    )
        throws -> EligibilityCheck?
    {
        let now = Timestamp.now()
        let recent = Timestamp.format(Date().addingTimeInterval(-600))
        return try environment.database.read { connection in
            try connection.queryFirst(
                """
                SELECT * FROM eligibility_checks
                WHERE organization_id = \(organization) AND coverage_id = \(coverageId) AND date_of_service = \(date)
                    AND service_types = \(serviceTypes)
                    AND ((status IN ('active', 'inactive', 'rejected') AND expires_at > \(now))
                        OR (status = 'pending' AND requested_at > \(recent)))
                ORDER BY requested_at DESC LIMIT 1
                """
            ).map { try EligibilityStore.check(from: $0, fields: environment.fields) }
        }
    }
}

struct EligibilityCheckedEvent: Codable {
    let checkId: String
    let coverageId: String
    let patientId: String
    let appointmentId: String?
    let status: String
    let trigger: String
}

/// Rows of `eligibility_checks`; the answer and the raw exchange hold PHI and are stored encrypted.
enum EligibilityStore {
    static func nextControlNumber(in connection: any SQLConnection) throws -> Int {
        let row = try connection.queryFirst(
            """
            INSERT INTO x12_counters (name, next_value) VALUES ('interchange', 2)
            ON CONFLICT (name) DO UPDATE SET next_value = x12_counters.next_value + 1
            RETURNING next_value - 1 AS value
            """)
        // ISA13 has nine digits; wrap before a billion.
        return Int((try row?.int64("value") ?? 1) % 999_999_999)
    }

    static func insert(_ check: EligibilityCheck, fields: FieldEncryption, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO eligibility_checks (id, organization_id, patient_id, coverage_id, payer_id, connector, trigger,
                appointment_id, date_of_service, service_types, status, message, retryable, requested_at)
            VALUES (\(check.id), \(check.organizationId), \(check.patientId), \(check.coverageId), \(check.payerId),
                \(check.connector.rawValue), \(check.trigger), \(check.appointmentId), \(check.dateOfService),
                \(check.serviceTypeCodes.joined(separator: "^")), \(check.status.rawValue), \(check.message),
                \(check.retryable ? 1 : 0), \(check.requestedAt))
            """)
    }

    /// The answer: status, message, expiry and result.
    static func complete(_ check: EligibilityCheck, fields: FieldEncryption, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            UPDATE eligibility_checks SET status = \(check.status.rawValue), message = \(check.message),
                retryable = \(check.retryable ? 1 : 0), completed_at = \(check.completedAt),
                expires_at = \(check.expiresAt),
                result = \(try check.result.map { try fields.encrypt(try JSON.encodeString($0), field: "eligibility.result") })
            WHERE id = \(check.id)
            """)
    }

    /// What went over the wire and its control numbers; a part not given is left as it is.
    static func recordExchange(
        _ check: EligibilityCheck, rawRequest: String?, rawResponse: String?, fields: FieldEncryption,
        in connection: any SQLConnection
    ) throws {
        if let controls = check.controlNumbers {
            try connection.execute(
                """
                UPDATE eligibility_checks SET interchange_control = \(controls.interchange),
                    group_control = \(controls.group), transaction_control = \(controls.transaction),
                    trace_number = \(controls.trace)
                WHERE id = \(check.id)
                """)
        }
        if let rawRequest {
            try connection.execute(
                """
                UPDATE eligibility_checks SET raw_request = \(try fields.encrypt(rawRequest, field: "eligibility.raw_request"))
                WHERE id = \(check.id)
                """)
        }
        if let rawResponse {
            try connection.execute(
                """
                UPDATE eligibility_checks
                SET raw_response = \(try fields.encrypt(rawResponse, field: "eligibility.raw_response"))
                WHERE id = \(check.id)
                """)
        }
    }

    static func check(from row: Row, fields: FieldEncryption) throws -> EligibilityCheck {
        let interchange = row.optionalString("interchange_control")
        let transaction = row.optionalString("transaction_control")
        let trace = row.optionalString("trace_number")
        let types = try row.string("service_types")
        return EligibilityCheck(
            id: try row.string("id"), organizationId: try row.string("organization_id"),
            patientId: try row.string("patient_id"), coverageId: try row.string("coverage_id"),
            payerId: try row.string("payer_id"),
            connector: EligibilityConnectorKind(rawValue: try row.string("connector")) ?? .none,
            trigger: try row.string("trigger"), appointmentId: row.optionalString("appointment_id"),
            dateOfService: try row.date("date_of_service"),
            serviceTypeCodes: types.isEmpty ? [] : types.split(separator: "^").map(String.init),
            status: EligibilityCheck.Status(rawValue: try row.string("status")) ?? .notVerified,
            message: try row.string("message"), retryable: try row.int("retryable") != 0,
            requestedAt: try row.string("requested_at"), completedAt: row.optionalString("completed_at"),
            expiresAt: row.optionalString("expires_at"),
            controlNumbers: interchange == nil && transaction == nil && trace == nil
                ? nil
                : .init(
                    interchange: interchange, group: row.optionalString("group_control"), transaction: transaction,
                    trace: trace),
            result: try row.optionalString("result").map { try decodedResult($0, fields: fields) })
    }

    /// Decoded answers by their stored ciphertext. A finished check's answer does not change, and
    /// every `GET` of an active coverage (each bill) reads the latest one: decrypting and decoding
    /// it each time was most of that request's cost. A ciphertext is unique to one encryption
    /// (random nonce), so the same text always means the same answer; bounded, cleared when full.
    private static let results = Mutex<[String: EligibilityResult]>([:])
    static let maxCachedResults = 1024

    static func decodedResult(_ ciphertext: String, fields: FieldEncryption) throws -> EligibilityResult {
        if let cached = results.withLock({ $0[ciphertext] }) { return cached }
        let result = try JSON.decode(
            EligibilityResult.self, from: try fields.decrypt(ciphertext, field: "eligibility.result"))
        results.withLock { cache in
            if cache.count >= maxCachedResults { cache.removeAll(keepingCapacity: true) }
            cache[ciphertext] = result
        }
        return result
    }

    static func find(
        _ id: String, organization: String, fields: FieldEncryption, in connection: any SQLConnection
    )
        throws -> EligibilityCheck?
    {
        try connection.queryFirst(
            "SELECT * FROM eligibility_checks WHERE id = \(id) AND organization_id = \(organization)"
        ).map { try check(from: $0, fields: fields) }
    }

    /// The newest finished answer (active or inactive) for a coverage that has not expired.
    static func latestVerified(
        _ coverageId: String, organization: String, fields: FieldEncryption, in connection: any SQLConnection
    )
        throws -> EligibilityCheck?
    {
        try connection.queryFirst(
            """
            SELECT * FROM eligibility_checks
            WHERE organization_id = \(organization) AND coverage_id = \(coverageId)
                AND status IN ('active', 'inactive') AND expires_at > \(Timestamp.now())
            ORDER BY completed_at DESC LIMIT 1
            """
        ).map { try check(from: $0, fields: fields) }
    }
}
