import RCMCore

/// CPT (Current Procedural Terminology) is the AMA's and licensed: the platform ships no CPT
/// descriptions. It checks a code's format, and reads the descriptions from a licensed file the
/// clinic supplies.
public enum CPT {
    public enum Category: String, Sendable {
        /// Five digits, 00100–99607; or four digits and `U`, the proprietary laboratory analyses
        /// (PLA) codes, which the AMA also publishes as Category I.
        case categoryI
        /// Four digits and `F`: performance measurement.
        case categoryII
        /// Four digits and `T`: emerging technology.
        case categoryIII
    }

    /// The code's category, or nil when it is not shaped like a CPT code.
    public static func category(of code: String) -> Category? {
        let bytes = Array(code.utf8)
        guard bytes.count == 5, bytes[0..<4].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        switch bytes[4] {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard let value = Int(code), (100...99_607).contains(value) else { return nil }
            return .categoryI
        case UInt8(ascii: "U"), UInt8(ascii: "u"): return .categoryI
        case UInt8(ascii: "F"), UInt8(ascii: "f"): return .categoryII
        case UInt8(ascii: "T"), UInt8(ascii: "t"): return .categoryIII
        default: return nil
        }
    }

    public static func isValidFormat(_ code: String) -> Bool { category(of: code) != nil }

    /// Reads the clinic's licensed CPT file: CSV with `code,description` (a header line naming
    /// those two columns is optional). A malformed code is an error naming its line.
    public static func importCSV(_ text: String, effectiveFrom: CalendarDate? = nil) throws -> CodeIndex {
        var entries: [CodeInfo] = []
        for (index, record) in try CSV.records(text).enumerated() {
            let code = record.fields[0].trimmingSpaces()
            if index == 0, code.lowercased() == "code" { continue }
            guard record.fields.count >= 2 else {
                throw CodeFileError(line: record.line, message: "expected code,description")
            }
            guard isValidFormat(code) else {
                throw CodeFileError(line: record.line, message: "\(code) is not a CPT code")
            }
            entries.append(
                CodeInfo(
                    system: .cpt, code: code.uppercased(), description: record.fields[1].trimmingSpaces(),
                    billable: true,
                    effectiveFrom: effectiveFrom))
        }
        return CodeIndex(system: .cpt, entries: entries)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
