import Foundation
import RCMCore
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage
import RCMTestSupport
import Testing

@testable import RCMPlatform

@Suite("Encryption at rest")
struct EncryptionTests {
    static let phone = "+91 99887 76655"
    static let email = "secret.patient@example.com"
    static let memberId = "SECRET-MEMBER-424242"
    static let ssn = "123-45-6789"

    func register(_ platform: TestPlatform) throws -> String {
        let patient = platform.post(
            "/api/patients",
            #"{"locationId": "loc_andheri", "givenName": "Meera", "familyName": "Iyer", "dateOfBirth": "1980-05-05", "sex": "female", "phone": "\#(Self.phone)", "email": "\#(Self.email)", "address": {"line1": "12 Hidden Lane", "city": "Mumbai"}, "identifiers": [{"system": "ssn", "value": "\#(Self.ssn)"}]}"#
        )
        #expect(patient.status == 201)
        let id = try #require(patient.object["id"] as? String)
        let payer = try #require(
            (try platform.json("/api/insurance/payers")["items"] as? [[String: Any]])?.first?["id"] as? String)
        let coverage = platform.post(
            "/api/insurance/coverages",
            #"{"patientId": "\#(id)", "payerId": "\#(payer)", "planName": "Gold", "memberId": "\#(Self.memberId)", "relationship": "self", "validFrom": "2025-01-01"}"#
        )
        #expect(coverage.status == 201)
        return id
    }

    /// Every stored byte of a service's data: the SQLite files, or every row of its PostgreSQL schema.
    func storedText(_ platform: TestPlatform, service: String) throws -> String {
        if TestDatabases.postgresURL == nil {
            let directory = platform.configuration.dataDirectory
            return ["", "-wal"].compactMap { suffix in
                try? Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(service).sqlite\(suffix)"))
            }.map { String(decoding: $0, as: UTF8.self) }.joined()
        }
        // pg_dump of the service's schema: what a backup of the database would hold.
        let url = try #require(TestDatabases.postgresURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pg_dump")
        process.arguments = ["--schema=" + platform.configuration.schemaPrefix + service, url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let dump = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && dump.contains("COPY"))
        return dump
    }

    @Test("SSN, phone, email, address and member id are not in the stored data; the API returns them")
    func notStoredInClear() throws {
        let platform = try TestPlatform()
        let id = try register(platform)
        let patients = try storedText(platform, service: "patient")
        let insurance = try storedText(platform, service: "insurance")
        #expect(patients.contains("Meera"))  // names stay searchable in clear; the check itself works
        for secret in [Self.phone, "99887", Self.email, "Hidden Lane", Self.ssn, "123456789"] {
            #expect(!patients.contains(secret), "\(secret) stored in clear")
        }
        #expect(!insurance.contains(Self.memberId) && !insurance.contains("424242"))

        let patient = try platform.json("/api/patients/\(id)")
        #expect(patient["phone"] as? String == Self.phone)
        // The summary other services use carries no contact details or identifiers.
        let summary = try platform.json("/api/patients/\(id)?view=summary")
        #expect(summary["locationId"] as? String == "loc_andheri")
        #expect(summary["phone"] == nil && summary["email"] == nil && summary["identifiers"] == nil)
        #expect(patient["email"] as? String == Self.email)
        let byPhone = try platform.json("/api/patients?phone=%2B91%2099887%2076655")["items"] as? [[String: Any]]
        #expect(byPhone?.map { $0["id"] as? String } == [id])
        let digitsOnly = try platform.json("/api/patients?phone=919988776655")["items"] as? [[String: Any]]
        #expect(digitsOnly?.count == 1)
        let bySSN = try platform.json("/api/patients?identifier=ssn%7C123456789")["items"] as? [[String: Any]]
        #expect(bySSN?.map { $0["id"] as? String } == [id])
        #expect(platform.get("/api/patients?identifier=passport%7C1").status == 422)
        #expect(((patient["identifiers"] as? [[String: String]])?.first)?["value"] == Self.ssn)
        let coverage = try platform.json("/api/insurance/patients/\(id)/active-coverage")
        #expect(coverage["memberId"] as? String == Self.memberId)
    }

    @Test("rcm keys rotate adds a key and re-encrypts; both old and new values read back")
    func rotation() throws {
        let platform = try TestPlatform()
        let id = try register(platform)
        let before = try storedText(platform, service: "patient")
        var arguments = ["keys", "rotate", "--data-dir", platform.configuration.dataDirectory]
        if let url = platform.configuration.databaseURL {
            arguments += ["--database-url", url, "--schema-prefix", platform.configuration.schemaPrefix]
        }
        #expect(RCMCommand.run(arguments) == 0)
        let fields = try FieldEncryption(file: platform.configuration.keysDirectory + "/data-keys.json")
        #expect(fields.activeKeyId != "k1")
        let after = try storedText(platform, service: "patient")
        #expect(after.contains("enc1.\(fields.activeKeyId)."))
        #expect(before != after)
        // The running platform still holds the old key set; it reads the rotated rows after a restart.
        let restarted = try Platform(configuration: platform.configuration)
        defer { restarted.shutdown() }
        let token = try restarted.systemToken()
        let patient = restarted.application.test(
            .GET, "/api/patients/\(id)", headers: [("Authorization", "Bearer " + token)])
        #expect(try patient.decode([String: AnyCodable].self)["phone"]?.text == Self.phone)
    }

    @Test("a ciphertext moved to another field, or altered, does not decrypt")
    func authenticated() throws {
        let fields = try FieldEncryption(file: TestDatabases.temporaryDirectory() + "/keys.json")
        let sealed = try fields.encrypt("123-45-6789", field: "patients.ssn")
        #expect(try fields.decrypt(sealed, field: "patients.ssn") == "123-45-6789")
        #expect(throws: SecurityError.self) { try fields.decrypt(sealed, field: "patients.phone") }
        var bytes = Array(sealed.utf8)
        bytes[bytes.count - 3] = bytes[bytes.count - 3] == 65 ? 66 : 65
        #expect(throws: SecurityError.self) {
            try fields.decrypt(String(decoding: bytes, as: UTF8.self), field: "patients.ssn")
        }
        #expect(try fields.encrypt("x", field: "f") != fields.encrypt("x", field: "f"))  // a fresh nonce each time
        #expect(
            fields.blindIndex("+91 98", field: "p", digitsOnly: true)
                == fields.blindIndex("9198", field: "p", digitsOnly: true))
    }
}

/// A JSON value read as text when it is a string.
struct AnyCodable: Decodable {
    let text: String?
    init(from decoder: any Decoder) throws { text = try? decoder.singleValueContainer().decode(String.self) }
}

@Suite("GDPR: export and erasure")
struct PrivacyTests {
    @Test("export gathers everything about a patient; erasure removes identity and keeps the financial records")
    func exportAndErase() throws {
        let platform = try TestPlatform()
        let invoiceId =
            platform.post("/api/billing/generate", TestPlatform.specificationBody).object["id"] as? String ?? ""
        try platform.platform.drainEvents()
        #expect(
            platform.post("/api/payments", #"{"invoiceId": "\#(invoiceId)", "amount": 155, "method": "cash"}"#).status
                == 201)
        try platform.platform.drainEvents()

        let export = platform.get("/api/patients/P10001/export")
        #expect(export.status == 200)
        let document = export.object
        #expect((document["patient"] as? [String: Any])?["givenName"] as? String == "Asha")
        #expect(((document["coverages"] as? [String: Any])?["items"] as? [Any])?.count == 1)
        #expect(
            ((document["invoices"] as? [String: Any])?["items"] as? [[String: Any]])?.first?["id"] as? String
                == invoiceId)
        #expect(((document["payments"] as? [[String: Any]])?.first?["payments"] as? [Any])?.count == 1)
        #expect(((document["claims"] as? [String: Any])?["items"] as? [Any])?.count == 1)
        #expect(((document["timeline"] as? [String: Any])?["items"] as? [Any])?.isEmpty == false)
        #expect(((document["audit"] as? [String: Any])?["items"] as? [Any])?.isEmpty == false)

        let erased = platform.post("/api/patients/P10001/erase", "")
        #expect(erased.status == 200)
        let patient = try platform.json("/api/patients/P10001")
        #expect(patient["givenName"] as? String == "Erased")
        #expect(patient["phone"] == nil && patient["email"] == nil)
        #expect((try platform.json("/api/patients?name=asha")["items"] as? [Any])?.isEmpty == true)
        #expect(try platform.json("/api/billing/invoices/\(invoiceId)")["status"] as? String == "partially_paid")
        let audit = try platform.platform.audit.events(organizationId: "org_demo", AuditLog.Filter())
        #expect(audit.contains { $0.action == "POST /api/patients/{id}/erase" && $0.resourceId == "P10001" })
        #expect(audit.contains { $0.action == "GET /api/patients/{id}/export" && $0.resourceId == "P10001" })
    }
}
