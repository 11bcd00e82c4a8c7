import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// Charge master, invoices and the payer/patient split; follows payments to keep each invoice's
/// balance and status.
public struct BillingService: PlatformService {
    public static let name = "billing"
    public static let subscribedTypes = ["payment.recorded", "payment.refunded"]
    public static let migrations =
        BillingStore.migrations + [Outbox.migration, Outbox.cursorMigration, Inbox.migration, Idempotency.migration]
    static let maxLines = 100

    let environment: ServiceEnvironment
    public var consumer: (any EventConsumer)? { BillingConsumer(environment: environment) }

    public init(environment: ServiceEnvironment) { self.environment = environment }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/billing") { billing in
            billing.post("/generate", generate)
            billing.get("/invoices", listInvoices)
            billing.get("/invoices/{id}", readInvoice)
            billing.post("/invoices/{id}/void", voidInvoice)
            billing.get("/charge-items", listChargeItems)
            billing.put("/charge-items/{locationId}/{code}", putChargeItem)
            billing.get("/fee-schedule", listFeeSchedule)
            billing.put("/fee-schedule", putFeeScheduleEntry)
            billing.post("/fee-schedule/import", importFeeSchedule)
            billing.get("/tax-rules", listTaxRules)
            billing.put("/tax-rules/{code}", putTaxRule)
            billing.post("/encounters", createEncounter)
            billing.get("/encounters", listEncounters)
            billing.get("/encounters/{id}", readEncounter)
            billing.put("/encounters/{id}", updateEncounter)
            billing.post("/encounters/{id}/sign", signEncounter)
            billing.post("/encounters/{id}/amend", amendEncounter)
            billing.get("/encounters/{id}/charges", encounterCharges)
            billing.post("/encounters/{id}/scrub", scrubEncounter)
            billing.post("/estimates", estimate)
            registerCodeRoutes(billing)
        }
    }

    // MARK: Generate

    func generate(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        let body = try request.decode(GenerateInvoiceRequest.self)
        var validation = Validation()
        validation.text(body.locationId, "/locationId", maxLength: 64, required: false)
        if let encounterId = body.encounterId {
            validation.text(encounterId, "/encounterId", maxLength: 64)
            validation.require(body.services == nil, "/services", "must be absent when encounterId is given")
            try validation.check()
            return try generate(fromEncounter: encounterId, request, context)
        }
        validation.text(body.patientId, "/patientId", maxLength: 64)
        let services = body.services ?? []
        if body.services == nil {
            validation.fail("/services", "is required")
        } else if services.isEmpty {
            validation.fail("/services", "must list at least one service")
        } else if services.count > BillingService.maxLines {
            validation.fail("/services", "must list at most \(BillingService.maxLines) services")
        }
        for (index, service) in services.enumerated() {
            let pointer = "/services/\(index)"
            validation.text(service.code, pointer + "/code", maxLength: 32)
            validation.text(service.description, pointer + "/description", required: false)
            if let cost = service.cost {
                validation.require(!cost.isNegative, pointer + "/cost", "must not be negative")
            }
            if let quantity = service.quantity {
                validation.require((1...1000).contains(quantity), pointer + "/quantity", "must be 1 to 1000")
            }
        }
        try validation.check()
        guard let patientId = body.patientId else { throw Problem.invalid(pointer: "/patientId", "is required") }
        let patient = try patientSummary(patientId, context)
        let location = body.locationId ?? patient.locationId
        try context.requireLocation(location, pointer: "/locationId")
        let dateOfService = body.dateOfService ?? CalendarDate.today()
        let coverage = try activeCoverage(patientId, on: dateOfService, context)
        // The charge of a line is the fee schedule's in force on the date of service (the payer's
        // contracted amount when it has one), unless the request names a cost. Read in the write
        // transaction, on the writer's connection: a reader's page cache is emptied by every
        // commit, the writer's stays warm. One statement for every line's prices.
        let codes = Array(Set(services.map { $0.code ?? "" }))
        let price = { (connection: any SQLConnection) throws -> [PricedLine] in
            let entries = try connection.query(
                FeeSchedule.entriesInForce(
                    codes: codes, location: location, date: dateOfService, organization: context.organizationId)
            ).map(FeeSchedule.entry(from:))
            return try services.enumerated().map { index, service -> PricedLine in
                let code = service.code ?? ""
                let price = FeeSchedule.price(
                    code: code, modifiers: [], payerId: coverage?.payerId, location: location, from: entries)
                guard let price else {
                    throw Problem.invalid(
                        pointer: "/services/\(index)/code",
                        "\(code) has no price in the fee schedule of location \(location) on \(dateOfService)")
                }
                return PricedLine(
                    code: code, description: service.description ?? price.description,
                    quantity: service.quantity ?? 1, unitPrice: service.cost ?? price.allowed ?? price.charge)
            }
        }
        return try issue(
            price, patientId: patientId, location: location, dateOfService: dateOfService, coverage: coverage,
            encounterId: nil, request: request, context: context)
    }

    /// Asks the patient service; 422 naming `/patientId` when the patient is not there.
    func patientSummary(_ patientId: String, _ context: RequestContext) throws -> PatientSummary {
        let patients = try environment.services.client(for: "patient")
        guard
            let patient = try patients.get(
                PatientSummary.self, "/api/patients/\(patientId)?view=summary", context: context)
        else {
            throw Problem.invalid(pointer: "/patientId", "no patient \(patientId) in this organization")
        }
        return patient
    }

    /// The coverage in force on the date, from the insurance service (nil: self-pay).
    func activeCoverage(
        _ patientId: String, on date: CalendarDate, _ context: RequestContext
    ) throws
        -> CoverageSummary?
    {
        try environment.services.client(for: "insurance").get(
            CoverageSummary.self, "/api/insurance/patients/\(patientId)/active-coverage?date=\(date)",
            context: context)
    }

    /// Issues the invoice in one transaction with its `invoice.issued` event (idempotent by key);
    /// `price` gives the lines, in that transaction.
    func issue(
        _ price: (any SQLConnection) throws -> [PricedLine], patientId: String, location: String,
        dateOfService: CalendarDate,
        coverage: CoverageSummary?, encounterId: String?, scrub: ScrubReport? = nil, request: HTTPRequest,
        context: RequestContext
    ) throws -> HTTPResponse {
        try Idempotency.run(request, context: context, database: environment.database) { connection in
            let priced = try price(connection)
            if let encounterId {
                let live = try connection.queryFirst(
                    "SELECT id FROM invoices WHERE organization_id = \(context.organizationId) AND encounter_id = \(encounterId)"
                )
                if let live,
                    let existing = try BillingStore.find(
                        try live.string("id"), organization: context.organizationId, in: connection),
                    existing.status != .void
                {
                    throw Problem.conflict(
                        "Encounter \(encounterId) is already billed on invoice \(existing.number); void it to bill the encounter again.",
                        type: "already-billed")
                }
            }
            let taxes = try TaxRules.inForce(
                codes: priced.map(\.code), on: dateOfService, organization: context.organizationId, in: connection)
            var invoice = try makeInvoice(
                priced, taxes: taxes, patientId: patientId, location: location, dateOfService: dateOfService,
                coverage: coverage, context: context, connection: connection)
            invoice.scrub = scrub
            try BillingStore.insert(invoice, encounterId: encounterId, in: connection)
            // One encoding serves as the response and as the event's payload.
            let body = try JSON.encode(invoice)
            try environment.outbox.publish(
                EventEnvelope(
                    type: "invoice.issued", organizationId: invoice.organizationId, locationId: invoice.locationId,
                    correlationId: context.requestId, source: BillingService.name,
                    payload: String(decoding: body, as: UTF8.self)),
                in: connection)
            var response = HTTPResponse(
                status: 201, headers: HTTPHeaders([("Content-Type", "application/json")]), body: body)
            response.headers.add("Location", "/api/billing/invoices/\(invoice.id)")
            return response
        }
    }

    func makeInvoice(
        _ priced: [PricedLine], taxes: [String: TaxRule], patientId: String, location: String,
        dateOfService: CalendarDate, coverage: CoverageSummary?, context: RequestContext,
        connection: any SQLConnection
    ) throws -> Invoice {
        let amounts = priced.map { $0.unitPrice * Int64($0.quantity) }
        let share = coverage.map {
            CostShare(
                copay: $0.copay, deductibleRemaining: Money.max(.zero, $0.deductible - $0.deductibleMet),
                coinsurancePercent: $0.coinsurancePercent)
        }
        let splits = CostShare.split(amounts, under: share)
        let lines = priced.indices.map { index in
            // Tax (where a rule names the code) is the patient's, on top of the line's amount.
            let rule = taxes[priced[index].code]
            let tax = rule.map { amounts[index].percentage($0.ratePercent) }
            return Invoice.Line(
                lineNumber: index + 1, code: priced[index].code, description: priced[index].description,
                quantity: priced[index].quantity, unitPrice: priced[index].unitPrice, amount: amounts[index],
                payerAmount: splits[index].payer, patientAmount: splits[index].patient + (tax ?? .zero),
                taxAmount: tax, taxName: rule?.name)
        }
        let now = Timestamp.now()
        let total = amounts.sum() + lines.compactMap(\.taxAmount).sum()
        return Invoice(
            id: Identifier.make("inv"),
            number: try BillingStore.nextInvoiceNumber(organization: context.organizationId, in: connection),
            organizationId: context.organizationId, locationId: location, patientId: patientId,
            dateOfService: dateOfService, currency: environment.currency, lines: lines, total: total,
            payerAmount: lines.map(\.payerAmount).sum(), patientAmount: lines.map(\.patientAmount).sum(),
            coverage: coverage.map {
                Invoice.CoverageSummary(
                    coverageId: $0.id, payerId: $0.payerId, payerName: $0.payerName, planName: $0.planName,
                    memberId: $0.memberId, groupNumber: $0.groupNumber)
            },
            paid: .zero, balance: total, status: .issued, createdAt: now,
            entries: [Invoice.Entry(kind: "charge", amount: total, reference: nil, occurredAt: now)])
    }

    // MARK: Invoices

    func readInvoice(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        guard
            let invoice = try environment.database.read({
                try BillingStore.find(id, organization: context.organizationId, in: $0)
            })
        else { throw Problem.notFound("Invoice \(id) does not exist.") }
        guard context.mayAccess(location: invoice.locationId) else {
            throw Problem.notFound("Invoice \(id) does not exist.")
        }
        return try .json(invoice)
    }

    func listInvoices(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let limit = try request.pageLimit()
        let invoices = try environment.database.read {
            try BillingStore.list(
                organization: context.organizationId, patientId: request.query["patientId"],
                after: request.query["cursor"], limit: limit, scope: context.locationFilter("location_id"), in: $0)
        }
        return try .json(Page(items: invoices, limit: limit, cursor: \.id))
    }

    /// Voids an unpaid invoice by appending a `void` entry; nothing is deleted.
    func voidInvoice(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        struct VoidRequest: Decodable { var reason: String? }
        let body = try request.decode(VoidRequest.self)
        var validation = Validation()
        validation.text(body.reason, "/reason", maxLength: 500)
        try validation.check()
        let id = context.parameter("id")
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            guard let invoice = try BillingStore.find(id, organization: context.organizationId, in: connection) else {
                throw Problem.notFound("Invoice \(id) does not exist.")
            }
            guard context.mayAccess(location: invoice.locationId) else {
                throw Problem.notFound("Invoice \(id) does not exist.")
            }
            guard invoice.status != .void else { throw Problem.conflict("Invoice \(invoice.number) is already void.") }
            guard invoice.paid == .zero else {
                throw Problem.conflict("Invoice \(invoice.number) has payments; refund them before voiding it.")
            }
            try BillingStore.appendEntry(
                invoiceId: id, kind: "void", amount: invoice.total, reference: body.reason, occurredAt: Timestamp.now(),
                in: connection)
            guard let voided = try BillingStore.find(id, organization: context.organizationId, in: connection) else {
                throw Problem.notFound("Invoice \(id) does not exist.")
            }
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "invoice.voided", organizationId: voided.organizationId, locationId: voided.locationId,
                    correlationId: context.requestId, source: BillingService.name,
                    body: BalanceChanged(invoice: voided)),
                in: connection)
            return try .json(voided)
        }
    }

    // MARK: Charge master

    func listChargeItems(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let location = try request.requiredQuery("locationId")
        let items = try environment.database.read {
            try BillingStore.chargeItems(organization: context.organizationId, location: location, in: $0)
        }
        return try .json(["items": items.values.sorted { $0.code < $1.code }])
    }

    func putChargeItem(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        struct ChargeItemInput: Decodable {
            var description: String?
            var price: Money?
        }
        let input = try request.decode(ChargeItemInput.self)
        var validation = Validation()
        validation.text(input.description, "/description")
        validation.require(input.price != nil, "/price", "is required")
        if let price = input.price { validation.require(!price.isNegative, "/price", "must not be negative") }
        let code = context.parameter("code")
        validation.require(
            !code.isEmpty && code.count <= 32
                && code.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." },
            "path:code", "must be 1 to 32 letters, digits, '-' or '.'")
        try validation.check()
        try context.requireLocation(context.parameter("locationId"), pointer: "path:locationId")
        let item = ChargeItem(
            locationId: context.parameter("locationId"), code: code, description: input.description ?? "",
            price: input.price ?? .zero)
        try environment.database.write { connection in
            try BillingStore.upsert(item, organization: context.organizationId, in: connection)
            // The first price of a code holds for every earlier date; a new price holds from today.
            let earlier = try connection.queryFirst(
                """
                SELECT code FROM fee_schedule WHERE organization_id = \(context.organizationId)
                    AND location_id = \(item.locationId) AND code = \(item.code) AND modifier = '' AND payer_id = ''
                """)
            try FeeSchedule.add(
                FeeScheduleEntry(
                    locationId: item.locationId, code: item.code, modifier: "", payerId: "",
                    description: item.description, amount: item.price,
                    effectiveFrom: earlier == nil ? CalendarDate("1900-01-01") ?? .today() : .today(), effectiveTo: nil),
                organization: context.organizationId, in: connection)
        }
        return try .json(item)
    }
}

/// What billing reads of a patient.
struct PatientSummary: Decodable {
    let id: String
    let locationId: String
    let givenName: String?
    let familyName: String?
    let dateOfBirth: CalendarDate?
    let sex: String?
}

/// What billing reads of a coverage.
struct CoverageSummary: Decodable {
    let id: String
    let payerId: String
    let payerName: String
    let planName: String
    let memberId: String
    let groupNumber: String?
    let copay: Money
    let coinsurancePercent: Decimal
    let deductible: Money
    let deductibleMet: Money
    /// `eligibility` when the payer's verified answer set the figures.
    let costShareSource: String?
    let eligibility: Eligibility?

    struct Eligibility: Decodable {
        let checkId: String
        let status: String
    }
}

/// The body of `invoice.balance_changed` and `invoice.voided`.
struct BalanceChanged: Codable {
    let invoiceId: String
    let patientId: String
    let total: Money
    let paid: Money
    let balance: Money
    let status: Invoice.Status

    init(invoice: Invoice) {
        invoiceId = invoice.id
        patientId = invoice.patientId
        total = invoice.total
        paid = invoice.paid
        balance = invoice.balance
        status = invoice.status
    }
}
