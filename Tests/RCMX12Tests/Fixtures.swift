import Foundation
import Testing

/// Finds the shared X12 corpus: `$RCM_X12_FIXTURES`, else `shared/fixtures/x12` beside the
/// checkout or beside any folder above it (the project's layout is `<root>/main` and
/// `<root>/shared`; a CI checkout may sit deeper), else `/work/shared/fixtures/x12`.
enum Fixtures {
    /// The corpus directory, or nil (with the reason) when it cannot be found.
    static let directory: Result<URL, FixtureError> = {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var ancestors: [URL] = []
        var folder = repo.deletingLastPathComponent()
        while folder.path != "/" && ancestors.count < 8 {
            ancestors.append(folder.appendingPathComponent("shared/fixtures/x12"))
            folder = folder.deletingLastPathComponent()
        }
        let candidates =
            (ProcessInfo.processInfo.environment["RCM_X12_FIXTURES"].map { [URL(fileURLWithPath: $0)] } ?? [])
            + ancestors + [URL(fileURLWithPath: "/work/shared/fixtures/x12")]
        for candidate in candidates
        where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("linuxforhealth").path) {
            return .success(candidate)
        }
        return .failure(
            FixtureError(
                "X12 fixtures not found at \(candidates.map(\.path).joined(separator: " or ")); set RCM_X12_FIXTURES to the directory holding linuxforhealth/"
            ))
    }()

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Every fixture file (relative path, bytes), sorted; throws when the corpus is missing.
    static func all() throws -> [(name: String, bytes: [UInt8])] {
        let root = try directory.get().appendingPathComponent("linuxforhealth")
        guard let enumerator = FileManager.default.enumerator(atPath: root.path) else {
            throw FixtureError("cannot list \(root.path)")
        }
        var files: [(String, [UInt8])] = []
        for case let name as String in enumerator where name.contains("_") && !name.hasSuffix("LICENSE") {
            var isDirectory: ObjCBool = false
            let path = root.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            files.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    static func text(_ name: String) throws -> String {
        let url = try directory.get().appendingPathComponent("linuxforhealth").appendingPathComponent(name)
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func is4010(_ name: String) -> Bool { name.contains("_004010") }
}
