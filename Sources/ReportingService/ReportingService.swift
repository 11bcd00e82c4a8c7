import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// Read models fed by every service's events: the revenue summary and each invoice's or patient's timeline.
public struct ReportingService: PlatformService {
    public static let name = "reporting"
    public static let subscribedTypes = [
        "invoice.*", "claim.*", "payment.*", "payment_request.*", "patient.registered", "patient.merged",
        "eligibility.checked",
    ]
    public static let migrations = [
        Migration(
            1, "read models",
            [
                """
                CREATE TABLE rm_invoices (
                    invoice_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    patient_id TEXT NOT NULL, number TEXT NOT NULL, date_of_service TEXT NOT NULL, currency TEXT NOT NULL,
                    total BIGINT NOT NULL, payer_amount BIGINT NOT NULL, patient_amount BIGINT NOT NULL,
                    paid BIGINT NOT NULL, status TEXT NOT NULL)
                """,
                "CREATE INDEX rm_invoices_date ON rm_invoices (organization_id, date_of_service)",
                """
                CREATE TABLE rm_claims (
                    claim_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, invoice_id TEXT NOT NULL, status TEXT NOT NULL)
                """,
                "CREATE INDEX rm_claims_invoice ON rm_claims (invoice_id)",
                """
                CREATE TABLE rm_collections (
                    movement_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    invoice_id TEXT NOT NULL, amount BIGINT NOT NULL, received_on TEXT NOT NULL)
                """,
                "CREATE INDEX rm_collections_date ON rm_collections (organization_id, received_on)",
                """
                CREATE TABLE rm_timeline (
                    seq {{id}}, organization_id TEXT NOT NULL, invoice_id TEXT, patient_id TEXT, event_id TEXT NOT NULL,
                    type TEXT NOT NULL, occurred_at TEXT NOT NULL, summary TEXT NOT NULL)
                """,
                "CREATE INDEX rm_timeline_invoice ON rm_timeline (organization_id, invoice_id)",
                "CREATE INDEX rm_timeline_patient ON rm_timeline (organization_id, patient_id)",
            ]),
        Outbox.migration, Outbox.cursorMigration, Inbox.migration,
        Migration(
            2, "merged patients",
            [
                """
                CREATE TABLE rm_patient_aliases (
                    merged_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, survivor_id TEXT NOT NULL)
                """,
                "CREATE INDEX rm_patient_aliases_survivor ON rm_patient_aliases (organization_id, survivor_id)",
            ]),
    ]

    let environment: ServiceEnvironment
    public var consumer: (any EventConsumer)? { ReportingConsumer(environment: environment) }

    public init(environment: ServiceEnvironment) { self.environment = environment }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/reporting") { reporting in
            reporting.get("/summary", summary)
            reporting.get("/timeline", timeline)
        }
    }

    public struct Summary: Codable, Sendable {
        public var from: CalendarDate?
        public var to: CalendarDate?
        public var locationId: String?
        public var currency: String
        /// Total of the invoices (not void) with a date of service in the range.
        public var billed: Money
        /// Payments less refunds received in the range.
        public var collected: Money
        /// What those invoices still have to receive, from payers and patients.
        public var outstanding: Money
        public var invoiceCount: Int
        public var voidedCount: Int
        public var claimsByStatus: [String: Int]
    }

    /// `GET /api/reporting/summary?from=&to=&locationId=` (dates of service; both ends included).
    func summary(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let from = try request.dateQuery("from")
        let to = try request.dateQuery("to")
        if let from, let to, to < from { throw Problem.invalid(pointer: "query:to", "must not be before from") }
        let location = request.query["locationId"].flatMap { $0.isEmpty ? nil : $0 }
        if let location { try context.requireLocation(location, pointer: "query:locationId") }
        let organization = context.organizationId
        let low = from?.description ?? "0000-01-01"
        let high = to?.description ?? "9999-12-31"
        let summary = try environment.database.read { connection -> Summary in
            var invoiceFilter: SQL =
                "organization_id = \(organization) AND date_of_service >= \(low) AND date_of_service <= \(high)"
            var collectionFilter: SQL =
                "organization_id = \(organization) AND received_on >= \(low) AND received_on <= \(high)"
            if let location {
                invoiceFilter = invoiceFilter + " AND location_id = \(location)"
                collectionFilter = collectionFilter + " AND location_id = \(location)"
            }
            invoiceFilter = invoiceFilter + context.locationFilter("location_id")
            collectionFilter = collectionFilter + context.locationFilter("location_id")
            let totals = try connection.queryFirst(
                """
                SELECT COALESCE(SUM(CASE WHEN status <> 'void' THEN total ELSE 0 END), 0) AS billed,
                    COALESCE(SUM(CASE WHEN status <> 'void' THEN total - paid ELSE 0 END), 0) AS outstanding,
                    COALESCE(SUM(CASE WHEN status <> 'void' THEN 1 ELSE 0 END), 0) AS invoice_count,
                    COALESCE(SUM(CASE WHEN status = 'void' THEN 1 ELSE 0 END), 0) AS voided_count
                FROM rm_invoices WHERE \(invoiceFilter)
                """)
            let collected = try connection.queryFirst(
                "SELECT COALESCE(SUM(amount), 0) AS collected FROM rm_collections WHERE \(collectionFilter)")
            var claims: [String: Int] = [:]
            for row in try connection.query(
                """
                SELECT c.status, COUNT(*) AS count FROM rm_claims c
                WHERE c.invoice_id IN (SELECT invoice_id FROM rm_invoices WHERE \(invoiceFilter)) GROUP BY c.status
                """)
            {
                claims[try row.string("status")] = try row.int("count")
            }
            return Summary(
                from: from, to: to, locationId: location, currency: environment.currency,
                billed: try totals?.money("billed") ?? .zero, collected: try collected?.money("collected") ?? .zero,
                outstanding: try totals?.money("outstanding") ?? .zero,
                invoiceCount: try totals?.int("invoice_count") ?? 0, voidedCount: try totals?.int("voided_count") ?? 0,
                claimsByStatus: claims)
        }
        return try .json(summary)
    }

    public struct TimelineEntry: Codable, Sendable {
        public var occurredAt: String
        public var type: String
        public var invoiceId: String?
        public var patientId: String?
        public var summary: String
        public var eventId: String
    }

    /// `GET /api/reporting/timeline?invoiceId=` or `?patientId=`: what happened, in order.
    func timeline(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        var sql: SQL = "SELECT * FROM rm_timeline WHERE organization_id = \(context.organizationId)"
        if let invoiceId = request.query["invoiceId"], !invoiceId.isEmpty {
            sql = sql + " AND invoice_id = \(invoiceId)"
        } else if let patientId = request.query["patientId"], !patientId.isEmpty {
            // A merged record's history shows under the record it was merged into.
            sql =
                sql
                + " AND (patient_id = \(patientId) OR patient_id IN (SELECT merged_id FROM rm_patient_aliases WHERE organization_id = \(context.organizationId) AND survivor_id = \(patientId)))"
        } else {
            throw Problem.invalid(pointer: "query:invoiceId", "invoiceId or patientId is required")
        }
        if context.limitedLocations != nil {
            // Only what happened to invoices of the caller's locations.
            sql =
                sql + " AND invoice_id IN (SELECT invoice_id FROM rm_invoices WHERE 1 = 1"
                + context.locationFilter("location_id") + ")"
        }
        sql = sql + " ORDER BY occurred_at, seq LIMIT 1000"
        let entries = try environment.database.read { connection in
            try connection.query(sql).map { row in
                TimelineEntry(
                    occurredAt: try row.string("occurred_at"), type: try row.string("type"),
                    invoiceId: row.optionalString("invoice_id"), patientId: row.optionalString("patient_id"),
                    summary: try row.string("summary"), eventId: try row.string("event_id"))
            }
        }
        return try .json(["items": entries])
    }
}
