import Foundation
import Testing

@Suite("Configuration from secret files")
struct SecretFileTests {
    func run(_ arguments: [String], environment: [String: String]) throws -> Int32 {
        let binary = try #require(RCMProcess.binary, "rcm binary not built")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test("RCM_<NAME>_FILE sets RCM_<NAME> from the file; an unreadable file stops the command")
    func secretFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        let secret = directory.appendingPathComponent("data_dir")
        try (data.path + "\n").write(to: secret, atomically: true, encoding: .utf8)
        #expect(try run(["migrate"], environment: ["RCM_DATA_DIR_FILE": secret.path]) == 0)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: data.path)) ?? []
        #expect(files.contains { $0.hasPrefix("billing") })
        #expect(
            try run(["migrate"], environment: ["RCM_DATA_DIR_FILE": directory.appendingPathComponent("missing").path])
                == 2)
    }
}
