import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMStorage
import RCMTestSupport
import Testing

@testable import RCMPlatform

/// Runs the real `rcm` binary as a child process.
final class RCMProcess {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binary: URL? {
        [".build/debug/rcm", ".build/x86_64-unknown-linux-gnu/debug/rcm", ".build/aarch64-unknown-linux-gnu/debug/rcm"]
            .map { packageRoot.appendingPathComponent($0) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    let process = Process()
    let port: UInt16
    let client: RemoteServiceClient
    var token = ""

    static let adminEmail = "admin@crash.test.invalid"
    static let adminPassword = "violet-ledger-42-river"

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(dataDirectory: String, schemaPrefix: String, environment extra: [String: String] = [:]) throws {
        guard let binary = RCMProcess.binary else { throw Failure(description: "rcm binary not built") }
        process.executableURL = binary
        process.arguments = ["serve", "--demo", "--port", "0", "--data-dir", dataDirectory]
        var environment = ProcessInfo.processInfo.environment
        environment["RCM_SCHEMA_PREFIX"] = schemaPrefix
        environment["RCM_DATABASE_URL"] = TestDatabases.postgresURL ?? ""
        environment["RCM_LOG_LEVEL"] = "warning"
        environment["RCM_RATE_LIMIT"] = "0"  // the test polls faster than a person would
        environment["RCM_ADMIN_EMAIL"] = RCMProcess.adminEmail
        environment["RCM_ADMIN_PASSWORD"] = RCMProcess.adminPassword
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for "rcm listening on http://127.0.0.1:PORT".
        var seen = ""
        let deadline = Date().addingTimeInterval(60)
        var found: UInt16?
        while found == nil && Date() < deadline && process.isRunning {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { Thread.sleep(forTimeInterval: 0.02) }
            seen += String(decoding: data, as: UTF8.self)
            if let range = seen.range(of: "listening on http://127.0.0.1:") {
                let digits = seen[range.upperBound...].prefix { $0.isNumber }
                if seen[range.upperBound...].contains("\n") { found = UInt16(digits) }
            }
        }
        guard let found else {
            process.terminate()
            throw Failure(description: "rcm did not start: \(seen)")
        }
        port = found
        client = RemoteServiceClient(baseURL: URL(string: "http://127.0.0.1:\(found)")!, timeout: 10)
        let login = try request(
            .POST, "/api/auth/login",
            body: #"{"email": "\#(RCMProcess.adminEmail)", "password": "\#(RCMProcess.adminPassword)"}"#)
        guard let access = login.object["accessToken"] as? String else {
            throw Failure(description: "login failed: \(login.status) \(login.bodyText)")
        }
        token = access
    }

    func request(_ method: HTTPMethod, _ target: String, body: String? = nil) throws -> HTTPResponse {
        let (path, query) = HTTPApplication.split(target)
        var headers = HTTPHeaders()
        if body != nil { headers.add("Content-Type", "application/json") }
        if !token.isEmpty { headers.add("Authorization", "Bearer " + token) }
        return try client.send(
            HTTPRequest(method: method, path: path, query: query, headers: headers, body: Array((body ?? "").utf8)))
    }

    func json(_ target: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try request(.GET, target).body)) as? [String: Any] ?? [:]
    }

    func kill(_ signal: Int32) -> Int32 {
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("Nothing accepted is lost", .serialized)
struct CrashRecoveryTests {
    @Test(
        "SIGKILL after the invoice commits and before its events are delivered: after a restart, each effect appears exactly once"
    )
    func killBeforeDelivery() throws {
        let directory = TestDatabases.temporaryDirectory()
        let prefix = TestDatabases.schemaPrefix()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // Delivery off: the invoice commits with its events in the outbox, and none go out.
        let first = try RCMProcess(
            dataDirectory: directory, schemaPrefix: prefix, environment: ["RCM_EVENT_DELIVERY": "off"])
        let created = try first.request(.POST, "/api/billing/generate", body: TestPlatform.specificationBody)
        #expect(created.status == 201)
        let invoiceId = try #require(created.object["id"] as? String)
        _ = first.kill(SIGKILL)

        let billing = try DatabaseFactory.open(
            url: TestDatabases.postgresURL, dataDirectory: directory, service: "billing", schemaPrefix: prefix)
        let outbox = Outbox(service: "billing", database: billing, subscriptions: Platform.subscriptions)
        let pending = try billing.read { try outbox.backlog(in: $0) }
        billing.close()
        // The invoice's one event, for claim, payment and reporting.
        #expect(pending.map(\.subscriber) == ["claim", "payment", "reporting"])
        #expect(pending.map(\.count) == [1, 1, 1])

        let second = try RCMProcess(dataDirectory: directory, schemaPrefix: prefix)
        let deadline = Date().addingTimeInterval(15)
        var claims = 0
        var requests = 0
        var invoices = 0
        repeat {
            claims = (try second.json("/api/claims?invoiceId=\(invoiceId)")["items"] as? [Any])?.count ?? 0
            requests =
                (try second.json("/api/payments?invoiceId=\(invoiceId)")["paymentRequests"] as? [Any])?.count ?? 0
            invoices = try second.json("/api/reporting/summary")["invoiceCount"] as? Int ?? 0
            if claims > 0 && requests > 0 && invoices > 0 { break }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        Thread.sleep(forTimeInterval: 0.3)  // anything delivered twice would show by now
        #expect((try second.json("/api/claims?invoiceId=\(invoiceId)")["items"] as? [Any])?.count == 1)
        #expect((try second.json("/api/payments?invoiceId=\(invoiceId)")["paymentRequests"] as? [Any])?.count == 1)
        let summary = try second.json("/api/reporting/summary")
        #expect(summary["invoiceCount"] as? Int == 1)
        #expect((summary["claimsByStatus"] as? [String: Int]) == ["draft": 1])
        #expect(decimal(summary["billed"]) == 650)

        // SIGTERM is a graceful stop.
        #expect(second.kill(SIGTERM) == 0)
    }
}
