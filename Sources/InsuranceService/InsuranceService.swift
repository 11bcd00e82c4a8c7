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
    public static let subscribedTypes: [String] = []
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
        Outbox.migration, Idempotency.migration,
    ]

    let environment: ServiceEnvironment
    public var consumer: (any EventConsumer)? { nil }

    public init(environment: ServiceEnvironment) { self.environment = environment }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/insurance") { insurance in
            insurance.post("/payers", createPayer)
            insurance.get("/payers", listPayers)
            insurance.get("/payers/{id}", readPayer)
            insurance.post("/coverages", createCoverage)
            insurance.get("/coverages/{id}", readCoverage)
            insurance.get("/patients/{patientId}/coverages", patientCoverages)
            insurance.get("/patients/{patientId}/active-coverage", activeCoverage)
        }
    }

    // MARK: Payers

    func createPayer(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        let input = try request.decode(PayerInput.self)
        var validation = Validation()
        validation.text(input.name, "/name")
        validation.text(input.payerCode, "/payerCode", maxLength: 80)
        try validation.check()
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let payer = Payer(
                id: Identifier.make("pyr"), organizationId: context.organizationId, name: input.name ?? "",
                payerCode: input.payerCode ?? "", createdAt: Timestamp.now())
            do {
                try connection.execute(
                    """
                    INSERT INTO payers (id, organization_id, name, payer_code, created_at)
                    VALUES (\(payer.id), \(payer.organizationId), \(payer.name), \(payer.payerCode), \(payer.createdAt))
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
            payerCode: try row.string("payer_code"), createdAt: try row.string("created_at"))
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
            let coverage = Coverage(
                id: Identifier.make("cov"), organizationId: context.organizationId, patientId: patientId,
                payerId: payer.id, payerName: payer.name, planName: input.planName ?? "",
                memberId: input.memberId ?? "",
                groupNumber: input.groupNumber, relationship: input.relationship ?? .self, validFrom: validFrom,
                validTo: input.validTo, copay: input.copay ?? .zero, coinsurancePercent: input.coinsurancePercent ?? 0,
                deductible: input.deductible ?? .zero, deductibleMet: input.deductibleMet ?? .zero,
                createdAt: Timestamp.now())
            let fields = environment.fields
            try connection.execute(
                """
                INSERT INTO coverages (id, organization_id, patient_id, payer_id, plan_name, member_id, member_index,
                    group_number, relationship, valid_from, valid_to, copay, coinsurance_percent, deductible,
                    deductible_met, created_at)
                VALUES (\(coverage.id), \(coverage.organizationId), \(coverage.patientId), \(coverage.payerId),
                    \(coverage.planName), \(try fields.encrypt(coverage.memberId, field: "coverages.member_id")),
                    \(fields.blindIndex(coverage.memberId, field: "coverages.member_id")),
                    \(try coverage.groupNumber.map { try fields.encrypt($0, field: "coverages.group_number") }),
                    \(coverage.relationship.rawValue),
                    \(coverage.validFrom), \(coverage.validTo), \(coverage.copay), \("\(coverage.coinsurancePercent)"),
                    \(coverage.deductible), \(coverage.deductibleMet), \(coverage.createdAt))
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
        let active = try coverages(of: patientId, context.organizationId)
            .filter { $0.isActive(on: date) }
            .max { $0.validFrom < $1.validFrom }
        guard let active else { throw Problem.notFound("Patient \(patientId) has no active coverage on \(date).") }
        return try .json(active)
    }

    func coverages(of patientId: String, _ organization: String) throws -> [Coverage] {
        try environment.database.read { connection in
            try connection.query(
                "\(unsafeRaw: InsuranceService.coverageSelect) WHERE c.patient_id = \(patientId) AND c.organization_id = \(organization) ORDER BY c.valid_from"
            ).map { try InsuranceService.coverage(from: $0, fields: environment.fields) }
        }
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
