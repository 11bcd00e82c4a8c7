import Foundation
import Testing

/// Runs `lfhx12 -m FILE` (linuxforhealth-x12 0.57.0, made by scripts/x12-validators.sh) on X12 text.
/// The tests fail when `RCM_LFHX12` is unset, unless `RCM_SKIP_OUTSIDE_VALIDATORS=1`.
enum OutsideValidator {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// The lfhx12 executable from `RCM_LFHX12`; nil when the outside validators are explicitly skipped
    /// (`RCM_SKIP_OUTSIDE_VALIDATORS=1`); records a failure when not configured.
    static func executable(sourceLocation: SourceLocation = #_sourceLocation) throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let executable = environment["RCM_LFHX12"], !executable.isEmpty { return executable }
        if environment["RCM_SKIP_OUTSIDE_VALIDATORS"] == "1" { return nil }
        Issue.record(
            "RCM_LFHX12 is not set: run `eval \"$(bash scripts/x12-validators.sh)\"; export RCM_LFHX12` (or scripts/test.sh), or set RCM_SKIP_OUTSIDE_VALIDATORS=1 to skip the outside validator explicitly",
            sourceLocation: sourceLocation)
        return nil
    }

    /// Runs `lfhx12 -m FILE` on the text; nil when skipped (see ``executable(sourceLocation:)``).
    static func lfhx12(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Result? {
        guard let executable = try executable(sourceLocation: sourceLocation) else { return nil }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-x12-\(UUID().uuidString).x12")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try run(executable, ["-m", file.path])
    }

    /// Runs a program and collects its exit status, standard output and standard error.
    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes before waiting, so a large output cannot block the child.
        let errorData = LockedData()
        let reader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.done { usleep(1000) }
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData.data, as: UTF8.self))
    }

    final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var stored = Data()
        private var finished = false
        func set(_ data: Data) {
            lock.lock()
            stored = data
            finished = true
            lock.unlock()
        }
        var done: Bool {
            lock.lock()
            defer { lock.unlock() }
            return finished
        }
        var data: Data {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
    }

    /// Expects lfhx12 to accept the text as the given transaction set.
    static func expectValid(
        _ text: String, transactionSet: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        guard let result = try lfhx12(text, sourceLocation: sourceLocation) else { return }
        #expect(
            result.status == 0, "lfhx12 rejected the \(transactionSet):\n\(result.errors)\n\(text)",
            sourceLocation: sourceLocation)
        #expect(
            result.output.contains("\"transaction_set_identifier_code\": \"\(transactionSet)\""),
            "lfhx12 printed no \(transactionSet) model: \(result.output.prefix(500))", sourceLocation: sourceLocation)
        #expect(
            !result.errors.contains("ValidationError"), "lfhx12: \(result.errors)", sourceLocation: sourceLocation)
    }
}
