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
    public static let migrations = BillingStore.migrations + [Outbox.migration, Inbox.migration, Idempotency.migration]
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
            registerCodeRoutes(billing)
        }
    }

    // MARK: Generate

    func generate(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        let body = try request.decode(GenerateInvoiceRequest.self)
        var validation = Validation()
        validation.text(body.patientId, "/patientId", maxLength: 64)
        validation.text(body.locationId, "/locationId", maxLength: 64, required: false)
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

        // Ask the owners: the patient must exist; the coverage in force on the date of service sets the split.
        let patients = try environment.services.client(for: "patient")
        guard
            let patient = try patients.get(
                PatientSummary.self, "/api/patients/\(patientId)?view=summary", context: context)
        else {
            throw Problem.invalid(pointer: "/patientId", "no patient \(patientId) in this organization")
        }
        let location = body.locationId ?? patient.locationId
        try context.requireLocation(location, pointer: "/locationId")
        let dateOfService = body.dateOfService ?? CalendarDate.today()
        let chargeMaster = try environment.database.read { connection in
            try BillingStore.chargeItems(
                organization: context.organizationId, location: location,
                codes: services.compactMap(\.code), in: connection)
        }
        var unknown = Validation()
        for (index, service) in services.enumerated() where chargeMaster[service.code ?? ""] == nil {
            unknown.fail(
                "/services/\(index)/code", "\(service.code ?? "") is not in the charge master of location \(location)")
        }
        try unknown.check()
        let insurance = try environment.services.client(for: "insurance")
        let coverage = try insurance.get(
            CoverageSummary.self, "/api/insurance/patients/\(patientId)/active-coverage?date=\(dateOfService)",
            context: context)

        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let invoice = try makeInvoice(
                services: services, chargeMaster: chargeMaster, patientId: patientId, location: location,
                dateOfService: dateOfService, coverage: coverage, context: context, connection: connection)
            try BillingStore.insert(invoice, in: connection)
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
        services: [GenerateInvoiceRequest.Service], chargeMaster: [String: ChargeItem], patientId: String,
        location: String, dateOfService: CalendarDate, coverage: CoverageSummary?, context: RequestContext,
        connection: any SQLConnection
    ) throws -> Invoice {
        let priced = services.map { service -> (code: String, description: String, quantity: Int, unit: Money) in
            let item = chargeMaster[service.code ?? ""]
            return (
                service.code ?? "", service.description ?? item?.description ?? "", service.quantity ?? 1,
                service.cost ?? item?.price ?? .zero
            )
        }
        let amounts = priced.map { $0.unit * Int64($0.quantity) }
        let share = coverage.map {
            CostShare(
                copay: $0.copay, deductibleRemaining: Money.max(.zero, $0.deductible - $0.deductibleMet),
                coinsurancePercent: $0.coinsurancePercent)
        }
        let splits = CostShare.split(amounts, under: share)
        let lines = priced.indices.map { index in
            Invoice.Line(
                lineNumber: index + 1, code: priced[index].code, description: priced[index].description,
                quantity: priced[index].quantity, unitPrice: priced[index].unit, amount: amounts[index],
                payerAmount: splits[index].payer, patientAmount: splits[index].patient)
        }
        let now = Timestamp.now()
        let total = amounts.sum()
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
        try environment.database.write { try BillingStore.upsert(item, organization: context.organizationId, in: $0) }
        return try .json(item)
    }
}

/// What billing reads of a patient.
struct PatientSummary: Decodable {
    let id: String
    let locationId: String
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
