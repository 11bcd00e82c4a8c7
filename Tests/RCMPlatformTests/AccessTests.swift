import Foundation
import IdentityService
import RCMCore
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage
import Testing

@testable import RCMPlatform

@Suite("Identity and access")
struct AccessTests {
    func token(
        _ platform: TestPlatform, roles: [Role], organization: String? = nil, locations: [String] = []
    ) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let claims = AccessClaims(
            iss: platform.platform.tokens.issuer, aud: platform.platform.tokens.audience, sub: "usr_test",
            org: organization ?? platform.configuration.organizationId, roles: roles.map(\.rawValue),
            locations: locations,
            iat: now, exp: now + 300, jti: Identifier.make("jti"))
        return try JWT.sign(claims, with: platform.platform.keys.active)
    }

    @Test("every route but health, login, refresh, logout and JWKS needs a valid token")
    func tokensRequired() throws {
        let platform = try TestPlatform()
        for route in platform.app.router.descriptors {
            let key = AccessPolicy.key(route)
            let path = route.pattern.replacingOccurrences(of: "{", with: "x").replacingOccurrences(of: "}", with: "")
            let response = platform.request(route.method, path, headers: [("Authorization", "Bearer not.a.token")])
            if AccessPolicy.publicRoutes.contains(key) {
                #expect(response.status != 401, "\(key)")
            } else {
                #expect(response.status == 401, "\(key)")
                #expect(try response.decode(Problem.self).errors.first?.pointer == "header:Authorization")
                #expect(platform.app.test(route.method, path).status == 401, "\(key) without a token")
            }
        }
    }

    @Test("the permission matrix covers every route, and each role gets exactly what it allows")
    func matrixWalk() throws {
        let platform = try TestPlatform()
        for route in platform.app.router.descriptors {
            let key = AccessPolicy.key(route)
            if AccessPolicy.publicRoutes.contains(key) { continue }
            #expect(AccessPolicy.matrix[key] != nil, "\(key) is missing from the matrix")
            let path = route.pattern.replacingOccurrences(of: "{", with: "x").replacingOccurrences(of: "}", with: "")
            for role in Role.allCases {
                let response = platform.request(
                    route.method, path,
                    headers: [
                        ("Authorization", "Bearer " + (try token(platform, roles: [role]))),
                        ("Content-Type", "application/json"),
                    ],
                    body: "{}")
                let allowed = AccessPolicy.allowedRoles(route).contains(role)
                #expect((response.status == 403) == !allowed, "\(role.rawValue) on \(key): \(response.status)")
            }
        }
    }

    @Test("docs/permissions.md is the matrix")
    func permissionsDocument() throws {
        let platform = try TestPlatform(demo: false)
        let expected = AccessPolicy.markdown(routes: platform.app.router.descriptors)
        let path = RCMProcess.packageRoot.appendingPathComponent("docs/permissions.md")
        let actual = (try? String(contentsOf: path, encoding: .utf8)) ?? ""
        if actual != expected { try? expected.write(toFile: "/tmp/permissions.md", atomically: true, encoding: .utf8) }
        #expect(actual == expected, "regenerate docs/permissions.md (the expected text is in /tmp/permissions.md)")
    }

    @Test("the organization is the token's: another organization's patient is 404")
    func tenantFromToken() throws {
        let platform = try TestPlatform()
        #expect(platform.get("/api/patients/P10001").status == 200)
        let stranger = try token(platform, roles: [.admin], organization: "org_other")
        #expect(platform.get("/api/patients/P10001", headers: [("Authorization", "Bearer " + stranger)]).status == 404)
        let generated = platform.post(
            "/api/billing/generate", TestPlatform.specificationBody, headers: [("Authorization", "Bearer " + stranger)])
        #expect(try generated.decode(Problem.self).errors.map(\.pointer) == ["/patientId"])
    }

    @Test("a user limited to one location sees only that location's patients, invoices, claims and figures")
    func locationScoping() throws {
        let platform = try TestPlatform()
        let andheri =
            platform.post("/api/billing/generate", TestPlatform.specificationBody).object["id"] as? String ?? ""
        try platform.platform.drainEvents()
        let powaiOnly = [
            ("Authorization", "Bearer " + (try token(platform, roles: [.admin], locations: ["loc_powai"])))
        ]

        #expect(platform.get("/api/patients/P10001", headers: powaiOnly).status == 404)
        #expect(platform.get("/api/patients/P10003", headers: powaiOnly).status == 200)
        let visible = (try platform.get("/api/patients", headers: powaiOnly).decode(PatientPage.self)).items.map(\.id)
        #expect(visible == ["P10003"])
        #expect(platform.get("/api/billing/invoices/\(andheri)", headers: powaiOnly).status == 404)
        #expect(platform.get("/api/payments?invoiceId=\(andheri)", headers: powaiOnly).status == 404)

        let elsewhere = platform.post(
            "/api/billing/generate", TestPlatform.specificationBody, headers: powaiOnly)
        #expect(try elsewhere.decode(Problem.self).errors.map(\.pointer) == ["/patientId"])
        let body = TestPlatform.specificationBody.replacingOccurrences(of: "P10001", with: "P10003")
        let powai = platform.post("/api/billing/generate", body, headers: powaiOnly)
        #expect(powai.status == 201)
        try platform.platform.drainEvents()

        let invoices = try platform.get("/api/billing/invoices", headers: powaiOnly).decode(IdPage.self).items.map(\.id)
        #expect(invoices == [powai.object["id"] as? String ?? "?"])
        let claims = try platform.get("/api/claims", headers: powaiOnly).decode(IdPage.self).items
        #expect(claims.count == 1)
        let summary = try platform.get("/api/reporting/summary", headers: powaiOnly).decode([String: AnyNumber].self)
        #expect(summary["invoiceCount"]?.value == 1)
        #expect(platform.get("/api/reporting/summary?locationId=loc_andheri", headers: powaiOnly).status == 403)
        let registration = platform.post(
            "/api/patients",
            #"{"locationId": "loc_andheri", "givenName": "A", "familyName": "B", "dateOfBirth": "1990-01-01", "sex": "female"}"#,
            headers: powaiOnly)
        #expect(registration.status == 403)
        #expect(try registration.decode(Problem.self).errors.map(\.pointer) == ["/locationId"])
    }

    struct PatientPage: Decodable {
        struct Item: Decodable { let id: String }
        let items: [Item]
    }
    typealias IdPage = PatientPage

    /// A JSON value read as a number when it is one.
    struct AnyNumber: Decodable {
        let value: Int?
        init(from decoder: any Decoder) throws {
            value = try? decoder.singleValueContainer().decode(Int.self)
        }
    }

    @Test("login, refresh with rotation, reuse revokes the family, logout")
    func tokenLifecycle() throws {
        let platform = try TestPlatform()
        let identity = try #require(platform.platform.databases["identity"])
        _ = try IdentityServiceAccess.createUser(
            email: "Biller@Example.com", password: "violet-ledger-42-river", roles: [.biller], platform: platform,
            database: identity)
        let login = platform.post(
            "/api/auth/login", #"{"email": "biller@example.com", "password": "violet-ledger-42-river"}"#)
        #expect(login.status == 200)
        let access = try #require(login.object["accessToken"] as? String)
        let refresh = try #require(login.object["refreshToken"] as? String)
        #expect(login.object["tokenType"] as? String == "Bearer")
        #expect(login.object["expiresIn"] as? Int == 900)
        // The token works where the biller may go, and not elsewhere.
        #expect(platform.get("/api/claims", headers: [("Authorization", "Bearer " + access)]).status == 200)
        #expect(
            platform.get("/api/events/dead-letters", headers: [("Authorization", "Bearer " + access)]).status == 403)

        let rotated = platform.post("/api/auth/refresh", #"{"refreshToken": "\#(refresh)"}"#)
        #expect(rotated.status == 200)
        let next = try #require(rotated.object["refreshToken"] as? String)
        #expect(next != refresh)
        // Reusing the first refresh token revokes the family: the rotated one stops working too.
        #expect(platform.post("/api/auth/refresh", #"{"refreshToken": "\#(refresh)"}"#).status == 401)
        #expect(platform.post("/api/auth/refresh", #"{"refreshToken": "\#(next)"}"#).status == 401)

        let again = platform.post(
            "/api/auth/login", #"{"email": "biller@example.com", "password": "violet-ledger-42-river"}"#)
        let third = try #require(again.object["refreshToken"] as? String)
        #expect(platform.post("/api/auth/logout", #"{"refreshToken": "\#(third)"}"#).status == 204)
        #expect(platform.post("/api/auth/refresh", #"{"refreshToken": "\#(third)"}"#).status == 401)

        let jwks = try platform.json("/.well-known/jwks.json")["keys"] as? [[String: String]] ?? []
        #expect(jwks.map { $0["kid"] } == [platform.platform.keys.active.kid])
    }

    @Test("wrong passwords: 401 alike for unknown users, then 429 with Retry-After")
    func lockout() throws {
        let platform = try TestPlatform()
        let identity = try #require(platform.platform.databases["identity"])
        _ = try IdentityServiceAccess.createUser(
            email: "desk@example.com", password: "violet-ledger-42-river", roles: [.frontDesk], platform: platform,
            database: identity)
        let unknown = platform.post("/api/auth/login", #"{"email": "nobody@example.com", "password": "x"}"#)
        #expect(unknown.status == 401)
        var statuses: [Int] = []
        for _ in 0..<7 {
            statuses.append(
                platform.post("/api/auth/login", #"{"email": "desk@example.com", "password": "wrong"}"#).status)
        }
        #expect(statuses.prefix(6).allSatisfy { $0 == 401 })
        let locked = platform.post(
            "/api/auth/login", #"{"email": "desk@example.com", "password": "violet-ledger-42-river"}"#)
        #expect(locked.status == 429)
        #expect(Int(locked.headers["Retry-After"] ?? "") ?? 0 > 0)
        #expect(try unknown.decode(Problem.self).detail == "The email or password is wrong.")
        // The organization's auditors see whose logins failed.
        let events = try platform.platform.audit.events(organizationId: "org_demo", AuditLog.Filter())
        #expect(events.filter { $0.action == "LOGIN FAILED" }.count == 6)
        #expect(events.contains { $0.action == "LOGIN LOCKED" && $0.outcome == 429 })
    }
}

/// Creates users the way `rcm users create-admin` does, for tests.
enum IdentityServiceAccess {
    static func createUser(
        email: String, password: String, roles: [Role], platform: TestPlatform, database: any RCMStorage.Database
    ) throws -> String {
        try IdentityService.createUser(
            email: email, password: password, displayName: "Test",
            organizationId: platform.configuration.organizationId,
            roles: roles, in: database)
    }
}

@Suite("User management")
struct UserManagementTests {
    @Test("admins invite, change access and disable users; disabled users cannot log in or refresh")
    func lifecycle() throws {
        let platform = try TestPlatform()
        let invited = platform.post(
            "/api/identity/users",
            #"{"email": "Nurse@Clinic.example", "displayName": "Nurse", "roles": ["front_desk"], "locations": ["loc_powai"]}"#
        )
        #expect(invited.status == 201)
        let id = try #require(invited.object["id"] as? String)
        let password = try #require(invited.object["temporaryPassword"] as? String)
        #expect(invited.object["locations"] as? [String] == ["loc_powai"])
        #expect(try platform.json("/api/identity/users/\(id)")["temporaryPassword"] == nil)

        let login = platform.post("/api/auth/login", #"{"email": "nurse@clinic.example", "password": "\#(password)"}"#)
        #expect(login.status == 200)
        let refresh = try #require(login.object["refreshToken"] as? String)

        let changed = platform.request(
            .PUT, "/api/identity/users/\(id)/access", headers: [("Content-Type", "application/json")],
            body: #"{"roles": ["front_desk", "accountant"], "locations": []}"#)
        #expect(changed.object["roles"] as? [String] == ["accountant", "front_desk"])
        #expect(
            platform.request(
                .PUT, "/api/identity/users/\(id)/access", headers: [("Content-Type", "application/json")],
                body: #"{"roles": ["owner"]}"#
            ).status == 422)

        #expect(platform.post("/api/identity/users/\(id)/disable", "").status == 200)
        #expect(
            platform.post("/api/auth/login", #"{"email": "nurse@clinic.example", "password": "\#(password)"}"#).status
                == 401)
        #expect(platform.post("/api/auth/refresh", #"{"refreshToken": "\#(refresh)"}"#).status == 401)
        let users = try platform.json("/api/identity/users")["items"] as? [[String: Any]] ?? []
        #expect(users.first { $0["id"] as? String == id }?["disabled"] as? Bool == true)
        #expect(
            platform.post(
                "/api/identity/users",
                #"{"email": "nurse@clinic.example", "displayName": "Again", "roles": ["clinician"]}"#
            ).status == 409)
    }
}

@Suite("Injection")
struct InjectionTests {
    static let hostile = ["' OR '1'='1", "'; DROP TABLE patients; --", "%", "_", "\\", "\u{0}x", "P10001' --"]

    @Test("hostile text in every search parameter is data: no match, or a 422 naming it")
    func searchParameters() throws {
        let platform = try TestPlatform()
        _ = platform.post("/api/billing/generate", TestPlatform.specificationBody)
        try platform.platform.drainEvents()
        let targets = [
            "/api/patients?name=", "/api/patients?phone=", "/api/patients?mrn=", "/api/patients?dateOfBirth=",
            "/api/billing/invoices?patientId=", "/api/claims?invoiceId=", "/api/claims?patientId=",
            "/api/claims?status=", "/api/payments?invoiceId=", "/api/reporting/timeline?invoiceId=",
            "/api/reporting/timeline?patientId=", "/api/reporting/summary?locationId=", "/api/reporting/summary?from=",
            "/api/billing/charge-items?locationId=", "/api/insurance/patients/x/active-coverage?date=",
        ]
        for target in targets {
            for text in Self.hostile {
                let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let response = platform.get(target + encoded)
                #expect([200, 404, 422].contains(response.status), "\(target)\(text): \(response.status)")
                if response.status == 200, let items = response.object["items"] as? [Any] {
                    #expect(items.isEmpty, "\(target)\(text) matched something")
                }
            }
        }
        // Everything is still there.
        #expect(platform.get("/api/patients/P10001").status == 200)
        #expect((try platform.json("/api/billing/invoices")["items"] as? [Any])?.count == 1)
    }
}

@Suite("Audit trail")
struct AuditTrailTests {
    @Test("reads, writes, failed logins and denials are recorded with who, what and outcome, never patient data")
    func recorded() throws {
        let platform = try TestPlatform()
        #expect(platform.get("/api/patients/P10001").status == 200)
        #expect(
            platform.post("/api/auth/login", #"{"email": "nobody@example.com", "password": "wrong"}"#).status == 401)
        #expect(platform.app.test(.GET, "/api/patients/P10002").status == 401)
        let events = try platform.platform.audit.events(organizationId: "org_demo", AuditLog.Filter())
        let read = try #require(events.last { $0.action == "GET /api/patients/{id}" && $0.resourceId == "P10001" })
        #expect(read.actor == "system")
        #expect(read.outcome == 200)
        #expect(read.resourceType == "patients")
        // Before authentication there is no organization: such entries are the installation's.
        let anonymous = try platform.platform.audit.events(organizationId: "", AuditLog.Filter())
        #expect(
            anonymous.contains { $0.action == "POST /api/auth/login" && $0.outcome == 401 && $0.actor == "anonymous" })
        #expect(anonymous.contains { $0.action == "GET /api/patients/{id}" && $0.outcome == 401 })
        // No patient data in any entry (the hex hashes are left out: they may contain any digits).
        var stripped = events
        for index in stripped.indices { stripped[index].hash = "" }
        let everything = try JSON.encodeString(stripped)
        #expect(!everything.contains("Asha") && !everything.contains("98200"))

        let auditor = platform.get("/api/audit/events?resourceId=P10001")
        #expect(auditor.status == 200)
        #expect(
            (auditor.object["items"] as? [[String: Any]])?.allSatisfy { $0["resourceId"] as? String == "P10001" }
                == true)
        #expect(try platform.platform.audit.verify().problem == nil)
    }

    @Test("editing, deleting or truncating entries is detected, naming the entry")
    func tampering() throws {
        let platform = try TestPlatform()
        for _ in 0..<5 { _ = platform.get("/api/patients/P10001") }
        try platform.platform.audit.checkpoint()
        let audit = platform.platform.audit
        let database = try #require(platform.platform.databases["audit"])
        let intact = try audit.verify()
        #expect(intact.problem == nil && intact.entries > 5 && intact.checkpoints >= 1)

        try database.write { try $0.execute("UPDATE audit_events SET actor = 'usr_someone_else' WHERE seq = 3") }
        #expect(try audit.verify().problem == "entry 3 was altered (hash mismatch)")
        try database.write { try $0.execute("DELETE FROM audit_events WHERE seq = 3") }
        #expect(try audit.verify().problem == "entry 3 is missing (next is 4)")

        let fresh = try TestPlatform()
        for _ in 0..<5 { _ = fresh.get("/api/patients/P10001") }
        try fresh.platform.audit.checkpoint()
        let last = try fresh.platform.audit.verify().entries
        let freshDatabase = try #require(fresh.platform.databases["audit"])
        try freshDatabase.write { try $0.execute("DELETE FROM audit_events WHERE seq >= \(last - 1)") }
        #expect(
            try fresh.platform.audit.verify().problem
                == "the trail was truncated: checkpoint \(last) signed \(last) entries, \(last - 2) remain")
    }
}

@Suite("OAuth2 client credentials")
struct ClientCredentialsTests {
    func form(_ platform: TestPlatform, _ body: String, basic: String? = nil) -> HTTPResponse {
        var headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", "")]
        if let basic { headers[1] = ("Authorization", "Basic " + Data(basic.utf8).base64EncodedString()) }
        return platform.app.test(
            .POST, "/api/auth/token", headers: headers.filter { !$0.1.isEmpty }, body: Array(body.utf8))
    }

    @Test("a registered client gets a token with the scopes it may have, and RFC 6749 errors otherwise")
    func grant() throws {
        let platform = try TestPlatform()
        let registered = platform.post(
            "/api/identity/clients", #"{"name": "Clearinghouse callback", "scopes": ["biller"]}"#)
        #expect(registered.status == 201)
        let id = try #require(registered.object["clientId"] as? String)
        let secret = try #require(registered.object["clientSecret"] as? String)
        #expect(platform.post("/api/identity/clients", #"{"name": "x", "scopes": ["admin"]}"#).status == 422)

        let granted = form(
            platform, "grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)&scope=biller")
        #expect(granted.status == 200)
        #expect(granted.headers["Cache-Control"] == "no-store")
        let token = try #require(granted.object["access_token"] as? String)
        #expect(granted.object["token_type"] as? String == "Bearer")
        #expect(granted.object["scope"] as? String == "biller")
        #expect(platform.get("/api/claims", headers: [("Authorization", "Bearer " + token)]).status == 200)
        #expect(platform.get("/api/patients", headers: [("Authorization", "Bearer " + token)]).status == 200)
        #expect(platform.get("/api/events/dead-letters", headers: [("Authorization", "Bearer " + token)]).status == 403)

        #expect(form(platform, "grant_type=client_credentials", basic: "\(id):\(secret)").status == 200)
        let wrongSecret = form(platform, "grant_type=client_credentials", basic: "\(id):nope")
        #expect(wrongSecret.status == 401)
        #expect(wrongSecret.object["error"] as? String == "invalid_client")
        #expect(wrongSecret.headers["WWW-Authenticate"] != nil)
        let scope = form(
            platform, "grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)&scope=accountant")
        #expect(scope.object["error"] as? String == "invalid_scope")
        #expect(
            form(platform, "grant_type=password&username=a&password=b").object["error"] as? String
                == "unsupported_grant_type")
        let json = platform.post("/api/auth/token", #"{"grant_type": "client_credentials"}"#)
        #expect(json.object["error"] as? String == "invalid_request")
    }
}

@Suite("Break-glass access")
struct BreakGlassTests {
    @Test("a clinician limited to one location reads another's patient only by breaking the glass, which is audited")
    func breakGlass() throws {
        let platform = try TestPlatform()
        let now = Int64(Date().timeIntervalSince1970)
        func token(_ roles: [Role]) throws -> String {
            try JWT.sign(
                AccessClaims(
                    iss: platform.platform.tokens.issuer, aud: platform.platform.tokens.audience, sub: "usr_doc",
                    org: platform.configuration.organizationId, roles: roles.map(\.rawValue), locations: ["loc_powai"],
                    iat: now, exp: now + 300, jti: Identifier.make("jti")),
                with: platform.platform.keys.active)
        }
        let clinician = [("Authorization", "Bearer " + (try token([.clinician])))]
        #expect(platform.get("/api/patients/P10001", headers: clinician).status == 404)
        let reason = ("X-Break-Glass", "Unconscious patient brought to Powai emergency")
        #expect(platform.get("/api/patients/P10001", headers: clinician + [reason]).status == 200)
        #expect(platform.get("/api/patients/P10001", headers: clinician + [("X-Break-Glass", "because")]).status == 422)
        let biller = [("Authorization", "Bearer " + (try token([.biller])))]
        #expect(platform.get("/api/patients/P10001", headers: biller + [reason]).status == 403)

        let events = try platform.platform.audit.events(organizationId: "org_demo", AuditLog.Filter())
        #expect(
            events.contains {
                $0.action == "BREAK-GLASS GET /api/patients/{id}" && $0.outcome == 200 && $0.actor == "usr_doc"
            })
        #expect(events.contains { $0.action == "BREAK-GLASS GET /api/patients/{id}" && $0.outcome == 403 })
    }
}

@Suite("Tenancy and key rotation")
struct TenancyTests {
    @Test("every service answers 404 for another organization's records")
    func crossOrganization() throws {
        let platform = try TestPlatform()
        let invoice = platform.post("/api/billing/generate", TestPlatform.specificationBody).object
        let invoiceId = try #require(invoice["id"] as? String)
        try platform.platform.drainEvents()
        let payment = platform.post("/api/payments", #"{"invoiceId": "\#(invoiceId)", "amount": 10, "method": "cash"}"#)
        let paymentId = try #require(payment.object["id"] as? String)
        let claimId = try #require(
            (try platform.json("/api/claims?invoiceId=\(invoiceId)")["items"] as? [[String: Any]])?.first?["id"]
                as? String)
        let coverageId = try #require((invoice["coverage"] as? [String: Any])?["coverageId"] as? String)
        let userId = try #require(
            platform.post(
                "/api/identity/users", #"{"email": "x@clinic.example", "displayName": "X", "roles": ["biller"]}"#
            ).object["id"] as? String)

        let now = Int64(Date().timeIntervalSince1970)
        let stranger = try JWT.sign(
            AccessClaims(
                iss: platform.platform.tokens.issuer, aud: platform.platform.tokens.audience, sub: "usr_other",
                org: "org_other", roles: Role.allCases.map(\.rawValue), locations: [], iat: now, exp: now + 300,
                jti: Identifier.make("jti")),
            with: platform.platform.keys.active)
        let headers = [("Authorization", "Bearer " + stranger)]
        for path in [
            "/api/patients/P10001", "/api/billing/invoices/\(invoiceId)", "/api/claims/\(claimId)",
            "/api/payments/\(paymentId)", "/api/insurance/coverages/\(coverageId)", "/api/identity/users/\(userId)",
            "/api/patients/P10001/export",
        ] {
            #expect(platform.get(path, headers: headers).status == 404, "\(path)")
        }
        for path in ["/api/claims?invoiceId=\(invoiceId)", "/api/billing/invoices"] {
            #expect((try platform.get(path, headers: headers).decode(TenancyTests.Items.self)).items.isEmpty, "\(path)")
        }
        #expect(
            platform.post("/api/claims/\(claimId)/transitions", #"{"status": "submitted"}"#, headers: headers).status
                == 404)
    }

    struct Items: Decodable {
        struct Item: Decodable {}
        let items: [Item]
    }

    @Test("rotating the signing key logs nobody out: old tokens verify, new ones use the new kid")
    func signingKeyRotation() throws {
        let platform = try TestPlatform()
        let before = platform.token
        let old = platform.platform.keys.active.kid
        let new = try platform.platform.keys.rotate()
        #expect(new.kid != old)
        #expect(platform.get("/api/patients/P10001", headers: [("Authorization", "Bearer " + before)]).status == 200)
        let fresh = try platform.platform.systemToken()
        let header = String(fresh.split(separator: ".")[0])
        #expect(String(decoding: Base64URL.decode(header) ?? [], as: UTF8.self).contains(new.kid))
        let kids = (try platform.json("/.well-known/jwks.json")["keys"] as? [[String: String]] ?? []).compactMap {
            $0["kid"]
        }
        #expect(Set(kids) == [old, new.kid])
    }
}

@Suite("Per-caller rate limit")
struct CallerRateLimitTests {
    @Test("a caller past its rate gets 429 with Retry-After; another caller is not affected")
    func limited() throws {
        let platform = try TestPlatform(rateLimit: 5)
        let now = Int64(Date().timeIntervalSince1970)
        func user(_ subject: String) throws -> [(String, String)] {
            let token = try JWT.sign(
                AccessClaims(
                    iss: platform.platform.tokens.issuer, aud: platform.platform.tokens.audience, sub: subject,
                    org: platform.configuration.organizationId, roles: ["front_desk"], locations: [], iat: now,
                    exp: now + 300, jti: Identifier.make("jti")),
                with: platform.platform.keys.active)
            return [("Authorization", "Bearer " + token)]
        }
        let busy = try user("usr_busy")
        var statuses: [Int] = []
        for _ in 0..<10 { statuses.append(platform.get("/api/patients/P10001", headers: busy).status) }
        #expect(statuses.allSatisfy { $0 == 200 })  // a burst of twice the rate
        let refused = platform.get("/api/patients/P10001", headers: busy)
        #expect(refused.status == 429)
        #expect(refused.headers["Retry-After"] != nil)
        // Another caller has a bucket of their own; the installation's own work is not limited.
        #expect(platform.get("/api/patients/P10001", headers: try user("usr_else")).status == 200)
        #expect(platform.get("/api/patients/P10001").status == 200)
    }
}

@Suite("Organizations and locations")
struct OrganizationTests {
    @Test("the organization lists its locations; users may only be given the organization's locations")
    func locations() throws {
        let platform = try TestPlatform()
        let organization = try platform.json("/api/identity/organization")
        #expect(organization["currency"] as? String == "INR")
        #expect((organization["locations"] as? [[String: String]])?.map { $0["id"] } == ["loc_andheri", "loc_powai"])
        let unknown = platform.post(
            "/api/identity/users",
            #"{"email": "a@clinic.example", "displayName": "A", "roles": ["biller"], "locations": ["loc_moon"]}"#)
        #expect(try unknown.decode(Problem.self).errors.map(\.pointer) == ["/locations/0"])
        #expect(
            platform.post("/api/identity/locations", #"{"id": "loc_thane", "name": "Sunrise Thane"}"#).status == 201)
        #expect(platform.post("/api/identity/locations", #"{"id": "loc_thane", "name": "Again"}"#).status == 409)
        let invited = platform.post(
            "/api/identity/users",
            #"{"email": "a@clinic.example", "displayName": "A", "roles": ["biller"], "locations": ["loc_thane"]}"#)
        #expect(invited.status == 201)
    }
}
