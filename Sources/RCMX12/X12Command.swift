import Foundation

/// `rcm x12 …`: parse, validate and measure X12 files from the command line.
public enum X12Command {
    public static let usage = """
        rcm x12 parse FILE            print the interchanges, groups, transaction sets, loops and segments as JSON
        rcm x12 validate FILE         print every issue, one per line; exit status 1 when any is an error
        rcm x12 bench-tokenize FILE   (benchmark) tokenize only, print MB/s
        rcm x12 bench-parse FILE      (benchmark) stream, build loops and validate, print MB/s
        """

    /// Runs `rcm x12 ARGUMENTS`; returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        guard arguments.count == 2 else {
            printError("usage:\n\(usage)")
            return 64
        }
        let path = arguments[1]
        do {
            switch arguments[0] {
            case "parse": return try parse(path)
            case "validate": return try validate(path)
            case "bench-tokenize": return try benchTokenize(path)
            case "bench-parse": return try benchParse(path)
            default:
                printError("unknown x12 command '\(arguments[0])'; usage:\n\(usage)")
                return 64
            }
        } catch {
            printError("rcm x12: \(error)")
            return 1
        }
    }

    static func parse(_ path: String) throws -> Int32 {
        let document = try X12Document.parse(contentsOfFile: path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(document))
        FileHandle.standardOutput.write(Data("\n".utf8))
        return document.errors.isEmpty ? 0 : 1
    }

    static func validate(_ path: String) throws -> Int32 {
        let reader = try X12Reader(path: path)
        var transactions = 0
        while reader.nextTransaction() != nil { transactions += 1 }
        var output = ""
        for issue in reader.issues { output += issue.description + "\n" }
        FileHandle.standardOutput.write(Data(output.utf8))
        let errors = reader.issues.filter { $0.severity == .error }.count
        printError(
            "\(path): \(transactions) transaction set(s), \(errors) error(s), \(reader.issues.count - errors) warning(s)"
        )
        return errors == 0 ? 0 : 1
    }

    static func benchTokenize(_ path: String) throws -> Int32 {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw X12Error("cannot open \(path)") }
        defer { try? handle.close() }
        let start = DispatchTime.now().uptimeNanoseconds
        var tokenizer = X12Tokenizer(fileHandle: handle)
        let counts = X12Tokenizer.scan(&tokenizer)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            "tokenize: \(counts.bytes) bytes, \(counts.segments) segments, \(counts.elements) element separators, \(counts.interchanges) interchange(s) in \(String(format: "%.3f", seconds)) s = \(String(format: "%.1f", Double(counts.bytes) / 1e6 / seconds)) MB/s"
        )
        return 0
    }

    static func benchParse(_ path: String) throws -> Int32 {
        let start = DispatchTime.now().uptimeNanoseconds
        let reader = try X12Reader(path: path)
        var transactions = 0
        var segments = 0
        var loops = 0
        var largest = 0
        while let transaction = reader.nextTransaction() {
            transactions += 1
            segments += transaction.segments.count
            largest = max(largest, transaction.segments.count)
            transaction.root.visit { _ in loops += 1 }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let bytes = reader.tokenizer.position
        let errors = reader.issues.filter { $0.severity == .error }.count
        print(
            "parse: \(bytes) bytes, \(transactions) transaction sets, \(segments) segments in them, \(loops) loops, largest transaction set \(largest) segments, \(errors) error issue(s) in \(String(format: "%.3f", seconds)) s = \(String(format: "%.1f", Double(bytes) / 1e6 / seconds)) MB/s"
        )
        return errors == 0 ? 0 : 1
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
