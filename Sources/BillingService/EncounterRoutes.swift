import Foundation
import RCMCodes
import RCMCore
import RCMEvents
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage

/// Encounters: documented visits that become charges when signed.
extension BillingService {
    func createEncounter(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let input = try request.decode(EncounterInput.self)
        let (encounter, _) = try prepare(input, id: Identifier.make("enc"), version: 1, context: context)
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            try EncounterStore.insert(encounter, fields: environment.fields, in: connection)
            try publish("encounter.created", encounter, context, connection)
            var response = try HTTPResponse.json(encounter, status: 201)
            response.headers.add("Location", "/api/billing/encounters/\(encounter.id)")
            return response
        }
    }

    /// Validates an encounter's content, its patient, location and that every service has a price.
    func prepare(
        _ input: EncounterInput, id: String, version: Int, context: RequestContext
    ) throws -> (
        Encounter, [LinePrice]
    ) {
        var validation = Validation()
        EncounterRules.validate(input, today: .today(), validation: &validation)
        checkCodes(input, &validation)
        try validation.check()
        let patientId = input.patientId ?? ""
        let patient = try patientSummary(patientId, context)
        let location = input.locationId ?? patient.locationId
        try context.requireLocation(location, pointer: "/locationId")
        let date = input.dateOfService ?? .today()
        let services = (input.services ?? []).map {
            Encounter.Service(
                system: $0.system ?? "local", code: $0.code ?? "",
                modifiers: ($0.modifiers ?? []).map { $0.uppercased() },
                units: $0.units ?? 1, diagnosisPointers: $0.diagnosisPointers ?? [1], ndc: $0.ndc,
                description: $0.description)
        }
        let prices = try environment.database.read { connection in
            try services.enumerated().map { index, service -> LinePrice in
                guard
                    let price = try FeeSchedule.price(
                        code: service.code, modifiers: service.modifiers, payerId: nil, location: location, date: date,
                        organization: context.organizationId, in: connection)
                else {
                    throw Problem.invalid(
                        pointer: "/services/\(index)/code",
                        "\(service.code) has no price in the fee schedule of location \(location) on \(date)")
                }
                return price
            }
        }
        let encounter = Encounter(
            id: id, version: version, organizationId: context.organizationId, locationId: location,
            patientId: patientId, appointmentId: input.appointmentId, status: .draft,
            renderingProviderNPI: input.renderingProviderNPI ?? "", referringProviderNPI: input.referringProviderNPI,
            placeOfService: input.placeOfService ?? "11", dateOfService: date,
            diagnoses: (input.diagnoses ?? []).map { $0.uppercased() }, services: services, notes: input.notes,
            createdAt: Timestamp.now(), signedAt: nil, signedBy: nil, amendmentReason: input.amendmentReason)
        return (encounter, prices)
    }

    func readEncounter(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let version = request.query["version"].flatMap(Int.init)
        let encounter = try environment.database.read { connection in
            try EncounterStore.find(
                id, version: version, organization: context.organizationId, fields: environment.fields, in: connection)
        }
        guard let encounter, context.mayAccess(location: encounter.locationId) else {
            throw Problem.notFound("Encounter \(id) does not exist.")
        }
        return try .json(encounter)
    }

    func listEncounters(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let patientId = try request.requiredQuery("patientId")
        let limit = try request.pageLimit()
        let encounters = try environment.database.read { connection in
            try EncounterStore.latest(
                patientId: patientId, organization: context.organizationId,
                scope: context.locationFilter("e.location_id"),
                limit: limit, fields: environment.fields, in: connection)
        }
        return try .json(["items": encounters])
    }

    /// Replaces a draft's content.
    func updateEncounter(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let id = context.parameter("id")
        let input = try request.decode(EncounterInput.self)
        let current = try existing(id, context)
        guard current.status == .draft else {
            throw Problem.conflict("Encounter \(id) is signed; amend it instead.", type: "encounter-signed")
        }
        var (encounter, _) = try prepare(input, id: id, version: current.version, context: context)
        encounter.createdAt = current.createdAt
        try environment.database.write { connection in
            guard try EncounterStore.replaceDraft(encounter, fields: environment.fields, in: connection) else {
                throw Problem.conflict("Encounter \(id) changed while it was being saved; read it again.")
            }
            try publish("encounter.updated", encounter, context, connection)
        }
        return try .json(encounter)
    }

    /// Signs a draft: from now on it is a record, and its services become charges.
    func signEncounter(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let id = context.parameter("id")
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            guard
                var encounter = try EncounterStore.find(
                    id, version: nil, organization: context.organizationId, fields: environment.fields, in: connection),
                context.mayAccess(location: encounter.locationId)
            else { throw Problem.notFound("Encounter \(id) does not exist.") }
            guard encounter.status == .draft else {
                throw Problem.conflict("Encounter \(id) is already signed.", type: "encounter-signed")
            }
            encounter.status = .signed
            encounter.signedAt = Timestamp.now()
            encounter.signedBy = context.principal?.userId ?? "system"
            guard try EncounterStore.markSigned(encounter, in: connection) else {
                throw Problem.conflict("Encounter \(id) changed while it was being signed; read it again.")
            }
            let charges = try EncounterStore.addCharges(
                for: encounter, previous: nil, organization: context.organizationId, in: connection)
            try publish("encounter.signed", encounter, context, connection)
            return try .json(SignedEncounter(encounter: encounter, charges: charges))
        }
    }

    /// Amends a signed encounter: a new signed version with the full new content, and correcting
    /// charges — a reversal of every charge whose line changed or went, a charge for every new line.
    func amendEncounter(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let id = context.parameter("id")
        let input = try request.decode(EncounterInput.self)
        var reason = Validation()
        reason.text(input.amendmentReason, "/amendmentReason", maxLength: 500)
        try reason.check()
        let current = try existing(id, context)
        guard current.status == .signed else {
            throw Problem.conflict("Encounter \(id) is a draft; change it with PUT.", type: "encounter-draft")
        }
        var (amended, _) = try prepare(input, id: id, version: current.version + 1, context: context)
        guard amended.patientId == current.patientId else {
            throw Problem.invalid(pointer: "/patientId", "an amendment cannot move the encounter to another patient")
        }
        amended.status = .signed
        amended.signedAt = Timestamp.now()
        amended.signedBy = context.principal?.userId ?? "system"
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            do {
                try EncounterStore.insert(amended, fields: environment.fields, in: connection)
            } catch let error as DatabaseError where error.kind == .uniqueViolation {
                throw Problem.conflict("Encounter \(id) was amended concurrently; read it again.")
            }
            let charges = try EncounterStore.addCharges(
                for: amended, previous: current, organization: context.organizationId, in: connection)
            try publish("encounter.amended", amended, context, connection)
            return try .json(SignedEncounter(encounter: amended, charges: charges))
        }
    }

    func encounterCharges(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let encounter = try existing(context.parameter("id"), context)
        let charges = try environment.database.read {
            try EncounterStore.charges(encounter.id, in: $0)
        }
        return try .json(ChargeList(items: charges, total: charges.map(\.amount).sum()))
    }

    func existing(_ id: String, _ context: RequestContext) throws -> Encounter {
        let encounter = try environment.database.read { connection in
            try EncounterStore.find(
                id, version: nil, organization: context.organizationId, fields: environment.fields, in: connection)
        }
        guard let encounter, context.mayAccess(location: encounter.locationId) else {
            throw Problem.notFound("Encounter \(id) does not exist.")
        }
        return encounter
    }

    func publish(
        _ type: String, _ encounter: Encounter, _ context: RequestContext, _ connection: any SQLConnection
    )
        throws
    {
        try environment.outbox.publish(
            try EventEnvelope.make(
                type: type, organizationId: encounter.organizationId, locationId: encounter.locationId,
                correlationId: context.requestId, source: BillingService.name,
                body: [
                    "encounterId": encounter.id, "version": String(encounter.version), "patientId": encounter.patientId,
                    "status": encounter.status.rawValue, "dateOfService": encounter.dateOfService.description,
                ]),
            in: connection)
    }

    /// `POST /api/billing/generate {"encounterId": ...}`: the invoice of a signed encounter's
    /// current version, priced from the fee schedule on its date (the payer's contracted amount
    /// when there is one); once per encounter unless the earlier invoice was voided.
    func generate(fromEncounter id: String, _ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let encounter: Encounter
        do {
            encounter = try existing(id, context)
        } catch let problem as Problem where problem.status == 404 {
            throw Problem.invalid(pointer: "/encounterId", "no encounter \(id) in this organization")
        }
        guard encounter.status == .signed else {
            throw Problem.conflict("Encounter \(id) is not signed; sign it before billing.", type: "encounter-draft")
        }
        let coverage = try activeCoverage(encounter.patientId, on: encounter.dateOfService, context)
        let priced = try environment.database.read { connection in
            try encounter.services.enumerated().map { index, service -> PricedLine in
                guard
                    let price = try FeeSchedule.price(
                        code: service.code, modifiers: service.modifiers, payerId: coverage?.payerId,
                        location: encounter.locationId, date: encounter.dateOfService,
                        organization: context.organizationId, in: connection)
                else {
                    throw Problem.conflict(
                        "\(service.code) (line \(index + 1)) has no price on \(encounter.dateOfService) any more.")
                }
                return PricedLine(
                    code: service.code, description: service.description ?? price.description,
                    quantity: service.units, unitPrice: price.allowed ?? price.charge)
            }
        }
        // The claim this invoice becomes is scrubbed first: with errors it waits in the claim
        // service's work queue (held) instead of going to the payer.
        let report = coverage == nil ? nil : try scrub(encounter, coverage: coverage, context: context)
        return try issue(
            { _ in priced }, patientId: encounter.patientId, location: encounter.locationId,
            dateOfService: encounter.dateOfService, coverage: coverage, encounterId: encounter.id, scrub: report,
            request: request, context: context)
    }
}

struct SignedEncounter: Encodable {
    let encounter: Encounter
    /// The charges this signature or amendment added (reversals are negative).
    let charges: [Charge]
}

struct ChargeList: Encodable {
    let items: [Charge]
    /// The net of charges and reversals.
    let total: Money
}

extension BillingService {
    /// Diagnoses must be ICD-10-CM codes of the current release that are billable (complete, not
    /// a category header) and in force on the date of service. Procedure codes are checked for
    /// their shape only: CPT descriptions are licensed and HCPCS ships as a sample.
    func checkCodes(_ input: EncounterInput, _ validation: inout Validation) {
        let date = input.dateOfService ?? .today()
        for (index, code) in (input.diagnoses ?? []).enumerated() where EncounterRules.isICD10CM(code) {
            let pointer = "/diagnoses/\(index)"
            guard let info = ICD10CM.shared.lookup(code) else {
                validation.fail(pointer, "\(code) is not in ICD-10-CM (April 2026 release)")
                continue
            }
            if !info.billable {
                validation.fail(pointer, "\(info.display) is a category, not a billable code; use a more specific code")
            } else if !info.isEffective(on: date) {
                validation.fail(pointer, "\(info.display) is not valid on \(date)")
            }
        }
    }
}
