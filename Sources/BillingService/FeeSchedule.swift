import Foundation
import RCMCore
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// One price of a location's fee schedule: the standard charge (no payer) or a payer's
/// contracted (allowed) amount, for a code with or without a pricing modifier (26, TC, ...),
/// in force from `effectiveFrom` to `effectiveTo` (open-ended when absent).
public struct FeeScheduleEntry: Codable, Sendable, Equatable {
    public var locationId: String
    public var code: String
    /// Empty for the code's base price.
    public var modifier: String
    /// Empty for the standard charge; a payer id for that payer's contracted amount.
    public var payerId: String
    public var description: String
    public var amount: Money
    public var effectiveFrom: CalendarDate
    public var effectiveTo: CalendarDate?
}

/// What a service line costs on its date of service.
struct LinePrice: Equatable {
    /// The clinic's charge (standard schedule).
    var charge: Money
    /// The payer's contracted amount when the schedule has one.
    var allowed: Money?
    var description: String
    /// How the price was found, for estimates and audits.
    var basis: String
}

enum FeeSchedule {
    /// Prices a code for a location, payer and date: a row for the line's first pricing modifier
    /// wins over the base row; the payer's contracted row gives the allowed amount. Nil when the
    /// schedule has no standard price for the code on that date.
    static func price(
        code: String, modifiers: [String], payerId: String?, location: String, date: CalendarDate,
        organization: String, in connection: any SQLConnection
    ) throws -> LinePrice? {
        let rows = try connection.query(
            entriesInForce(codes: [code], location: location, date: date, organization: organization)
        ).map(entry(from:))
        return price(code: code, modifiers: modifiers, payerId: payerId, location: location, from: rows)
    }

    /// The schedule's rows for `codes` in force at `location` on `date`, newest first: one query
    /// for every line of a bill.
    static func entriesInForce(codes: [String], location: String, date: CalendarDate, organization: String) -> SQL {
        """
        SELECT * FROM fee_schedule WHERE organization_id = \(organization) AND location_id = \(location)
            AND code IN \(SQL.list(codes)) AND effective_from <= \(date)
            AND (effective_to IS NULL OR effective_to >= \(date))
        ORDER BY effective_from DESC
        """
    }

    /// Prices `code` from rows of `entriesInForce` (rows of other codes are ignored).
    static func price(
        code: String, modifiers: [String], payerId: String?, location: String, from entries: [FeeScheduleEntry]
    ) -> LinePrice? {
        let rows = entries.filter { $0.code == code }
        func pick(payer: String) -> FeeScheduleEntry? {
            for modifier in modifiers + [""] {
                if let row = rows.first(where: { $0.payerId == payer && $0.modifier == modifier }) { return row }
            }
            return nil
        }
        guard let standard = pick(payer: "") else { return nil }
        let contracted = payerId.flatMap { pick(payer: $0) }
        var basis = "fee schedule of \(location) from \(standard.effectiveFrom)"
        if !standard.modifier.isEmpty { basis += " (modifier \(standard.modifier))" }
        if let contracted { basis += "; allowed amount contracted with the payer from \(contracted.effectiveFrom)" }
        return LinePrice(
            charge: standard.amount, allowed: contracted?.amount, description: standard.description, basis: basis)
    }

    static func entry(from row: Row) throws -> FeeScheduleEntry {
        FeeScheduleEntry(
            locationId: try row.string("location_id"), code: try row.string("code"),
            modifier: try row.string("modifier"), payerId: try row.string("payer_id"),
            description: try row.string("description"), amount: try row.money("amount"),
            effectiveFrom: try row.date("effective_from"), effectiveTo: row.optionalDate("effective_to"))
    }

    /// Adds an entry; an open entry of the same key that it follows is closed the day before.
    static func add(_ entry: FeeScheduleEntry, organization: String, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            UPDATE fee_schedule SET effective_to = \(entry.effectiveFrom.adding(days: -1))
            WHERE organization_id = \(organization) AND location_id = \(entry.locationId) AND code = \(entry.code)
                AND modifier = \(entry.modifier) AND payer_id = \(entry.payerId) AND effective_to IS NULL
                AND effective_from < \(entry.effectiveFrom)
            """)
        try connection.execute(
            """
            INSERT INTO fee_schedule (organization_id, location_id, code, modifier, payer_id, description, amount,
                effective_from, effective_to, created_at)
            VALUES (\(organization), \(entry.locationId), \(entry.code), \(entry.modifier), \(entry.payerId),
                \(entry.description), \(entry.amount), \(entry.effectiveFrom), \(entry.effectiveTo), \(Timestamp.now()))
            ON CONFLICT (organization_id, location_id, code, modifier, payer_id, effective_from)
            DO UPDATE SET description = excluded.description, amount = excluded.amount,
                effective_to = excluded.effective_to
            """)
    }

    static let csvHeader = "locationId,code,modifier,payerId,description,amount,effectiveFrom,effectiveTo"

    /// Parses the import format (the export's): a header line, then one entry per line. Every
    /// row's errors are collected (pointer `/rows/N/field`, N counting data rows from 1).
    static func parseCSV(_ text: String, validCode: (String) -> Bool) -> ([FeeScheduleEntry], [Problem.FieldError]) {
        var entries: [FeeScheduleEntry] = []
        var errors: [Problem.FieldError] = []
        let lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first else {
            return ([], [.init(pointer: "/rows", message: "the file is empty; the first line is the header")])
        }
        let columns = CSV.fields(header).map { $0.trimmingCharacters(in: .whitespaces) }
        guard columns == csvHeader.split(separator: ",").map(String.init) else {
            return ([], [.init(pointer: "/header", message: "must be exactly: \(csvHeader)")])
        }
        for (index, line) in lines.dropFirst().enumerated() {
            let row = index + 1
            let fields = CSV.fields(line)
            func fail(_ field: String, _ message: String) {
                errors.append(.init(pointer: "/rows/\(row)/\(field)", message: message))
            }
            guard fields.count == columns.count else {
                fail("", "has \(fields.count) fields, not \(columns.count)")
                continue
            }
            let value = Dictionary(
                uniqueKeysWithValues: zip(columns, fields.map { $0.trimmingCharacters(in: .whitespaces) }))
            let location = value["locationId"] ?? ""
            let code = value["code"] ?? ""
            let modifier = (value["modifier"] ?? "").uppercased()
            let amount = Decimal(string: value["amount"] ?? "", locale: Locale(identifier: "en_US_POSIX")).flatMap(
                Money.init(exactly:))
            let from = CalendarDate(value["effectiveFrom"] ?? "")
            let toText = value["effectiveTo"] ?? ""
            let to = toText.isEmpty ? nil : CalendarDate(toText)
            if location.isEmpty || location.count > 64 { fail("locationId", "is required (at most 64 characters)") }
            if !validCode(code) { fail("code", "must be 1 to 32 letters, digits, '-' or '.'") }
            if !modifier.isEmpty && !EncounterRules.isModifier(modifier) {
                fail("modifier", "must be two letters or digits")
            }
            if (value["description"] ?? "").isEmpty { fail("description", "is required") }
            if amount == nil || amount?.isNegative == true {
                fail("amount", "must be a non-negative amount with at most two decimals")
            }
            if from == nil { fail("effectiveFrom", "must be a date (YYYY-MM-DD)") }
            if !toText.isEmpty && to == nil { fail("effectiveTo", "must be a date (YYYY-MM-DD) or empty") }
            if let from, let to, to < from { fail("effectiveTo", "must not be before effectiveFrom") }
            if let amount, let from {
                entries.append(
                    FeeScheduleEntry(
                        locationId: location, code: code, modifier: modifier, payerId: value["payerId"] ?? "",
                        description: value["description"] ?? "", amount: amount, effectiveFrom: from, effectiveTo: to))
            }
        }
        return (entries, errors)
    }
}

/// RFC 4180 fields of one line: commas separate, double quotes quote, "" is a quote.
enum CSV {
    static func fields(_ line: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var iterator = line.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" && field.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        fields.append(field)
        return fields
    }

    static func escape(_ value: String) -> String {
        value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
            ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }
}

extension BillingService {
    /// `GET /api/billing/fee-schedule?locationId=&date=&payerId=`: the entries in force on a date
    /// (default today); `?format=csv` (or `Accept: text/csv`) exports every entry, all dates.
    func listFeeSchedule(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let location = try request.requiredQuery("locationId")
        try context.requireLocation(location, pointer: "query:locationId")
        let csv = request.query["format"] == "csv" || (request.headers["Accept"] ?? "").contains("text/csv")
        let date = try request.dateQuery("date") ?? .today()
        var sql: SQL =
            "SELECT * FROM fee_schedule WHERE organization_id = \(context.organizationId) AND location_id = \(location)"
        if !csv {
            sql = sql + " AND effective_from <= \(date) AND (effective_to IS NULL OR effective_to >= \(date))"
        }
        if let payer = request.query["payerId"] { sql = sql + " AND payer_id = \(payer)" }
        sql = sql + " ORDER BY code, modifier, payer_id, effective_from"
        let entries = try environment.database.read { try $0.query(sql).map(FeeSchedule.entry(from:)) }
        guard csv else { return try .json(["items": entries]) }
        var text = FeeSchedule.csvHeader + "\n"
        for entry in entries {
            text +=
                [
                    entry.locationId, entry.code, entry.modifier, entry.payerId, entry.description,
                    entry.amount.description,
                    entry.effectiveFrom.description, entry.effectiveTo?.description ?? "",
                ].map(CSV.escape).joined(separator: ",") + "\n"
        }
        var response = HTTPResponse(
            status: 200, headers: HTTPHeaders([("Content-Type", "text/csv; charset=utf-8")]), body: Array(text.utf8))
        response.headers.add("Content-Disposition", "attachment; filename=\"fee-schedule-\(location).csv\"")
        return response
    }

    /// `POST /api/billing/fee-schedule/import` with a CSV body (the export's format): all rows or
    /// none; every bad row is named in the problem (`/rows/N/field`).
    func importFeeSchedule(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let contentType = (request.headers["Content-Type"] ?? "").lowercased()
        guard contentType.hasPrefix("text/csv") else {
            throw Problem.unsupportedMediaType("Content-Type must be text/csv, not '\(contentType)'.")
        }
        guard let text = String(validating: request.body, as: UTF8.self) else {
            throw Problem.malformed("The CSV is not UTF-8.")
        }
        let (entries, errors) = FeeSchedule.parseCSV(text, validCode: BillingService.isChargeCode)
        var locationErrors: [Problem.FieldError] = []
        for (index, entry) in entries.enumerated() where !context.mayAccess(location: entry.locationId) {
            locationErrors.append(
                .init(pointer: "/rows/\(index + 1)/locationId", message: "is not one of your locations"))
        }
        if !(errors + locationErrors).isEmpty {
            throw Problem.invalid(
                errors + locationErrors,
                detail: "\((errors + locationErrors).count) problem(s) in the file; nothing was imported.")
        }
        try environment.database.write { connection in
            for entry in entries.sorted(by: { $0.effectiveFrom < $1.effectiveFrom }) {
                try FeeSchedule.add(entry, organization: context.organizationId, in: connection)
                if entry.payerId.isEmpty && entry.modifier.isEmpty && entry.effectiveFrom <= .today() {
                    try BillingStore.upsert(
                        ChargeItem(
                            locationId: entry.locationId, code: entry.code, description: entry.description,
                            price: entry.amount),
                        organization: context.organizationId, in: connection)
                }
            }
        }
        return try .json(["imported": entries.count])
    }

    /// `PUT /api/billing/fee-schedule`: one entry (a future price, a payer contract, a modifier price).
    func putFeeScheduleEntry(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        struct Input: Decodable {
            var locationId: String?
            var code: String?
            var modifier: String?
            var payerId: String?
            var description: String?
            var amount: Money?
            var effectiveFrom: CalendarDate?
            var effectiveTo: CalendarDate?
        }
        let input = try request.decode(Input.self)
        var validation = Validation()
        validation.text(input.locationId, "/locationId", maxLength: 64)
        validation.require(
            input.code.map(BillingService.isChargeCode) ?? false, "/code", "must be 1 to 32 letters, digits, '-' or '.'"
        )
        if let modifier = input.modifier, !modifier.isEmpty {
            validation.require(
                EncounterRules.isModifier(modifier.uppercased()), "/modifier", "must be two letters or digits")
        }
        validation.text(input.payerId, "/payerId", maxLength: 64, required: false)
        validation.text(input.description, "/description")
        validation.require(input.amount != nil, "/amount", "is required")
        if let amount = input.amount { validation.require(!amount.isNegative, "/amount", "must not be negative") }
        validation.require(input.effectiveFrom != nil, "/effectiveFrom", "is required")
        if let from = input.effectiveFrom, let to = input.effectiveTo {
            validation.require(from <= to, "/effectiveTo", "must not be before effectiveFrom")
        }
        try validation.check()
        try context.requireLocation(input.locationId ?? "", pointer: "/locationId")
        let entry = FeeScheduleEntry(
            locationId: input.locationId ?? "", code: input.code ?? "", modifier: (input.modifier ?? "").uppercased(),
            payerId: input.payerId ?? "", description: input.description ?? "", amount: input.amount ?? .zero,
            effectiveFrom: input.effectiveFrom ?? .today(), effectiveTo: input.effectiveTo)
        try environment.database.write { try FeeSchedule.add(entry, organization: context.organizationId, in: $0) }
        return try .json(entry)
    }

    static func isChargeCode(_ code: String) -> Bool {
        !code.isEmpty && code.count <= 32
            && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }
}
