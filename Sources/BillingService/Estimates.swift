import Foundation
import RCMCore
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// What the patient will probably pay, line by line and why: before the visit from the
/// appointment's planned services, after it from the encounter, or for services listed. Insured
/// patients get the payer's split (the payer's verified benefits when eligibility was checked);
/// self-pay patients get a Good Faith Estimate.
public struct Estimate: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var patientId: String
    public var locationId: String
    public var dateOfService: CalendarDate
    /// appointment, encounter or services
    public var basis: String
    public var currency: String
    public var coverage: CoverageNote?
    public var lines: [Line]
    public var total: Money
    public var payerAmount: Money
    public var patientAmount: Money
    public var notes: [String]
    public var goodFaithEstimate: GoodFaithEstimate?
    public var createdAt: String

    public struct CoverageNote: Codable, Sendable, Equatable {
        public var coverageId: String
        public var payerName: String
        /// `eligibility` when the payer's verified benefits were used, `coverage` otherwise.
        public var source: String
        public var copay: Money
        public var coinsurancePercent: Decimal
        public var deductibleRemaining: Money
        public var outOfPocketRemaining: Money?
    }

    public struct Line: Codable, Sendable, Equatable {
        public var code: String
        public var description: String
        public var quantity: Int
        public var charge: Money
        /// The payer's contracted amount, when the fee schedule has one.
        public var allowed: Money?
        public var payerAmount: Money
        public var patientAmount: Money
        public var tax: Money?
        /// Why, step by step, in words a patient can follow.
        public var explanation: [String]
    }

    /// What a self-pay patient is told before care (US No Surprises Act): the expected charges of
    /// each item with its code, the diagnoses when known, the provider, and the right to dispute.
    public struct GoodFaithEstimate: Codable, Sendable, Equatable {
        public var patientName: String
        public var patientDateOfBirth: CalendarDate?
        public var providerNPI: String?
        public var diagnosisCodes: [String]
        public var items: [Item]
        public var totalExpectedCharges: Money
        public var issuedOn: CalendarDate
        public var disclaimer: String

        public struct Item: Codable, Sendable, Equatable {
            public var code: String
            public var description: String
            public var quantity: Int
            public var expectedCharge: Money
        }
    }
}

struct EstimateInput: Decodable {
    var patientId: String?
    var appointmentId: String?
    var encounterId: String?
    var services: [Service]?
    var dateOfService: CalendarDate?
    var locationId: String?

    struct Service: Decodable {
        var code: String?
        var modifiers: [String]?
        var units: Int?
    }
}

extension BillingService {
    func estimate(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let input = try request.decode(EstimateInput.self)
        var validation = Validation()
        validation.text(input.patientId, "/patientId", maxLength: 64)
        let sources = [input.appointmentId != nil, input.encounterId != nil, input.services != nil].filter { $0 }.count
        validation.require(sources == 1, "/services", "give exactly one of appointmentId, encounterId or services")
        for (index, service) in (input.services ?? []).enumerated() {
            validation.text(service.code, "/services/\(index)/code", maxLength: 32)
            if let units = service.units {
                validation.require((1...999).contains(units), "/services/\(index)/units", "must be 1 to 999")
            }
            for (position, modifier) in (service.modifiers ?? []).enumerated() {
                validation.require(
                    EncounterRules.isModifier(modifier), "/services/\(index)/modifiers/\(position)",
                    "must be two letters or digits")
            }
        }
        if let services = input.services {
            validation.require(!services.isEmpty && services.count <= 100, "/services", "must list 1 to 100 services")
        }
        try validation.check()
        let patientId = input.patientId ?? ""
        let patient = try patientSummary(patientId, context)

        // What is to be done, where and when.
        var basis = "services"
        var location = input.locationId ?? patient.locationId
        var date = input.dateOfService ?? .today()
        var wanted: [(code: String, modifiers: [String], units: Int)] = (input.services ?? []).map {
            ($0.code ?? "", ($0.modifiers ?? []).map { $0.uppercased() }, $0.units ?? 1)
        }
        var diagnoses: [String] = []
        var providerNPI: String?
        if let encounterId = input.encounterId {
            let encounter: Encounter
            do {
                encounter = try existing(encounterId, context)
            } catch let problem as Problem where problem.status == 404 {
                throw Problem.invalid(pointer: "/encounterId", "no encounter \(encounterId) in this organization")
            }
            guard encounter.patientId == patientId else {
                throw Problem.invalid(pointer: "/encounterId", "encounter \(encounterId) is another patient's")
            }
            basis = "encounter"
            location = encounter.locationId
            date = encounter.dateOfService
            wanted = encounter.services.map { ($0.code, $0.modifiers, $0.units) }
            diagnoses = encounter.diagnoses
            providerNPI = encounter.renderingProviderNPI
        } else if let appointmentId = input.appointmentId {
            struct Appointment: Decodable {
                let patientId: String
                let locationId: String
                let localStart: String?
                let start: String
                let plannedServices: [String]?
                let providerNpi: String?
            }
            guard
                let appointment = try environment.services.client(for: "patient").get(
                    Appointment.self, "/api/patients/appointments/\(appointmentId)", context: context),
                appointment.patientId == patientId
            else { throw Problem.invalid(pointer: "/appointmentId", "no appointment \(appointmentId) of \(patientId)") }
            guard let planned = appointment.plannedServices, !planned.isEmpty else {
                throw Problem.invalid(pointer: "/appointmentId", "the appointment lists no planned services")
            }
            basis = "appointment"
            location = appointment.locationId
            date = CalendarDate(String((appointment.localStart ?? appointment.start).prefix(10))) ?? date
            wanted = planned.map { ($0, [], 1) }
            providerNPI = appointment.providerNpi
        }
        try context.requireLocation(location, pointer: "/locationId")
        let coverage = try activeCoverage(patientId, on: date, context)
        var outOfPocketRemaining: Money?
        if let check = coverage?.eligibility?.checkId {
            struct Check: Decodable {
                struct Result: Decodable {
                    struct Share: Decodable { let outOfPocketRemaining: Money? }
                    let costShare: Share
                }
                let result: Result?
            }
            outOfPocketRemaining = try environment.services.client(for: "insurance").get(
                Check.self, "/api/insurance/eligibility/checks/\(check)", context: context)?.result?.costShare
                .outOfPocketRemaining
        }
        let (prices, taxes) = try environment.database.read { connection in
            let prices = try wanted.enumerated().map { index, service -> LinePrice in
                guard
                    let price = try FeeSchedule.price(
                        code: service.code, modifiers: service.modifiers, payerId: coverage?.payerId,
                        location: location,
                        date: date, organization: context.organizationId, in: connection)
                else {
                    throw Problem.invalid(
                        pointer: basis == "services" ? "/services/\(index)/code" : "/\(basis)Id",
                        "\(service.code) has no price in the fee schedule of \(location) on \(date)")
                }
                return price
            }
            let taxes = try TaxRules.inForce(
                codes: wanted.map(\.code), on: date, organization: context.organizationId, in: connection)
            return (prices, taxes)
        }
        let estimate = EstimateCalculator.make(
            id: Identifier.make("est"), organization: context.organizationId, patient: patient, location: location,
            date: date, basis: basis, currency: environment.currency,
            services: wanted.map { ($0.code, $0.units) }, prices: prices, taxes: taxes, coverage: coverage,
            outOfPocketRemaining: outOfPocketRemaining, diagnoses: diagnoses, providerNPI: providerNPI)
        try environment.database.write { connection in
            try connection.execute(
                """
                INSERT INTO estimates (id, organization_id, patient_id, kind, body, created_at)
                VALUES (\(estimate.id), \(estimate.organizationId), \(estimate.patientId),
                    \(estimate.goodFaithEstimate == nil ? "estimate" : "good_faith_estimate"),
                    \(try JSON.encodeString(estimate)), \(estimate.createdAt))
                """)
        }
        return try .json(estimate, status: 201)
    }
}

/// The arithmetic of an estimate: the invoice's split rules (copay once, then what is left of the
/// deductible, then coinsurance), on the allowed amount when the payer has a contract, capped by
/// what is left of the out-of-pocket maximum.
enum EstimateCalculator {
    static func make(
        id: String, organization: String, patient: PatientSummary, location: String, date: CalendarDate,
        basis: String, currency: String, services: [(code: String, units: Int)], prices: [LinePrice],
        taxes: [String: TaxRule], coverage: CoverageSummary?, outOfPocketRemaining: Money?, diagnoses: [String],
        providerNPI: String?
    ) -> Estimate {
        let charges = zip(services, prices).map { $1.charge * Int64($0.units) }
        let bases = zip(services, prices).map { ($1.allowed ?? $1.charge) * Int64($0.units) }
        let deductibleRemaining = coverage.map { Money.max(.zero, $0.deductible - $0.deductibleMet) } ?? .zero
        let share = coverage.map {
            CostShare(
                copay: $0.copay, deductibleRemaining: deductibleRemaining, coinsurancePercent: $0.coinsurancePercent)
        }
        var splits = CostShare.split(bases, under: share)
        var notes: [String] = []
        // The out-of-pocket maximum caps the patient's share; the payer pays the rest.
        if let cap = outOfPocketRemaining {
            var left = cap
            for index in splits.indices {
                let allowedShare = Money.min(splits[index].patient, left)
                if allowedShare != splits[index].patient {
                    splits[index].payer += splits[index].patient - allowedShare
                    splits[index].patient = allowedShare
                }
                left -= allowedShare
            }
            if left == .zero { notes.append("The out-of-pocket maximum (\(cap) left this year) caps your share.") }
        }
        var copayLeft = coverage?.copay ?? .zero
        var deductibleLeft = deductibleRemaining
        var lines: [Estimate.Line] = []
        for index in services.indices {
            let service = services[index]
            let price = prices[index]
            var explanation = ["\(service.units) × \(price.charge) = \(charges[index]) (\(price.basis))."]
            let tax = taxes[service.code].map { charges[index].percentage($0.ratePercent) }
            if let coverage {
                if let allowed = price.allowed {
                    explanation.append(
                        "\(coverage.payerName) allows \(allowed) each, \(bases[index]) in all; the difference is not billed to you."
                    )
                }
                var remaining = bases[index]
                let copay = Money.min(copayLeft, remaining)
                copayLeft -= copay
                remaining -= copay
                if copay != .zero { explanation.append("Copay: \(copay).") }
                let deductible = Money.min(deductibleLeft, remaining)
                deductibleLeft -= deductible
                remaining -= deductible
                if deductible != .zero {
                    explanation.append("Deductible: \(deductible) (\(deductibleLeft) of it left after this line).")
                } else if deductibleRemaining == .zero, index == 0 {
                    explanation.append("Deductible: already met this year.")
                }
                if coverage.coinsurancePercent > 0, remaining != .zero {
                    explanation.append(
                        "Coinsurance: \(coverage.coinsurancePercent)% of \(remaining) = \(remaining.percentage(coverage.coinsurancePercent))."
                    )
                }
                explanation.append(
                    "You pay \(splits[index].patient); \(coverage.payerName) pays \(splits[index].payer).")
            } else {
                explanation.append("No insurance on file for \(date): you pay the full charge.")
            }
            if let tax, let rule = taxes[service.code] {
                explanation.append("\(rule.name): \(tax), paid by you.")
            }
            lines.append(
                Estimate.Line(
                    code: service.code, description: price.description, quantity: service.units, charge: charges[index],
                    allowed: price.allowed.map { $0 * Int64(service.units) }, payerAmount: splits[index].payer,
                    patientAmount: splits[index].patient + (tax ?? .zero), tax: tax, explanation: explanation))
        }
        let today = CalendarDate.today()
        let name = [patient.givenName, patient.familyName].compactMap { $0 }.joined(separator: " ")
        return Estimate(
            id: id, organizationId: organization, patientId: patient.id, locationId: location, dateOfService: date,
            basis: basis, currency: currency,
            coverage: coverage.map {
                .init(
                    coverageId: $0.id, payerName: $0.payerName, source: $0.costShareSource ?? "coverage",
                    copay: $0.copay,
                    coinsurancePercent: $0.coinsurancePercent, deductibleRemaining: deductibleRemaining,
                    outOfPocketRemaining: outOfPocketRemaining)
            },
            lines: lines, total: lines.map { $0.payerAmount + $0.patientAmount }.sum(),
            payerAmount: lines.map(\.payerAmount).sum(), patientAmount: lines.map(\.patientAmount).sum(),
            notes: notes + [
                "An estimate, not a bill: the final amount depends on the care given and the payer's decision."
            ],
            goodFaithEstimate: coverage != nil
                ? nil
                : .init(
                    patientName: name, patientDateOfBirth: patient.dateOfBirth, providerNPI: providerNPI,
                    diagnosisCodes: diagnoses,
                    items: lines.map {
                        .init(
                            code: $0.code, description: $0.description, quantity: $0.quantity, expectedCharge: $0.charge
                        )
                    },
                    totalExpectedCharges: lines.map(\.charge).sum(), issuedOn: today,
                    disclaimer:
                        "This Good Faith Estimate shows the costs of items and services that are reasonably expected for your care. It is based on information known when it was created and does not include unknown or unexpected costs that may arise. You have the right to receive a Good Faith Estimate, and if you are billed substantially more than this estimate you may dispute the bill. Keep a copy of this estimate."
                ),
            createdAt: Timestamp.now())
    }
}
