import RCMCore
import RCMEvents
import RCMServiceKit
import RCMStorage

/// The billing service's tables: charge master, invoices, their lines and their append-only ledger.
enum BillingStore {
    static let migrations = [
        Migration(
            1, "charge master and invoices",
            [
                """
                CREATE TABLE charge_items (
                    organization_id TEXT NOT NULL, location_id TEXT NOT NULL, code TEXT NOT NULL,
                    description TEXT NOT NULL, price BIGINT NOT NULL, updated_at TEXT NOT NULL,
                    PRIMARY KEY (organization_id, location_id, code))
                """,
                """
                CREATE TABLE invoices (
                    id TEXT PRIMARY KEY, number TEXT NOT NULL, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    patient_id TEXT NOT NULL, date_of_service TEXT NOT NULL, currency TEXT NOT NULL,
                    total BIGINT NOT NULL, payer_amount BIGINT NOT NULL, patient_amount BIGINT NOT NULL,
                    coverage TEXT, created_at TEXT NOT NULL, UNIQUE (organization_id, number))
                """,
                "CREATE INDEX invoices_patient ON invoices (organization_id, patient_id)",
                """
                CREATE TABLE invoice_lines (
                    invoice_id TEXT NOT NULL, line_number INTEGER NOT NULL, code TEXT NOT NULL, description TEXT NOT NULL,
                    quantity INTEGER NOT NULL, unit_price BIGINT NOT NULL, amount BIGINT NOT NULL,
                    payer_amount BIGINT NOT NULL, patient_amount BIGINT NOT NULL, PRIMARY KEY (invoice_id, line_number))
                """,
                """
                CREATE TABLE invoice_entries (
                    seq {{id}}, invoice_id TEXT NOT NULL, kind TEXT NOT NULL, amount BIGINT NOT NULL, reference TEXT,
                    occurred_at TEXT NOT NULL, UNIQUE (invoice_id, kind, reference))
                """,
                "CREATE TABLE counters (name TEXT PRIMARY KEY, next_value BIGINT NOT NULL)",
            ]),
        Migration(
            2, "fee schedules with effective dates, encounters and their charges, tax rules, estimates",
            [
                """
                CREATE TABLE fee_schedule (
                    organization_id TEXT NOT NULL, location_id TEXT NOT NULL, code TEXT NOT NULL, modifier TEXT NOT NULL,
                    payer_id TEXT NOT NULL, description TEXT NOT NULL, amount BIGINT NOT NULL,
                    effective_from TEXT NOT NULL, effective_to TEXT, created_at TEXT NOT NULL,
                    PRIMARY KEY (organization_id, location_id, code, modifier, payer_id, effective_from))
                """,
                """
                INSERT INTO fee_schedule (organization_id, location_id, code, modifier, payer_id, description, amount,
                    effective_from, effective_to, created_at)
                SELECT organization_id, location_id, code, '', '', description, price, '1900-01-01', NULL, updated_at
                FROM charge_items
                """,
                """
                CREATE TABLE encounters (
                    id TEXT NOT NULL, version INTEGER NOT NULL, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    patient_id TEXT NOT NULL, appointment_id TEXT, status TEXT NOT NULL, rendering_npi TEXT NOT NULL,
                    referring_npi TEXT, place_of_service TEXT NOT NULL, date_of_service TEXT NOT NULL,
                    diagnoses TEXT NOT NULL, services TEXT NOT NULL, notes TEXT, created_at TEXT NOT NULL,
                    signed_at TEXT, signed_by TEXT, amendment_reason TEXT, PRIMARY KEY (id, version))
                """,
                "CREATE INDEX encounters_patient ON encounters (organization_id, patient_id)",
                """
                CREATE TABLE charges (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, encounter_id TEXT NOT NULL,
                    encounter_version INTEGER NOT NULL, line_number INTEGER NOT NULL, code TEXT NOT NULL,
                    modifiers TEXT NOT NULL, units INTEGER NOT NULL, unit_price BIGINT NOT NULL, amount BIGINT NOT NULL,
                    reverses TEXT, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX charges_encounter ON charges (encounter_id)",
                "ALTER TABLE invoices ADD COLUMN encounter_id TEXT",
                "CREATE INDEX invoices_encounter ON invoices (encounter_id)",
                """
                CREATE TABLE tax_rules (
                    organization_id TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, rate_percent TEXT NOT NULL,
                    effective_from TEXT NOT NULL, effective_to TEXT, created_at TEXT NOT NULL,
                    PRIMARY KEY (organization_id, code, effective_from))
                """,
                "ALTER TABLE invoice_lines ADD COLUMN tax_amount BIGINT",
                "ALTER TABLE invoice_lines ADD COLUMN tax_name TEXT",
                """
                CREATE TABLE estimates (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, patient_id TEXT NOT NULL, kind TEXT NOT NULL,
                    body TEXT NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX estimates_patient ON estimates (organization_id, patient_id)",
            ]),
        Migration(3, "the claim scrubber's report of an invoice", ["ALTER TABLE invoices ADD COLUMN scrub TEXT"]),
    ]

    static func chargeItems(
        organization: String, location: String, codes: [String]? = nil, in connection: any SQLConnection
    ) throws -> [String: ChargeItem] {
        var items: [String: ChargeItem] = [:]
        let rows = try connection.query(
            "SELECT * FROM charge_items WHERE organization_id = \(organization) AND location_id = \(location) ORDER BY code"
        )
        for row in rows {
            let item = ChargeItem(
                locationId: try row.string("location_id"), code: try row.string("code"),
                description: try row.string("description"), price: try row.money("price"))
            if codes == nil || codes?.contains(item.code) == true { items[item.code] = item }
        }
        return items
    }

    static func upsert(_ item: ChargeItem, organization: String, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO charge_items (organization_id, location_id, code, description, price, updated_at)
            VALUES (\(organization), \(item.locationId), \(item.code), \(item.description), \(item.price), \(Timestamp.now()))
            ON CONFLICT (organization_id, location_id, code)
            DO UPDATE SET description = excluded.description, price = excluded.price, updated_at = excluded.updated_at
            """)
    }

    static func nextInvoiceNumber(organization: String, in connection: any SQLConnection) throws -> String {
        let name = "invoice:" + organization
        let row = try connection.queryFirst(
            """
            INSERT INTO counters (name, next_value) VALUES (\(name), 2)
            ON CONFLICT (name) DO UPDATE SET next_value = counters.next_value + 1
            RETURNING next_value - 1 AS value
            """)
        let value = try row?.int64("value") ?? 1
        let digits = String(value)
        return "INV-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    static func insert(_ invoice: Invoice, encounterId: String? = nil, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO invoices (id, number, organization_id, location_id, patient_id, date_of_service, currency, total,
                payer_amount, patient_amount, coverage, created_at, encounter_id, scrub)
            VALUES (\(invoice.id), \(invoice.number), \(invoice.organizationId), \(invoice.locationId), \(invoice.patientId),
                \(invoice.dateOfService), \(invoice.currency), \(invoice.total), \(invoice.payerAmount),
                \(invoice.patientAmount), \(try invoice.coverage.map(JSON.encodeString)), \(invoice.createdAt),
                \(encounterId), \(try invoice.scrub.map(JSON.encodeString)))
            """)
        for line in invoice.lines {
            try connection.execute(
                """
                INSERT INTO invoice_lines (invoice_id, line_number, code, description, quantity, unit_price, amount,
                    payer_amount, patient_amount, tax_amount, tax_name)
                VALUES (\(invoice.id), \(line.lineNumber), \(line.code), \(line.description), \(line.quantity),
                    \(line.unitPrice), \(line.amount), \(line.payerAmount), \(line.patientAmount), \(line.taxAmount),
                    \(line.taxName))
                """)
        }
        try appendEntry(
            invoiceId: invoice.id, kind: "charge", amount: invoice.total, reference: invoice.number,
            occurredAt: invoice.createdAt, in: connection)
    }

    /// Appends a ledger entry; false when the same (kind, reference) was already recorded.
    @discardableResult
    static func appendEntry(
        invoiceId: String, kind: String, amount: Money, reference: String?, occurredAt: String,
        in connection: any SQLConnection
    ) throws -> Bool {
        try connection.execute(
            """
            INSERT INTO invoice_entries (invoice_id, kind, amount, reference, occurred_at)
            VALUES (\(invoiceId), \(kind), \(amount), \(reference), \(occurredAt)) ON CONFLICT DO NOTHING
            """) == 1
    }

    static func find(_ id: String, organization: String, in connection: any SQLConnection) throws -> Invoice? {
        guard
            let row = try connection.queryFirst(
                "SELECT * FROM invoices WHERE id = \(id) AND organization_id = \(organization)")
        else { return nil }
        return try invoice(from: row, in: connection)
    }

    static func list(
        organization: String, patientId: String?, after: String?, limit: Int, scope: SQL,
        in connection: any SQLConnection
    ) throws -> [Invoice] {
        var sql: SQL = "SELECT * FROM invoices WHERE organization_id = \(organization)" + scope
        if let patientId { sql = sql + " AND patient_id = \(patientId)" }
        if let after { sql = sql + " AND id > \(after)" }
        sql = sql + " ORDER BY id LIMIT \(limit)"
        return try connection.query(sql).map { try invoice(from: $0, in: connection) }
    }

    static func invoice(from row: Row, in connection: any SQLConnection) throws -> Invoice {
        let id = try row.string("id")
        let lines = try connection.query("SELECT * FROM invoice_lines WHERE invoice_id = \(id) ORDER BY line_number")
            .map {
                line in
                Invoice.Line(
                    lineNumber: try line.int("line_number"), code: try line.string("code"),
                    description: try line.string("description"), quantity: try line.int("quantity"),
                    unitPrice: try line.money("unit_price"), amount: try line.money("amount"),
                    payerAmount: try line.money("payer_amount"), patientAmount: try line.money("patient_amount"),
                    taxAmount: line.optionalInt64("tax_amount").map(Money.init(minorUnits:)),
                    taxName: line.optionalString("tax_name"))
            }
        let entries = try connection.query("SELECT * FROM invoice_entries WHERE invoice_id = \(id) ORDER BY seq").map {
            entry in
            Invoice.Entry(
                kind: try entry.string("kind"), amount: try entry.money("amount"),
                reference: entry.optionalString("reference"), occurredAt: try entry.string("occurred_at"))
        }
        let total = try row.money("total")
        let derived = Invoice.derive(total: total, entries: entries)
        return Invoice(
            id: id, number: try row.string("number"), organizationId: try row.string("organization_id"),
            locationId: try row.string("location_id"), patientId: try row.string("patient_id"),
            dateOfService: try row.date("date_of_service"), currency: try row.string("currency"), lines: lines,
            total: total, payerAmount: try row.money("payer_amount"), patientAmount: try row.money("patient_amount"),
            coverage: try row.optionalString("coverage").map {
                try JSON.decode(Invoice.CoverageSummary.self, from: $0)
            },
            paid: derived.paid, balance: derived.balance, status: derived.status,
            createdAt: try row.string("created_at"),
            entries: entries,
            scrub: try row.optionalString("scrub").map { try JSON.decode(ScrubReport.self, from: $0) })
    }
}
