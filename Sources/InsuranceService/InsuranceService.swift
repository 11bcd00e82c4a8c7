import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage

/// Payers and patients' coverages; answers billing's question "what covers this patient on this date".
public struct InsuranceService: PlatformService {
    public static let name = "insurance"
    public static let subscribedTypes = [
        "appointment.booked", "appointment.rescheduled", "appointment.cancelled", "appointment.no_show",
        "appointment.checked_in",
    ]
    public static let migrations = [
        Migration(
            1, "payers and coverages",
            [
                """
                CREATE TABLE payers (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, name TEXT NOT NULL, payer_code TEXT NOT NULL,
                    created_at TEXT NOT NULL, UNIQUE (organization_id, payer_code))
                """,
                """
                CREATE TABLE coverages (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, patient_id TEXT NOT NULL, payer_id TEXT NOT NULL,
                    plan_name TEXT NOT NULL, member_id TEXT NOT NULL, member_index TEXT NOT NULL, group_number TEXT,
                    relationship TEXT NOT NULL,
                    valid_from TEXT NOT NULL, valid_to TEXT, copay BIGINT NOT NULL, coinsurance_percent TEXT NOT NULL,
                    deductible BIGINT NOT NULL, deductible_met BIGINT NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX coverages_patient ON coverages (organization_id, patient_id)",
            ]),
        Outbox.migration, Outbox.cursorMigration, Idempotency.migration, Inbox.migration,
        Migration(
            2, "payer directory, plans, coverage order, eligibility checks",
            [
                "ALTER TABLE payers ADD COLUMN connector TEXT NOT NULL DEFAULT 'simulator'",
                "ALTER TABLE payers ADD COLUMN x12_receiver_id TEXT",
                "ALTER TABLE payers ADD COLUMN x12_endpoint TEXT",
                "ALTER TABLE payers ADD COLUMN fhir_endpoint TEXT",
                "ALTER TABLE payers ADD COLUMN timeout_ms INTEGER NOT NULL DEFAULT 5000",
                "ALTER TABLE payers ADD COLUMN eligibility_cache_minutes INTEGER NOT NULL DEFAULT 1440",
                """
                CREATE TABLE plans (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, payer_id TEXT NOT NULL, name TEXT NOT NULL,
                    plan_code TEXT, plan_type TEXT, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX plans_payer ON plans (organization_id, payer_id)",
                "ALTER TABLE coverages ADD COLUMN plan_id TEXT",
                "ALTER TABLE coverages ADD COLUMN coverage_order INTEGER NOT NULL DEFAULT 1",
                "ALTER TABLE coverages ADD COLUMN subscriber TEXT",
                "CREATE INDEX coverages_member ON coverages (organization_id, member_index)",
                """
                CREATE TABLE eligibility_checks (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, patient_id TEXT NOT NULL,
                    coverage_id TEXT NOT NULL, payer_id TEXT NOT NULL, connector TEXT NOT NULL, trigger TEXT NOT NULL,
                    appointment_id TEXT, date_of_service TEXT NOT NULL, service_types TEXT NOT NULL,
                    status TEXT NOT NULL, message TEXT NOT NULL, retryable INTEGER NOT NULL,
                    requested_at TEXT NOT NULL, completed_at TEXT, expires_at TEXT,
                    interchange_control TEXT, group_control TEXT, transaction_control TEXT, trace_number TEXT,
                    result TEXT, raw_request TEXT, raw_response TEXT)
                """,
                "CREATE INDEX eligibility_coverage ON eligibility_checks (organization_id, coverage_id, requested_at)",
                "CREATE INDEX eligibility_patient ON eligibility_checks (organization_id, patient_id, requested_at)",
                "CREATE INDEX eligibility_trace ON eligibility_checks (trace_number)",
                """
                CREATE TABLE eligibility_queue (
                    appointment_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, patient_id TEXT NOT NULL,
                    location_id TEXT, provider_npi TEXT, date_of_service TEXT NOT NULL, due_at TEXT NOT NULL,
                    reason TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, check_id TEXT,
                    updated_at TEXT NOT NULL)
                """,
                "CREATE INDEX eligibility_queue_due ON eligibility_queue (state, due_at)",
                "CREATE TABLE x12_counters (name TEXT PRIMARY KEY, next_value BIGINT NOT NULL)",
            ]),
    ]

    let environment: ServiceEnvironment
    let eligibility: EligibilityEngine
    let scheduler: EligibilityScheduler
    public var consumer: (any EventConsumer)? { InsuranceConsumer(environment: environment) }
    public var jobs: [ScheduledJob] {
        [ScheduledJob(name: "eligibility-due", every: 60) { [scheduler] in _ = try scheduler.runDue() }]
    }

    public init(environment: ServiceEnvironment) {
        self.environment = environment
        eligibility = EligibilityEngine(environment: environment, breaker: CircuitBreaker(threshold: 5, openFor: 30))
        scheduler = EligibilityScheduler(environment: environment, engine: eligibility)
    }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/insurance") { insurance in
            insurance.post("/payers", createPayer)
            insurance.get("/payers", listPayers)
            insurance.get("/payers/{id}", readPayer)
            insurance.get("/payers/{id}/plans", listPlans)
            insurance.post("/plans", createPlan)
            insurance.post("/coverages", createCoverage)
            insurance.get("/coverages", findCoverages)
            insurance.get("/coverages/{id}", readCoverage)
            insurance.get("/patients/{patientId}/coverages", patientCoverages)
            insurance.get("/patients/{patientId}/active-coverage", activeCoverage)
            insurance.post("/eligibility/checks", checkEligibility)
            insurance.get("/eligibility/checks", listEligibilityChecks)
            insurance.get("/eligibility/checks/{id}", readEligibilityCheck)
            insurance.get("/eligibility/checks/{id}/raw", rawEligibilityExchange)
            insurance.get("/eligibility/checks/{id}/fhir", eligibilityAsFHIR)
            insurance.post("/eligibility/run-due", runDueEligibility)
            insurance.post("/nhcx/coverageeligibility/on_check", nhcxOnCheck)
        }
    }

    // MARK: Payers

    func createPayer(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        let input = try request.decode(PayerInput.self)
        var validation = Validation()
        validation.text(input.name, "/name")
        validation.text(input.payerCode, "/payerCode", maxLength: 80)
        InsuranceService.validateConnector(input, &validation)
        try validation.check()
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let payer = Payer(
                id: Identifier.make("pyr"), organizationId: context.organizationId, name: input.name ?? "",
                payerCode: input.payerCode ?? "", connector: input.connector ?? .simulator,
                x12ReceiverId: input.x12ReceiverId, x12Endpoint: input.x12Endpoint, fhirEndpoint: input.fhirEndpoint,
                timeoutMilliseconds: input.timeoutMilliseconds ?? 5000,
                eligibilityCacheMinutes: input.eligibilityCacheMinutes ?? 1440, createdAt: Timestamp.now())
            do {
                try connection.execute(
                    """
                    INSERT INTO payers (id, organization_id, name, payer_code, connector, x12_receiver_id, x12_endpoint,
                        fhir_endpoint, timeout_ms, eligibility_cache_minutes, created_at)
                    VALUES (\(payer.id), \(payer.organizationId), \(payer.name), \(payer.payerCode),
                        \(payer.connector.rawValue), \(payer.x12ReceiverId), \(payer.x12Endpoint), \(payer.fhirEndpoint),
                        \(payer.timeoutMilliseconds), \(payer.eligibilityCacheMinutes), \(payer.createdAt))
                    """)
            } catch let error as DatabaseError where error.kind == .uniqueViolation {
                throw Problem.conflict("A payer with payer code \(payer.payerCode) already exists.")
            }
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "payer.created", organizationId: payer.organizationId, locationId: nil,
                    correlationId: context.requestId, source: InsuranceService.name, body: payer),
                in: connection)
            return try .json(payer, status: 201)
        }
    }

    func listPayers(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let payers = try environment.database.read { connection in
            try connection.query("SELECT * FROM payers WHERE organization_id = \(context.organizationId) ORDER BY name")
                .map(InsuranceService.payer(from:))
        }
        return try .json(["items": payers])
    }

    func readPayer(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        guard let payer = try environment.database.read({ try findPayer(id, context.organizationId, $0) }) else {
            throw Problem.notFound("Payer \(id) does not exist.")
        }
        return try .json(payer)
    }

    func findPayer(_ id: String, _ organization: String, _ connection: any SQLConnection) throws -> Payer? {
        try connection.queryFirst("SELECT * FROM payers WHERE id = \(id) AND organization_id = \(organization)")
            .map(InsuranceService.payer(from:))
    }

    static func payer(from row: Row) throws -> Payer {
        Payer(
            id: try row.string("id"), organizationId: try row.string("organization_id"), name: try row.string("name"),
            payerCode: try row.string("payer_code"),
            connector: EligibilityConnectorKind(rawValue: try row.string("connector")) ?? .none,
            x12ReceiverId: row.optionalString("x12_receiver_id"), x12Endpoint: row.optionalString("x12_endpoint"),
            fhirEndpoint: row.optionalString("fhir_endpoint"), timeoutMilliseconds: try row.int("timeout_ms"),
            eligibilityCacheMinutes: try row.int("eligibility_cache_minutes"), createdAt: try row.string("created_at"))
    }

    /// A payer's connector needs its endpoint; timeouts and cache lifetimes stay within sane bounds.
    static func validateConnector(_ input: PayerInput, _ validation: inout Validation) {
        func isURL(_ text: String?) -> Bool {
            guard let text, let url = URL(string: text), let scheme = url.scheme, url.host != nil else { return false }
            return scheme == "http" || scheme == "https"
        }
        validation.text(input.x12ReceiverId, "/x12ReceiverId", maxLength: 15, required: false)
        if input.connector == .x12Http || input.x12Endpoint != nil {
            validation.require(
                isURL(input.x12Endpoint), "/x12Endpoint", "must be an http(s) URL for connector x12-http")
        }
        if input.connector == .nhcx || input.fhirEndpoint != nil {
            validation.require(isURL(input.fhirEndpoint), "/fhirEndpoint", "must be an http(s) URL for connector nhcx")
        }
        if let timeout = input.timeoutMilliseconds {
            validation.require(timeout >= 100 && timeout <= 60000, "/timeoutMilliseconds", "must be 100 to 60000")
        }
        if let minutes = input.eligibilityCacheMinutes {
            validation.require(
                minutes >= 0 && minutes <= 10080, "/eligibilityCacheMinutes", "must be 0 to 10080 (a week)")
        }
    }

    // MARK: Coverages

    func createCoverage(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        let input = try request.decode(CoverageInput.self)
        var validation = Validation()
        validation.text(input.patientId, "/patientId", maxLength: 64)
        validation.text(input.payerId, "/payerId", maxLength: 64)
        validation.text(input.planName, "/planName")
        validation.text(input.memberId, "/memberId", maxLength: 80)
        validation.text(input.groupNumber, "/groupNumber", maxLength: 80, required: false)
        validation.require(input.relationship != nil, "/relationship", "is required (self, spouse, child, other)")
        validation.require(input.validFrom != nil, "/validFrom", "is required")
        if let from = input.validFrom, let to = input.validTo {
            validation.require(from <= to, "/validTo", "must not be before validFrom")
        }
        for (pointer, amount) in [
            ("/copay", input.copay), ("/deductible", input.deductible), ("/deductibleMet", input.deductibleMet),
        ] {
            if let amount { validation.require(!amount.isNegative, pointer, "must not be negative") }
        }
        if let met = input.deductibleMet {
            validation.require(met <= (input.deductible ?? .zero), "/deductibleMet", "must not exceed the deductible")
        }
        if let percent = input.coinsurancePercent {
            validation.require(percent >= 0 && percent <= 100, "/coinsurancePercent", "must be between 0 and 100")
        }
        if let order = input.order {
            validation.require((1...3).contains(order), "/order", "must be 1 (primary), 2 (secondary) or 3 (tertiary)")
        }
        validation.text(input.planId, "/planId", maxLength: 64, required: false)
        if let subscriber = input.subscriber {
            validation.text(subscriber.givenName, "/subscriber/givenName")
            validation.text(subscriber.familyName, "/subscriber/familyName")
            if let birth = subscriber.dateOfBirth {
                validation.require(
                    birth <= CalendarDate.today(), "/subscriber/dateOfBirth", "must not be in the future")
            }
            if let sex = subscriber.sex {
                validation.require(
                    ["female", "male", "other", "unknown"].contains(sex), "/subscriber/sex",
                    "must be female, male, other or unknown")
            }
        }
        if let relationship = input.relationship, relationship != .self {
            validation.require(
                input.subscriber != nil, "/subscriber", "is required when the patient is not the subscriber")
        }
        try validation.check()
        guard let patientId = input.patientId, let payerId = input.payerId, let validFrom = input.validFrom else {
            throw Problem.invalid(pointer: "", "incomplete coverage")
        }
        let patients = try environment.services.client(for: "patient")
        guard try patients.get(PatientReference.self, "/api/patients/\(patientId)", context: context) != nil else {
            throw Problem.invalid(pointer: "/patientId", "no patient \(patientId) in this organization")
        }
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            guard let payer = try findPayer(payerId, context.organizationId, connection) else {
                throw Problem.invalid(pointer: "/payerId", "no payer \(payerId) in this organization")
            }
            if let planId = input.planId {
                let plan = try connection.queryFirst(
                    "SELECT payer_id FROM plans WHERE id = \(planId) AND organization_id = \(context.organizationId)")
                guard let plan, try plan.string("payer_id") == payer.id else {
                    throw Problem.invalid(pointer: "/planId", "no plan \(planId) of payer \(payer.id)")
                }
            }
            let order = input.order ?? 1
            var overlapping: SQL = """
                SELECT id FROM coverages
                WHERE organization_id = \(context.organizationId) AND patient_id = \(patientId)
                    AND coverage_order = \(order) AND (valid_to IS NULL OR valid_to >= \(validFrom))
                """
            if let validTo = input.validTo { overlapping = overlapping + " AND valid_from <= \(validTo)" }
            let taken = try connection.queryFirst(overlapping)
            if let taken {
                throw Problem.invalid(
                    pointer: "/order",
                    "coverage \(try taken.string("id")) is already order \(order) for an overlapping period")
            }
            let coverage = Coverage(
                id: Identifier.make("cov"), organizationId: context.organizationId, patientId: patientId,
                payerId: payer.id, payerName: payer.name, planName: input.planName ?? "",
                memberId: input.memberId ?? "",
                groupNumber: input.groupNumber, relationship: input.relationship ?? .self, planId: input.planId,
                order: order, subscriber: input.subscriber, validFrom: validFrom,
                validTo: input.validTo, copay: input.copay ?? .zero, coinsurancePercent: input.coinsurancePercent ?? 0,
                deductible: input.deductible ?? .zero, deductibleMet: input.deductibleMet ?? .zero,
                createdAt: Timestamp.now())
            let fields = environment.fields
            try connection.execute(
                """
                INSERT INTO coverages (id, organization_id, patient_id, payer_id, plan_name, member_id, member_index,
                    group_number, relationship, valid_from, valid_to, copay, coinsurance_percent, deductible,
                    deductible_met, created_at, plan_id, coverage_order, subscriber)
                VALUES (\(coverage.id), \(coverage.organizationId), \(coverage.patientId), \(coverage.payerId),
                    \(coverage.planName), \(try fields.encrypt(coverage.memberId, field: "coverages.member_id")),
                    \(fields.blindIndex(coverage.memberId, field: "coverages.member_id")),
                    \(try coverage.groupNumber.map { try fields.encrypt($0, field: "coverages.group_number") }),
                    \(coverage.relationship.rawValue),
                    \(coverage.validFrom), \(coverage.validTo), \(coverage.copay), \("\(coverage.coinsurancePercent)"),
                    \(coverage.deductible), \(coverage.deductibleMet), \(coverage.createdAt), \(coverage.planId),
                    \(coverage.order),
                    \(try coverage.subscriber.map { try fields.encrypt(try JSON.encodeString($0), field: "coverages.subscriber") }))
                """)
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "coverage.created", organizationId: coverage.organizationId, locationId: nil,
                    correlationId: context.requestId, source: InsuranceService.name,
                    body: ["coverageId": coverage.id, "patientId": coverage.patientId, "payerId": coverage.payerId]),
                in: connection)
            return try .json(coverage, status: 201)
        }
    }

    func readCoverage(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let coverage = try environment.database.read { connection in
            try connection.queryFirst(
                "\(unsafeRaw: InsuranceService.coverageSelect) WHERE c.id = \(id) AND c.organization_id = \(context.organizationId)"
            ).map { try InsuranceService.coverage(from: $0, fields: environment.fields) }
        }
        guard let coverage else { throw Problem.notFound("Coverage \(id) does not exist.") }
        return try .json(coverage)
    }

    func patientCoverages(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let coverages = try coverages(of: context.parameter("patientId"), context.organizationId)
        return try .json(["items": coverages])
    }

    /// The coverage in force on `date` (default today); the most recently started one when several are.
    func activeCoverage(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let patientId = context.parameter("patientId")
        let date = try request.dateQuery("date") ?? CalendarDate.today()
        // One read transaction for the coverage and its latest verified eligibility answer.
        let found = try environment.database.read { connection -> (Coverage, EligibilityCheck?)? in
            let active = try coverages(of: patientId, context.organizationId, in: connection)
                .filter { $0.isActive(on: date) }
                .min { ($0.order, $1.validFrom) < ($1.order, $0.validFrom) }
            guard let active else { return nil }
            let verified = try EligibilityStore.latestVerified(
                active.id, organization: context.organizationId, fields: environment.fields, in: connection)
            return (active, verified)
        }
        guard let found else { throw Problem.notFound("Patient \(patientId) has no active coverage on \(date).") }
        var active = found.0
        let verified = found.1
        if let verified {
            active.eligibility = EligibilityStatus(
                checkId: verified.id, status: verified.status, checkedAt: verified.completedAt ?? verified.requestedAt,
                expiresAt: verified.expiresAt)
            if verified.status == .inactive, verified.dateOfService == date {
                throw Problem.notFound(
                    "The payer answered on \(verified.completedAt ?? verified.requestedAt) that coverage \(active.id) is not active on \(date) (check \(verified.id))."
                )
            }
            if verified.status == .active, let share = verified.result?.costShare {
                InsuranceService.overlay(share, on: &active)
            }
        }
        return try .json(active)
    }

    /// The payer's verified figures replace the registered ones, where the payer gave them.
    static func overlay(_ share: EligibilityResult.CostShare, on coverage: inout Coverage) {
        var used = false
        if let copay = share.copay {
            coverage.copay = copay
            used = true
        }
        if let percent = share.coinsurancePercent {
            coverage.coinsurancePercent = percent
            used = true
        }
        if let deductible = share.deductible {
            coverage.deductible = deductible
            let remaining = share.deductibleRemaining ?? .zero
            coverage.deductibleMet = Money.min(deductible, Money.max(.zero, deductible - remaining))
            used = true
        }
        if used { coverage.costShareSource = "eligibility" }
    }

    func coverages(of patientId: String, _ organization: String) throws -> [Coverage] {
        try environment.database.read { try coverages(of: patientId, organization, in: $0) }
    }

    func coverages(
        of patientId: String, _ organization: String, in connection: any SQLConnection
    ) throws
        -> [Coverage]
    {
        try connection.query(
            "\(unsafeRaw: InsuranceService.coverageSelect) WHERE c.patient_id = \(patientId) AND c.organization_id = \(organization) ORDER BY c.valid_from"
        ).map { try InsuranceService.coverage(from: $0, fields: environment.fields) }
    }

    static let coverageSelect = "SELECT c.*, p.name AS payer_name FROM coverages c JOIN payers p ON p.id = c.payer_id"

    static func coverage(from row: Row, fields: FieldEncryption) throws -> Coverage {
        Coverage(
            id: try row.string("id"), organizationId: try row.string("organization_id"),
            patientId: try row.string("patient_id"), payerId: try row.string("payer_id"),
            payerName: try row.string("payer_name"), planName: try row.string("plan_name"),
            memberId: try fields.decrypt(try row.string("member_id"), field: "coverages.member_id"),
            groupNumber: try row.optionalString("group_number").map {
                try fields.decrypt($0, field: "coverages.group_number")
            },
            relationship: Coverage.Relationship(rawValue: try row.string("relationship")) ?? .other,
            planId: row.optionalString("plan_id"), order: try row.int("coverage_order"),
            subscriber: try row.optionalString("subscriber").map {
                try JSON.decode(Coverage.Subscriber.self, from: try fields.decrypt($0, field: "coverages.subscriber"))
            },
            validFrom: try row.date("valid_from"), validTo: row.optionalDate("valid_to"), copay: try row.money("copay"),
            coinsurancePercent: Decimal(string: try row.string("coinsurance_percent")) ?? 0,
            deductible: try row.money("deductible"), deductibleMet: try row.money("deductible_met"),
            createdAt: try row.string("created_at"))
    }
}

/// The part of a patient this service needs to know exists.
struct PatientReference: Decodable {
    let id: String
}

extension InsuranceService {
    /// Re-encrypts member ids and group numbers with the newest key (`rcm keys rotate`).
    public static func reencrypt(_ database: any Database, fields: FieldEncryption) throws -> Int {
        try database.write { connection in
            var changed = 0
            for row in try connection.query("SELECT id, member_id, group_number FROM coverages") {
                let member = try row.string("member_id")
                let group = row.optionalString("group_number")
                guard fields.needsRotation(member) || (group.map(fields.needsRotation) ?? false) else { continue }
                let memberId = try fields.decrypt(member, field: "coverages.member_id")
                let groupNumber = try group.map { try fields.decrypt($0, field: "coverages.group_number") }
                try connection.execute(
                    """
                    UPDATE coverages SET member_id = \(try fields.encrypt(memberId, field: "coverages.member_id")),
                        group_number = \(try groupNumber.map { try fields.encrypt($0, field: "coverages.group_number") })
                    WHERE id = \(try row.string("id"))
                    """)
                changed += 1
            }
            return changed
        }
    }
}
