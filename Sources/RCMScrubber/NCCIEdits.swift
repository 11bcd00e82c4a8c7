import Foundation
import RCMCore

/// The NCCI procedure-to-procedure modifier indicator of an edit.
public enum PTPModifierIndicator: Int, Sendable, Codable, Hashable {
    /// No modifier lets the pair be billed together.
    case notAllowed = 0
    /// An NCCI-associated modifier (59, XE, XS, XP, XU, 25, 91, anatomic …) lets the pair through.
    case allowed = 1
    /// The edit was deleted retroactively (effective date = deletion date); it never applies.
    case notApplicable = 9
}

/// One row of a CMS NCCI PTP edit file (practitioner or outpatient hospital).
public struct PTPEdit: Sendable, Codable, Hashable {
    public var column1: String
    public var column2: String
    /// The "* = in existence prior to 1996" column.
    public var existedBefore1996: Bool
    public var effectiveDate: CalendarDate
    /// Nil for "*" (no data): the edit is still in force.
    public var deletionDate: CalendarDate?
    public var modifierIndicator: PTPModifierIndicator
    public var rationale: String

    public init(
        column1: String, column2: String, existedBefore1996: Bool = false, effectiveDate: CalendarDate,
        deletionDate: CalendarDate? = nil, modifierIndicator: PTPModifierIndicator, rationale: String = ""
    ) {
        self.column1 = column1
        self.column2 = column2
        self.existedBefore1996 = existedBefore1996
        self.effectiveDate = effectiveDate
        self.deletionDate = deletionDate
        self.modifierIndicator = modifierIndicator
        self.rationale = rationale
    }

    /// True when the edit applies to services on `date`: on or after the effective date, on or
    /// before the deletion date (CMS gives the last day in force, e.g. 20231231), and not indicator 9.
    public func isInEffect(on date: CalendarDate) -> Bool {
        guard modifierIndicator != .notApplicable, effectiveDate <= date else { return false }
        if let deletion = deletionDate, deletion < date { return false }
        return true
    }
}

/// The MUE adjudication indicator (MAI).
public enum MUEAdjudicationIndicator: Int, Sendable, Codable, Hashable {
    /// 1: a claim-line edit; each line's units are compared with the value.
    case line = 1
    /// 2: a date-of-service edit, absolute (policy): units on every line for the code and date are summed.
    case dateOfServicePolicy = 2
    /// 3: a date-of-service edit, clinical: summed likewise; rarely payable above the value on appeal.
    case dateOfServiceClinical = 3

    public var sumsAcrossLines: Bool { self != .line }
}

/// One row of a CMS MUE file (practitioner, outpatient hospital or DME).
public struct MUEEdit: Sendable, Codable, Hashable {
    public var code: String
    public var maxUnits: Int
    public var adjudicationIndicator: MUEAdjudicationIndicator
    public var rationale: String

    public init(code: String, maxUnits: Int, adjudicationIndicator: MUEAdjudicationIndicator, rationale: String = "") {
        self.code = code
        self.maxUnits = maxUnits
        self.adjudicationIndicator = adjudicationIndicator
        self.rationale = rationale
    }
}

/// A row an importer could not read, with where it is.
public struct NCCILoadIssue: Sendable, Codable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based line of the file where the row starts.
    public var line: Int
    public var message: String

    public var description: String { "\(file):\(line): \(message)" }
}

/// What an import read.
public struct NCCILoadReport: Sendable, Codable, Hashable {
    public var ptpRows = 0
    public var mueRows = 0
    /// Lines before the first data row of each file (copyright notices, column headings).
    public var headerLines = 0
    public var issues: [NCCILoadIssue] = []

    public init() {}
}

/// NCCI PTP and MUE edits, loaded from files in CMS's published layouts.
public struct NCCIEdits: Sendable {
    /// PTP rows packed small: a full quarterly practitioner table is over a million rows, and a
    /// row of strings and dates costs several hundred bytes, a packed row about forty.
    struct PackedRow: Sendable {
        var effective: Int32  // yyyymmdd
        var deletion: Int32  // yyyymmdd, 0 for none
        var next: Int32  // index of the pair's next row, -1 at the end
        var rationale: UInt16
        var indicator: UInt8
        var existedBefore1996: Bool
    }

    /// First row index of each column 1/column 2 pair, keyed by the two codes packed in 60 bits.
    var heads: [UInt64: Int32] = [:]
    var rows: [PackedRow] = []
    var rationales: [String] = []
    var rationaleIndex: [String: UInt16] = [:]
    /// Rows whose codes do not pack (not five letters or digits), only through `init(ptp:mue:)`.
    var unpacked: [String: [PTPEdit]] = [:]
    public private(set) var mue: [String: MUEEdit] = [:]
    public private(set) var report = NCCILoadReport()

    public init() {}

    public init(ptp: [PTPEdit], mue: [MUEEdit]) {
        for edit in ptp { add(edit) }
        for edit in mue { self.mue[edit.code] = edit }
        report.ptpRows = ptp.count
        report.mueRows = mue.count
    }

    /// Loads a practitioner PTP file and an MUE file as published by CMS each quarter (the text
    /// files from the ZIPs: tab-delimited PTP `ccipra-v…-f1.txt`, comma-separated MUE
    /// `MCR_MUE_PractitionerServices_Eff_….csv`, either delimiter accepted for both). Header lines are
    /// skipped; rows that cannot be read are listed in `report.issues` with their line numbers.
    public static func load(ptpFile: String, mueFile: String) throws -> NCCIEdits {
        try load(ptpFiles: [ptpFile], mueFiles: [mueFile])
    }

    /// Loads several files: CMS splits the practitioner PTP table over four files (f1–f4).
    public static func load(ptpFiles: [String], mueFiles: [String]) throws -> NCCIEdits {
        var edits = NCCIEdits()
        for path in ptpFiles {
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
            edits.importPTP(data, source: (path as NSString).lastPathComponent)
        }
        for path in mueFiles {
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
            edits.importMUE(data, source: (path as NSString).lastPathComponent)
        }
        return edits
    }

    /// The sample files shipped with the module (constructed rows in CMS's layouts, not CMS data).
    public static let bundledSample: NCCIEdits = {
        do {
            return try load(
                ptpFile: ScrubberResources.url("ncci-ptp-practitioner-sample", "txt").path,
                mueFile: ScrubberResources.url("mue-practitioner-sample", "csv").path)
        } catch {
            fatalError("RCMScrubber's bundled NCCI sample files are unreadable: \(error)")
        }
    }()

    /// Adds the rows of a PTP file's text.
    public mutating func importPTP(_ data: Data, source: String) {
        let counts = DelimitedText.read(data) { fields, line in
            switch Self.parsePTP(fields) {
            case .success(let edit):
                add(edit)
                report.ptpRows += 1
            case .failure(let problem):
                report.issues.append(NCCILoadIssue(file: source, line: line, message: problem.message))
            }
        }
        report.headerLines += counts.headerLines
    }

    /// Adds the rows of an MUE file's text; a later row for the same code replaces an earlier one.
    public mutating func importMUE(_ data: Data, source: String) {
        let counts = DelimitedText.read(data) { fields, line in
            switch Self.parseMUE(fields) {
            case .success(let edit):
                mue[edit.code] = edit
                report.mueRows += 1
            case .failure(let problem):
                report.issues.append(NCCILoadIssue(file: source, line: line, message: problem.message))
            }
        }
        report.headerLines += counts.headerLines
    }

    mutating func add(_ edit: PTPEdit) {
        guard let key = Self.key(edit.column1, edit.column2) else {
            unpacked["\(edit.column1)|\(edit.column2)", default: []].append(edit)
            return
        }
        let rationale: UInt16
        if let known = rationaleIndex[edit.rationale] {
            rationale = known
        } else if rationales.count < Int(UInt16.max) {
            rationale = UInt16(rationales.count)
            rationaleIndex[edit.rationale] = rationale
            rationales.append(edit.rationale)
        } else {
            rationale = UInt16.max  // more distinct rationales than CMS has ever used: not kept
        }
        let row = PackedRow(
            effective: Self.number(edit.effectiveDate), deletion: edit.deletionDate.map(Self.number) ?? 0,
            next: heads[key] ?? -1, rationale: rationale, indicator: UInt8(edit.modifierIndicator.rawValue),
            existedBefore1996: edit.existedBefore1996)
        heads[key] = Int32(rows.count)
        rows.append(row)
    }

    /// Number of distinct column 1/column 2 pairs.
    public var ptpPairCount: Int { heads.count + unpacked.count }

    /// The edit for the pair in this column order that is in force on `date`, the most restrictive
    /// (indicator 0 before 1) when rows overlap; nil when none applies.
    public func ptpEdit(column1: String, column2: String, on date: CalendarDate) -> PTPEdit? {
        guard let key = Self.key(column1, column2) else {
            let rows = unpacked["\(column1)|\(column2)"] ?? []
            return rows.first { $0.isInEffect(on: date) && $0.modifierIndicator == .notAllowed }
                ?? rows.first { $0.isInEffect(on: date) }
        }
        guard var index = heads[key] else { return nil }
        let day = Self.number(date)
        var found: Int32 = -1
        while index >= 0 {
            let row = rows[Int(index)]
            if row.indicator != 9, row.effective <= day, row.deletion == 0 || day <= row.deletion,
                found < 0 || row.indicator == 0
            {
                found = index
            }
            index = row.next
        }
        return found < 0 ? nil : edit(column1, column2, rows[Int(found)])
    }

    /// Every row for the pair, whatever its dates, in file order.
    public func ptpRows(column1: String, column2: String) -> [PTPEdit] {
        guard let key = Self.key(column1, column2) else { return unpacked["\(column1)|\(column2)"] ?? [] }
        var result: [PTPEdit] = []
        var index = heads[key] ?? -1
        while index >= 0 {
            result.append(edit(column1, column2, rows[Int(index)]))
            index = rows[Int(index)].next
        }
        return result.reversed()
    }

    private func edit(_ column1: String, _ column2: String, _ row: PackedRow) -> PTPEdit {
        PTPEdit(
            column1: column1.uppercased(), column2: column2.uppercased(), existedBefore1996: row.existedBefore1996,
            effectiveDate: Self.date(row.effective), deletionDate: row.deletion == 0 ? nil : Self.date(row.deletion),
            modifierIndicator: PTPModifierIndicator(rawValue: Int(row.indicator)) ?? .notAllowed,
            rationale: Int(row.rationale) < rationales.count ? rationales[Int(row.rationale)] : "")
    }

    /// Two five-character codes (digits and upper- or lower-case letters) packed six bits a character.
    static func key(_ column1: String, _ column2: String) -> UInt64? {
        guard let one = pack(column1), let two = pack(column2) else { return nil }
        return one << 30 | two
    }

    static func pack(_ code: String) -> UInt64? {
        var value: UInt64 = 0
        var count = 0
        for byte in code.utf8 {
            count += 1
            guard count <= 5 else { return nil }
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48 + 1
            case 65...90: digit = byte - 65 + 11
            case 97...122: digit = byte - 97 + 11
            default: return nil
            }
            value = value << 6 | UInt64(digit)
        }
        return count == 5 ? value : nil
    }

    static func number(_ date: CalendarDate) -> Int32 { Int32(date.year * 10_000 + date.month * 100 + date.day) }

    static func date(_ number: Int32) -> CalendarDate {
        let value = Int(number)
        func two(_ part: Int) -> String { part < 10 ? "0\(part)" : "\(part)" }
        let year = String(value / 10_000)
        return CalendarDate(
            String(repeating: "0", count: max(0, 4 - year.count)) + year
                + "-\(two(value / 100 % 100))-\(two(value % 100))")
            ?? CalendarDate.distantPast
    }

    // MARK: Row parsing

    struct RowProblem: Error {
        var message: String
    }

    static func parsePTP(_ fields: [Substring]) -> Result<PTPEdit, RowProblem> {
        guard fields.count >= 6 else {
            return .failure(RowProblem(message: "expected at least 6 columns, found \(fields.count)"))
        }
        let column1 = fields[0].uppercased()
        let column2 = fields[1].uppercased()
        guard DelimitedText.isProcedureCode(column1) else {
            return .failure(RowProblem(message: "column 1 \"\(column1)\" is not a HCPCS/CPT code"))
        }
        guard DelimitedText.isProcedureCode(column2) else {
            return .failure(RowProblem(message: "column 2 \"\(column2)\" is not a HCPCS/CPT code"))
        }
        let flag = fields[2]
        guard flag.isEmpty || flag == "*" else {
            return .failure(RowProblem(message: "prior-to-1996 flag \"\(flag)\" is not * or empty"))
        }
        guard let effective = DelimitedText.date(fields[3]) else {
            return .failure(RowProblem(message: "effective date \"\(fields[3])\" is not a date"))
        }
        var deletion: CalendarDate?
        if !(fields[4].isEmpty || fields[4] == "*") {
            guard let date = DelimitedText.date(fields[4]) else {
                return .failure(RowProblem(message: "deletion date \"\(fields[4])\" is not a date or *"))
            }
            deletion = date
        }
        guard let number = Int(fields[5]), let indicator = PTPModifierIndicator(rawValue: number) else {
            return .failure(RowProblem(message: "modifier indicator \"\(fields[5])\" is not 0, 1 or 9"))
        }
        return .success(
            PTPEdit(
                column1: column1, column2: column2, existedBefore1996: flag == "*", effectiveDate: effective,
                deletionDate: deletion, modifierIndicator: indicator,
                rationale: fields.count > 6 ? String(fields[6]) : ""))
    }

    static func parseMUE(_ fields: [Substring]) -> Result<MUEEdit, RowProblem> {
        guard fields.count >= 2 else {
            return .failure(RowProblem(message: "expected at least 2 columns, found \(fields.count)"))
        }
        let code = fields[0].uppercased()
        guard DelimitedText.isProcedureCode(code) else {
            return .failure(RowProblem(message: "\"\(code)\" is not a HCPCS/CPT code"))
        }
        guard let value = Int(fields[1]), value >= 0 else {
            return .failure(RowProblem(message: "MUE value \"\(fields[1])\" is not a whole number"))
        }
        // The MAI cell is its digit followed by text: "2 Date of Service Edit: Policy". Files from
        // before July 2014 had no MAI column; their edits were claim-line edits.
        var indicator = MUEAdjudicationIndicator.line
        if fields.count > 2, !fields[2].isEmpty {
            guard let digit = fields[2].first?.wholeNumberValue, let mai = MUEAdjudicationIndicator(rawValue: digit)
            else {
                return .failure(RowProblem(message: "MUE adjudication indicator \"\(fields[2])\" is not 1, 2 or 3"))
            }
            indicator = mai
        }
        return .success(
            MUEEdit(
                code: code, maxUnits: value, adjudicationIndicator: indicator,
                rationale: fields.count > 3 ? String(fields[3]) : ""))
    }
}

/// Reads CMS's delimited text files: tab-delimited (PTP .txt) or comma-separated with quotes that
/// may span lines (MUE .csv). Rows before the first whose first field looks like a HCPCS/CPT code
/// are header lines; blank rows are skipped.
enum DelimitedText {
    struct Counts {
        var headerLines = 0
        var rows = 0
    }

    /// Calls `row` with each data row's trimmed fields and the 1-based line it starts on.
    @discardableResult
    static func read(_ data: Data, row: ([Substring], Int) -> Void) -> Counts {
        var counts = Counts()
        var inData = false
        let tabbed = data.prefix(65_536).contains(UInt8(ascii: "\t"))
        func deliver(_ fields: [Substring], _ line: Int, _ endLine: Int) {
            if fields.allSatisfy(\.isEmpty) { return }
            if !inData {
                guard let first = fields.first, isProcedureCode(first.uppercased()) else {
                    counts.headerLines += endLine - line + 1
                    return
                }
                inData = true
            }
            counts.rows += 1
            row(fields, line)
        }
        if tabbed {
            readTabbed(data, deliver)
        } else {
            readCSV(String(decoding: data, as: UTF8.self), deliver)
        }
        return counts
    }

    /// Tab-delimited lines, read as bytes (a full PTP file is over a million rows).
    private static func readTabbed(_ data: Data, _ deliver: ([Substring], Int, Int) -> Void) {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var number = 0
            var start = 0
            var fields: [Substring] = []
            fields.reserveCapacity(8)
            func field(_ from: Int, _ to: Int) -> Substring {
                var lower = from
                var upper = to
                while lower < upper, bytes[lower] == 32 || bytes[lower] == 13 { lower += 1 }
                while upper > lower, bytes[upper - 1] == 32 || bytes[upper - 1] == 13 { upper -= 1 }
                if upper - lower >= 2, bytes[lower] == 34, bytes[upper - 1] == 34 {
                    lower += 1
                    upper -= 1
                }
                return Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[lower..<upper]), as: UTF8.self))
            }
            while start < bytes.count {
                number += 1
                var end = start
                while end < bytes.count, bytes[end] != 10 { end += 1 }
                fields.removeAll(keepingCapacity: true)
                var fieldStart = start
                for index in start..<end where bytes[index] == 9 {
                    fields.append(field(fieldStart, index))
                    fieldStart = index + 1
                }
                fields.append(field(fieldStart, end))
                deliver(fields, number, number)
                start = end + 1
            }
        }
    }

    private static func readCSV(_ text: String, _ deliver: ([Substring], Int, Int) -> Void) {
        var fields: [Substring] = []
        var field = ""
        var quoted = false
        var fieldWasQuoted = false
        var line = 1
        var recordLine = 1
        var iterator = text.makeIterator()
        var pending: Character?
        func endField() {
            fields.append(fieldWasQuoted ? Substring(field) : trim(Substring(field)))
            field = ""
            fieldWasQuoted = false
        }
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.allSatisfy({ $0 == " " }):
                field = ""
                quoted = true
                fieldWasQuoted = true
            case ",":
                endField()
            case "\n", "\r\n":
                endField()
                deliver(fields, recordLine, line)
                fields = []
                line += 1
                recordLine = line
            default:
                field.append(character)
            }
        }
        if !field.isEmpty || !fields.isEmpty {
            endField()
            deliver(fields, recordLine, line)
        }
    }

    static func trim(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }

    /// Five letters or digits: the shape of a CPT or HCPCS Level II code.
    static func isProcedureCode(_ code: String) -> Bool {
        let bytes = code.utf8
        return bytes.count == 5 && bytes.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) }
    }

    /// YYYYMMDD (CMS's files), YYYY-MM-DD, or M/D/YYYY (a spreadsheet's export).
    static func date(_ text: Substring) -> CalendarDate? {
        let bytes = Array(text.utf8)
        if bytes.count == 8, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            let digits = String(text)
            return CalendarDate("\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))")
        }
        if bytes.count == 10, let date = CalendarDate(String(text)) { return date }
        let parts = text.split(separator: "/")
        if parts.count == 3, let month = Int(parts[0]), let day = Int(parts[1]), let year = Int(parts[2]),
            parts[2].count == 4
        {
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            return CalendarDate("\(year)-\(two(month))-\(two(day))")
        }
        return nil
    }
}
