import Foundation
import RCMCore

/// HCPCS Level II, CMS's public-domain code set of supplies, drugs, equipment and services that
/// CPT does not describe. The platform ships a small sample (`hcpcs-sample.txt`); a clinic loads
/// the full set from CMS's quarterly "Alpha-Numeric HCPCS File" (see README.md beside this file).
public enum HCPCS {
    /// The bundled sample: a dozen real codes with CMS's long descriptions, for demos and tests.
    public static var sample: CodeIndex { bundledSample }

    private static let bundledSample: CodeIndex = {
        do {
            guard let url = Bundle.module.url(forResource: "hcpcs-sample", withExtension: "txt") else {
                throw CodeFileError(line: 0, message: "hcpcs-sample.txt is missing from the RCMCodes resources")
            }
            return try load(contentsOf: url)
        } catch {
            fatalError("HCPCS sample: \(error)")
        }
    }()

    /// Reads CMS's file: the fixed-width record layout, or CSV with its column names (a `.csv`
    /// or `.CSV` name selects CSV).
    public static func load(contentsOf url: URL) throws -> CodeIndex {
        let data = try Data(contentsOf: url)
        return url.pathExtension.lowercased() == "csv"
            ? try parseCSV(text(data)) : try parseFixedWidth(Array(data))
    }

    /// The CMS HCPCS contractor record (320 characters; positions 1-based, inclusive):
    /// HCPC 1–5, sequence number 6–10, record id 11 (3 = first line of a procedure, 4 = a
    /// continuation of its long description, 7/8 = the same for a modifier), long description
    /// 12–91, short description 92–119, code added date 269–276, action effective date 277–284,
    /// termination date 285–292 (dates YYYYMMDD), action code 293. Modifiers are skipped.
    public static func parseFixedWidth(_ bytes: [UInt8]) throws -> CodeIndex {
        var records: [Record] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            var line = Array(bytes[start..<end])
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            start = end + 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") }) { continue }
            func field(_ from: Int, _ to: Int) -> String {
                guard line.count >= from else { return "" }
                return text(Data(line[(from - 1)..<min(to, line.count)]))
            }
            let code = field(1, 5).trimmingSpaces()
            let recordId = field(11, 11)
            // The long description keeps its padding: a segment that fills its 80 characters
            // continues mid-word on the next line, a padded one ends at a word.
            let long = String(field(12, 91).padding(toLength: 80, withPad: " ", startingAt: 0))
            switch recordId {
            case "3":
                records.append(
                    Record(
                        code: code, long: long, short: field(92, 119).trimmingSpaces(),
                        added: try date(field(269, 276), line: lineNumber),
                        effective: try date(field(277, 284), line: lineNumber),
                        terminated: try date(field(285, 292), line: lineNumber)))
            case "4":
                guard let last = records.indices.last, records[last].code == code else {
                    throw CodeFileError(line: lineNumber, message: "a continuation of \(code) without its first line")
                }
                records[last].long += long
            case "7", "8":
                continue
            default:
                throw CodeFileError(line: lineNumber, message: "unknown record id '\(recordId)'")
            }
        }
        return index(records)
    }

    /// CMS's spreadsheet saved as CSV: a header row naming `HCPC` and `LONG DESCRIPTION` (and,
    /// when present, `RECID`, `SHORT DESCRIPTION`, `ADD DT`, `ACT EFF DT`, `TERM DT`).
    public static func parseCSV(_ text: String) throws -> CodeIndex {
        let rows = try CSV.records(text)
        guard let header = rows.first?.fields.map({ $0.trimmingSpaces().uppercased() }) else {
            return CodeIndex(system: .hcpcs, entries: [])
        }
        func column(_ name: String) -> Int? { header.firstIndex(of: name) }
        guard let codeColumn = column("HCPC"), let longColumn = column("LONG DESCRIPTION") else {
            throw CodeFileError(line: 1, message: "the header must name HCPC and LONG DESCRIPTION")
        }
        var records: [Record] = []
        for row in rows.dropFirst() {
            func value(_ index: Int?) -> String {
                guard let index, index < row.fields.count else { return "" }
                return row.fields[index].trimmingSpaces()
            }
            let code = value(codeColumn)
            switch value(column("RECID")) {
            case "", "3":
                records.append(
                    Record(
                        code: code, long: value(longColumn), short: value(column("SHORT DESCRIPTION")),
                        added: try date(value(column("ADD DT")), line: row.line),
                        effective: try date(value(column("ACT EFF DT")), line: row.line),
                        terminated: try date(value(column("TERM DT")), line: row.line)))
            case "4":
                guard let last = records.indices.last, records[last].code == code else {
                    throw CodeFileError(line: row.line, message: "a continuation of \(code) without its first line")
                }
                records[last].long += " " + value(longColumn)
            default:
                continue  // modifiers
            }
        }
        return index(records)
    }

    struct Record {
        var code: String
        var long: String
        var short: String
        var added: CalendarDate?
        var effective: CalendarDate?
        var terminated: CalendarDate?
    }

    static func index(_ records: [Record]) -> CodeIndex {
        CodeIndex(
            system: .hcpcs,
            entries: records.map { record in
                let long = record.long.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                return CodeInfo(
                    system: .hcpcs, code: record.code, description: long.isEmpty ? record.short : long, billable: true,
                    effectiveFrom: record.added ?? record.effective, effectiveTo: record.terminated)
            })
    }

    static func date(_ text: String, line: Int) throws -> CalendarDate? {
        let digits = text.trimmingSpaces()
        if digits.isEmpty || digits.allSatisfy({ $0 == "0" }) { return nil }
        let bytes = Array(digits.utf8)
        guard bytes.count == 8,
            let date = CalendarDate(
                String(decoding: bytes[0..<4], as: UTF8.self) + "-" + String(decoding: bytes[4..<6], as: UTF8.self)
                    + "-"
                    + String(decoding: bytes[6..<8], as: UTF8.self))
        else { throw CodeFileError(line: line, message: "bad date \(digits), expected YYYYMMDD") }
        return date
    }

    /// UTF-8 when it is, else Windows-1252/Latin-1 read byte by byte (CMS's files are ASCII).
    static func text(_ data: Data) -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        return String(String.UnicodeScalarView(data.map { Unicode.Scalar($0) }))
    }
}
