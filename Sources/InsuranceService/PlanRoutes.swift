import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMServiceKit
import RCMStorage

extension InsuranceService {
    func createPlan(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let input = try request.decode(PlanInput.self)
        var validation = Validation()
        validation.text(input.payerId, "/payerId", maxLength: 64)
        validation.text(input.name, "/name")
        validation.text(input.planCode, "/planCode", maxLength: 80, required: false)
        validation.text(input.planType, "/planType", maxLength: 80, required: false)
        try validation.check()
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            guard let payer = try findPayer(input.payerId ?? "", context.organizationId, connection) else {
                throw Problem.invalid(pointer: "/payerId", "no payer \(input.payerId ?? "") in this organization")
            }
            let plan = Plan(
                id: Identifier.make("pln"), organizationId: context.organizationId, payerId: payer.id,
                name: input.name ?? "", planCode: input.planCode, planType: input.planType, createdAt: Timestamp.now())
            try connection.execute(
                """
                INSERT INTO plans (id, organization_id, payer_id, name, plan_code, plan_type, created_at)
                VALUES (\(plan.id), \(plan.organizationId), \(plan.payerId), \(plan.name), \(plan.planCode),
                    \(plan.planType), \(plan.createdAt))
                """)
            return try .json(plan, status: 201)
        }
    }

    func listPlans(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let payerId = context.parameter("id")
        let plans = try environment.database.read { connection in
            guard try findPayer(payerId, context.organizationId, connection) != nil else {
                throw Problem.notFound("Payer \(payerId) does not exist.")
            }
            return try connection.query(
                "SELECT * FROM plans WHERE organization_id = \(context.organizationId) AND payer_id = \(payerId) ORDER BY name"
            ).map { row in
                Plan(
                    id: try row.string("id"), organizationId: try row.string("organization_id"),
                    payerId: try row.string("payer_id"), name: try row.string("name"),
                    planCode: row.optionalString("plan_code"), planType: row.optionalString("plan_type"),
                    createdAt: try row.string("created_at"))
            }
        }
        return try .json(["items": plans])
    }

    /// `GET /api/insurance/coverages?memberId=`: coverages with that member id (exact match through
    /// the blind index; member ids are stored encrypted) — how registration finds a patient by card.
    func findCoverages(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let memberId = try request.requiredQuery("memberId")
        let index = environment.fields.blindIndex(memberId, field: "coverages.member_id")
        let coverages = try environment.database.read { connection in
            try connection.query(
                """
                \(unsafeRaw: InsuranceService.coverageSelect)
                WHERE c.organization_id = \(context.organizationId) AND c.member_index = \(index)
                ORDER BY c.patient_id LIMIT 100
                """
            ).map { try InsuranceService.coverage(from: $0, fields: environment.fields) }
        }
        return try .json(["items": coverages])
    }
}
