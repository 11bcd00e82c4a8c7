import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// Claims to payers: made from issued invoices of insured patients, then moved through their lifecycle.
public struct ClaimService: PlatformService {
    public static let name = "claim"
    public static let subscribedTypes = ["invoice.issued"]
    public static let migrations = [
        Migration(
            1, "claims",
            [
                """
                CREATE TABLE claims (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    invoice_id TEXT NOT NULL UNIQUE, invoice_number TEXT NOT NULL, patient_id TEXT NOT NULL,
                    coverage_id TEXT NOT NULL, payer_id TEXT NOT NULL, payer_name TEXT NOT NULL, member_id TEXT NOT NULL,
                    date_of_service TEXT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, total BIGINT NOT NULL,
                    expected_amount BIGINT NOT NULL, paid_amount BIGINT NOT NULL, created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL)
                """,
                "CREATE INDEX claims_patient ON claims (organization_id, patient_id)",
                "CREATE INDEX claims_status ON claims (organization_id, status)",
                """
                CREATE TABLE claim_lines (
                    claim_id TEXT NOT NULL, line_number INTEGER NOT NULL, code TEXT NOT NULL, description TEXT NOT NULL,
                    quantity INTEGER NOT NULL, amount BIGINT NOT NULL, expected_amount BIGINT NOT NULL,
                    PRIMARY KEY (claim_id, line_number))
                """,
                """
                CREATE TABLE claim_transitions (
                    seq {{id}}, claim_id TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, reason TEXT,
                    paid_amount BIGINT, occurred_at TEXT NOT NULL)
                """,
            ]),
        Outbox.migration, Outbox.cursorMigration, Inbox.migration, Idempotency.migration,
        Migration(2, "scrubber findings", ["ALTER TABLE claims ADD COLUMN findings TEXT"]),
    ]

    let environment: ServiceEnvironment
    public var consumer: (any EventConsumer)? { ClaimConsumer(environment: environment) }

    public init(environment: ServiceEnvironment) { self.environment = environment }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/claims") { claims in
            claims.get("", list)
            claims.get("/{id}", read)
            claims.post("/{id}/transitions", transition)
        }
    }

    func list(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        var sql: SQL =
            "SELECT * FROM claims WHERE organization_id = \(context.organizationId)"
            + context.locationFilter("location_id")
        if let invoiceId = request.query["invoiceId"] { sql = sql + " AND invoice_id = \(invoiceId)" }
        if let patientId = request.query["patientId"] { sql = sql + " AND patient_id = \(patientId)" }
        if let statusText = request.query["status"] {
            guard ClaimStatus(rawValue: statusText) != nil else {
                throw Problem.invalid(
                    pointer: "query:status",
                    "must be one of \(ClaimStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sql = sql + " AND status = \(statusText)"
        }
        let limit = try request.pageLimit()
        if let cursor = request.query["cursor"] { sql = sql + " AND id > \(cursor)" }
        sql = sql + " ORDER BY id LIMIT \(limit)"
        let claims = try environment.database.read { connection in
            try connection.query(sql).map { try ClaimService.claim(from: $0, in: connection) }
        }
        return try .json(Page(items: claims, limit: limit, cursor: \.id))
    }

    func read(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        guard let claim = try environment.database.read({ try ClaimService.find(id, context.organizationId, $0) })
        else {
            throw Problem.notFound("Claim \(id) does not exist.")
        }
        guard context.mayAccess(location: claim.locationId) else {
            throw Problem.notFound("Claim \(id) does not exist.")
        }
        return try .json(claim)
    }

    /// Moves a claim to its next status (`{"status": "submitted"}`; `paid` and `partially_paid` need `paidAmount`).
    func transition(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        struct TransitionRequest: Decodable {
            var status: String?
            var reason: String?
            var paidAmount: Money?
        }
        let body = try request.decode(TransitionRequest.self)
        var validation = Validation()
        let next = body.status.flatMap(ClaimStatus.init(rawValue:))
        validation.require(
            next != nil, "/status", "must be one of \(ClaimStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        validation.text(body.reason, "/reason", maxLength: 500, required: false)
        if let next, next.carriesPayment {
            validation.require(body.paidAmount != nil, "/paidAmount", "is required when the claim is \(next.rawValue)")
        }
        if let paid = body.paidAmount { validation.require(paid.minorUnits > 0, "/paidAmount", "must be positive") }
        try validation.check()
        guard let next else { throw Problem.invalid(pointer: "/status", "is required") }
        let id = context.parameter("id")
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            guard let claim = try ClaimService.find(id, context.organizationId, connection) else {
                throw Problem.notFound("Claim \(id) does not exist.")
            }
            guard context.mayAccess(location: claim.locationId) else {
                throw Problem.notFound("Claim \(id) does not exist.")
            }
            guard claim.status.canMove(to: next) else {
                throw Problem.conflict(
                    "A \(claim.status.rawValue) claim cannot become \(next.rawValue).", type: "invalid-transition")
            }
            let payment = next.carriesPayment ? body.paidAmount : nil
            if let payment, claim.paidAmount + payment > claim.total {
                throw Problem.invalid(
                    pointer: "/paidAmount", "would make the paid amount exceed the claim total \(claim.total)")
            }
            let now = Timestamp.now()
            try connection.execute(
                """
                UPDATE claims SET status = \(next.rawValue), paid_amount = paid_amount + \(payment ?? .zero), updated_at = \(now)
                WHERE id = \(id)
                """)
            try ClaimService.record(
                Claim.Transition(
                    from: claim.status, to: next, reason: body.reason, paidAmount: payment, occurredAt: now),
                claimId: id, in: connection)
            guard let updated = try ClaimService.find(id, context.organizationId, connection) else {
                throw Problem.notFound("Claim \(id) does not exist.")
            }
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "claim.status_changed", organizationId: updated.organizationId,
                    locationId: updated.locationId,
                    correlationId: context.requestId, source: ClaimService.name,
                    body: StatusChanged(claim: updated, from: claim.status, paidAmount: payment)),
                in: connection)
            return try .json(updated)
        }
    }

    static func record(_ transition: Claim.Transition, claimId: String, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO claim_transitions (claim_id, from_status, to_status, reason, paid_amount, occurred_at)
            VALUES (\(claimId), \(transition.from?.rawValue), \(transition.to.rawValue), \(transition.reason),
                \(transition.paidAmount), \(transition.occurredAt))
            """)
    }

    static func find(_ id: String, _ organization: String, _ connection: any SQLConnection) throws -> Claim? {
        try connection.queryFirst("SELECT * FROM claims WHERE id = \(id) AND organization_id = \(organization)")
            .map { try claim(from: $0, in: connection) }
    }

    static func claim(from row: Row, in connection: any SQLConnection) throws -> Claim {
        let id = try row.string("id")
        let lines = try connection.query("SELECT * FROM claim_lines WHERE claim_id = \(id) ORDER BY line_number").map {
            line in
            Claim.Line(
                lineNumber: try line.int("line_number"), code: try line.string("code"),
                description: try line.string("description"), quantity: try line.int("quantity"),
                amount: try line.money("amount"), expectedAmount: try line.money("expected_amount"))
        }
        let history = try connection.query("SELECT * FROM claim_transitions WHERE claim_id = \(id) ORDER BY seq").map {
            transition in
            Claim.Transition(
                from: transition.optionalString("from_status").flatMap(ClaimStatus.init(rawValue:)),
                to: ClaimStatus(rawValue: try transition.string("to_status")) ?? .draft,
                reason: transition.optionalString("reason"), paidAmount: transition.optionalMoney("paid_amount"),
                occurredAt: try transition.string("occurred_at"))
        }
        return Claim(
            id: id, organizationId: try row.string("organization_id"), locationId: try row.string("location_id"),
            invoiceId: try row.string("invoice_id"), invoiceNumber: try row.string("invoice_number"),
            patientId: try row.string("patient_id"), coverageId: try row.string("coverage_id"),
            payerId: try row.string("payer_id"), payerName: try row.string("payer_name"),
            memberId: try row.string("member_id"), dateOfService: try row.date("date_of_service"),
            currency: try row.string("currency"), status: ClaimStatus(rawValue: try row.string("status")) ?? .draft,
            total: try row.money("total"), expectedAmount: try row.money("expected_amount"),
            paidAmount: try row.money("paid_amount"), lines: lines,
            findings: try row.optionalString("findings").map { try JSON.decode([Claim.Finding].self, from: $0) },
            history: history,
            createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"))
    }
}

/// The body of `claim.created` and `claim.status_changed`.
struct StatusChanged: Encodable {
    let claimId: String
    let invoiceId: String
    let patientId: String
    let payerId: String
    let from: ClaimStatus?
    let status: ClaimStatus
    let total: Money
    let expectedAmount: Money
    /// The payer's payment this change reports, if any.
    let paidAmount: Money?

    init(
        claimId: String, invoiceId: String, patientId: String, payerId: String, from: ClaimStatus?, status: ClaimStatus,
        total: Money, expectedAmount: Money, paidAmount: Money?
    ) {
        self.claimId = claimId
        self.invoiceId = invoiceId
        self.patientId = patientId
        self.payerId = payerId
        self.from = from
        self.status = status
        self.total = total
        self.expectedAmount = expectedAmount
        self.paidAmount = paidAmount
    }

    init(claim: Claim, from: ClaimStatus?, paidAmount: Money?) {
        self.init(
            claimId: claim.id, invoiceId: claim.invoiceId, patientId: claim.patientId, payerId: claim.payerId,
            from: from,
            status: claim.status, total: claim.total, expectedAmount: claim.expectedAmount, paidAmount: paidAmount)
    }
}

/// Makes a draft claim for each issued invoice of an insured patient.
struct ClaimConsumer: EventConsumer {
    let environment: ServiceEnvironment
    var name: String { ClaimService.name }
    var subscribedTypes: [String] { ClaimService.subscribedTypes }
    var database: any Database { environment.database }

    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        let invoice = try event.decode(IssuedInvoice.self)
        guard let coverage = invoice.coverage else { return }  // uninsured: the patient pays it all
        let now = Timestamp.now()
        let claimId = Identifier.make("clm")
        // Claims the scrubber found errors in wait in the work queue instead of going out.
        let findings = invoice.scrub?.findings ?? []
        let status: ClaimStatus = invoice.scrub?.clean == false ? .held : .draft
        try connection.execute(
            """
            INSERT INTO claims (id, organization_id, location_id, invoice_id, invoice_number, patient_id, coverage_id,
                payer_id, payer_name, member_id, date_of_service, currency, status, total, expected_amount, paid_amount,
                created_at, updated_at, findings)
            VALUES (\(claimId), \(event.organizationId), \(invoice.locationId), \(invoice.id), \(invoice.number),
                \(invoice.patientId), \(coverage.coverageId), \(coverage.payerId), \(coverage.payerName),
                \(coverage.memberId), \(invoice.dateOfService), \(invoice.currency), \(status.rawValue), \(invoice.total),
                \(invoice.payerAmount), 0, \(now), \(now), \(findings.isEmpty ? nil : try JSON.encodeString(findings)))
            """)
        for line in invoice.lines {
            try connection.execute(
                """
                INSERT INTO claim_lines (claim_id, line_number, code, description, quantity, amount, expected_amount)
                VALUES (\(claimId), \(line.lineNumber), \(line.code), \(line.description), \(line.quantity), \(line.amount),
                    \(line.payerAmount))
                """)
        }
        try ClaimService.record(
            Claim.Transition(
                from: nil, to: status,
                reason: status == .held
                    ? "made from invoice \(invoice.number); held: \(findings.filter { $0.severity == "error" }.count) scrubber error(s)"
                    : "made from invoice \(invoice.number)",
                paidAmount: nil, occurredAt: now),
            claimId: claimId, in: connection)
        try environment.outbox.publish(
            try EventEnvelope.make(
                type: "claim.created", organizationId: event.organizationId, locationId: invoice.locationId,
                correlationId: event.correlationId, source: ClaimService.name,
                body: StatusChanged(
                    claimId: claimId, invoiceId: invoice.id, patientId: invoice.patientId, payerId: coverage.payerId,
                    from: nil, status: status, total: invoice.total, expectedAmount: invoice.payerAmount,
                    paidAmount: nil)),
            in: connection)
    }

    func didCommit() { environment.outbox.notify() }
}
