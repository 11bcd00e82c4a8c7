import Foundation
import RCMCore

/// ICD-10-CM, the April 1, 2026 release (FY2026) in full, from the data file that
/// `scripts/codes/build-icd10cm.py` builds (see README.md beside this file).
public enum ICD10CM {
    /// The data file's name in the module's resources.
    public static let resourceName = "icd10cm-2026"

    /// The whole code set, read from the module's resources on first use, once per process.
    public static var shared: CodeIndex { loaded }

    private static let loaded: CodeIndex = {
        do {
            guard let url = Bundle.module.url(forResource: resourceName, withExtension: "tsv") else {
                throw CodeFileError(line: 0, message: "\(resourceName).tsv is missing from the RCMCodes resources")
            }
            return try load(contentsOf: url)
        } catch {
            fatalError("ICD-10-CM: \(error)")
        }
    }()

    /// `E119` → `E11.9`; codes of three characters or fewer stay as they are.
    public static func dotted(_ code: String) -> String {
        let key = CodeText.key(code)
        guard key.utf8.count > 3 else { return key }
        return String(key.prefix(3)) + "." + String(key.dropFirst(3))
    }

    public static func load(contentsOf url: URL) throws -> CodeIndex {
        try parse(Data(contentsOf: url))
    }

    /// Reads the tab-separated file, one code a line; lines starting with `#` are comments.
    public static func parse(_ data: Data) throws -> CodeIndex {
        var entries: [CodeInfo] = []
        entries.reserveCapacity(100_000)
        var dates: [String: CalendarDate] = [:]
        var lineNumber = 0
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
                lineNumber += 1
                if end > start, bytes[start] != UInt8(ascii: "#") {
                    entries.append(
                        try entry(UnsafeBufferPointer(rebasing: bytes[start..<end]), dates: &dates, line: lineNumber))
                }
                start = end + 1
            }
        }
        return CodeIndex(system: .icd10cm, entries: entries)
    }

    /// One line: `code, billable (1/0), description, effective_from, effective_to, sex (M/F/blank),
    /// age (min-max/blank)`.
    static func entry(
        _ line: UnsafeBufferPointer<UInt8>, dates: inout [String: CalendarDate], line number: Int
    ) throws -> CodeInfo {
        var fields: [String] = []
        fields.reserveCapacity(7)
        var from = 0
        for index in 0...line.count where index == line.count || line[index] == UInt8(ascii: "\t") {
            fields.append(String(decoding: UnsafeBufferPointer(rebasing: line[from..<index]), as: UTF8.self))
            from = index + 1
        }
        guard fields.count == 7, !fields[0].isEmpty, fields[1] == "0" || fields[1] == "1" else {
            throw CodeFileError(line: number, message: "expected 7 tab-separated fields")
        }
        func date(_ field: String) throws -> CalendarDate? {
            if field.isEmpty { return nil }
            if let known = dates[field] { return known }
            guard let parsed = CalendarDate(field) else {
                throw CodeFileError(line: number, message: "bad date \(field)")
            }
            dates[field] = parsed
            return parsed
        }
        let sex: Sex?
        switch fields[5] {
        case "": sex = nil
        case "M": sex = .male
        case "F": sex = .female
        default: throw CodeFileError(line: number, message: "sex must be M, F or blank")
        }
        var ages: ClosedRange<Int>?
        if !fields[6].isEmpty {
            let bounds = fields[6].split(separator: "-")
            guard bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low <= high else {
                throw CodeFileError(line: number, message: "age must be min-max")
            }
            ages = low...high
        }
        return CodeInfo(
            system: .icd10cm, code: fields[0], description: fields[2], billable: fields[1] == "1",
            effectiveFrom: try date(fields[3]), effectiveTo: try date(fields[4]), sexEdit: sex, ageRange: ages)
    }
}

/// A code file that cannot be read, and where.
public struct CodeFileError: Error, CustomStringConvertible, Sendable {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}
