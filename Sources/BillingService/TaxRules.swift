import Foundation
import RCMCore
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// A tax on one code (India's GST on some non-clinical items, for example): none by default.
public struct TaxRule: Codable, Sendable, Equatable {
    public var code: String
    /// As printed on the invoice, e.g. "GST 18%".
    public var name: String
    public var ratePercent: Decimal
    public var effectiveFrom: CalendarDate
    public var effectiveTo: CalendarDate?
}

enum TaxRules {
    /// The rule of each code in force on the date (codes without one are untaxed).
    static func inForce(
        codes: [String], on date: CalendarDate, organization: String, in connection: any SQLConnection
    )
        throws -> [String: TaxRule]
    {
        guard !codes.isEmpty else { return [:] }
        var rules: [String: TaxRule] = [:]
        for row in try connection.query(
            """
            SELECT * FROM tax_rules WHERE organization_id = \(organization) AND code IN \(SQL.list(Array(Set(codes))))
                AND effective_from <= \(date) AND (effective_to IS NULL OR effective_to >= \(date))
            ORDER BY effective_from
            """)
        {
            let rule = try rule(from: row)
            rules[rule.code] = rule
        }
        return rules
    }

    static func rule(from row: Row) throws -> TaxRule {
        TaxRule(
            code: try row.string("code"), name: try row.string("name"),
            ratePercent: Decimal(string: try row.string("rate_percent")) ?? 0,
            effectiveFrom: try row.date("effective_from"), effectiveTo: row.optionalDate("effective_to"))
    }
}

extension BillingService {
    func listTaxRules(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let rules = try environment.database.read { connection in
            try connection.query(
                "SELECT * FROM tax_rules WHERE organization_id = \(context.organizationId) ORDER BY code, effective_from"
            ).map(TaxRules.rule(from:))
        }
        return try .json(["items": rules])
    }

    /// `PUT /api/billing/tax-rules/{code}`: a rate from a date (the previous rule of the code ends
    /// the day before); a rate of 0 ends taxation of the code from that date.
    func putTaxRule(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        struct Input: Decodable {
            var name: String?
            var ratePercent: Decimal?
            var effectiveFrom: CalendarDate?
        }
        let input = try request.decode(Input.self)
        let code = context.parameter("code")
        var validation = Validation()
        validation.require(
            BillingService.isChargeCode(code), "path:code", "must be 1 to 32 letters, digits, '-' or '.'")
        validation.text(input.name, "/name", maxLength: 60)
        validation.require(input.ratePercent != nil, "/ratePercent", "is required")
        if let rate = input.ratePercent {
            validation.require(rate >= 0 && rate <= 100, "/ratePercent", "must be between 0 and 100")
            validation.require(
                (rate * 10_000).rounded(0) == rate * 10_000, "/ratePercent", "at most four decimals")
        }
        try validation.check()
        let rule = TaxRule(
            code: code, name: input.name ?? "", ratePercent: input.ratePercent ?? 0,
            effectiveFrom: input.effectiveFrom ?? .today(), effectiveTo: nil)
        try environment.database.write { connection in
            try connection.execute(
                """
                UPDATE tax_rules SET effective_to = \(rule.effectiveFrom.adding(days: -1))
                WHERE organization_id = \(context.organizationId) AND code = \(code) AND effective_to IS NULL
                    AND effective_from < \(rule.effectiveFrom)
                """)
            try connection.execute(
                """
                INSERT INTO tax_rules (organization_id, code, name, rate_percent, effective_from, effective_to, created_at)
                VALUES (\(context.organizationId), \(code), \(rule.name), \("\(rule.ratePercent)"), \(rule.effectiveFrom),
                    NULL, \(Timestamp.now()))
                ON CONFLICT (organization_id, code, effective_from)
                DO UPDATE SET name = excluded.name, rate_percent = excluded.rate_percent
                """)
        }
        return try .json(rule)
    }
}

extension Decimal {
    /// Rounded to `scale` decimals, half away from zero.
    func rounded(_ scale: Int) -> Decimal {
        var value = self
        var result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return result
    }
}
