import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage

/// Users, their roles and locations, and the tokens that prove who they are: password login
/// (Argon2id), ES256 access tokens, rotating refresh tokens, and the public keys (JWKS) every
/// service verifies tokens with.
public struct IdentityService: PlatformService {
    public static let name = "identity"
    public static let subscribedTypes: [String] = []
    public static let migrations = [
        Migration(
            1, "users and refresh tokens",
            [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
                    display_name TEXT NOT NULL, password_hash TEXT NOT NULL, disabled INTEGER NOT NULL,
                    failed_logins INTEGER NOT NULL, locked_until BIGINT NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE TABLE user_roles (user_id TEXT NOT NULL, role TEXT NOT NULL, PRIMARY KEY (user_id, role))",
                """
                CREATE TABLE user_locations (user_id TEXT NOT NULL, location_id TEXT NOT NULL,
                    PRIMARY KEY (user_id, location_id))
                """,
                """
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, user_id TEXT NOT NULL,
                    expires_at BIGINT NOT NULL, used INTEGER NOT NULL, revoked INTEGER NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
            ]),
        Migration(
            2, "oauth clients",
            [
                """
                CREATE TABLE oauth_clients (
                    client_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, name TEXT NOT NULL,
                    secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, disabled INTEGER NOT NULL, created_at TEXT NOT NULL)
                """
            ]),
        Migration(
            3, "organizations and locations",
            [
                """
                CREATE TABLE organizations (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL, created_at TEXT NOT NULL)
                """,
                """
                CREATE TABLE locations (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL)
                """,
                "CREATE INDEX locations_organization ON locations (organization_id)",
            ]),
        Outbox.migration, Outbox.cursorMigration, Idempotency.migration,
    ]

    /// Failed logins allowed before the account starts to wait; each further failure doubles the wait.
    static let freeAttempts = 5
    static let maximumLockSeconds: Int64 = 15 * 60

    let environment: ServiceEnvironment
    let hasher = PasswordHasher()
    /// Per client address, for login, refresh and logout: 10 at once, then one every 6 seconds.
    let limiter = RateLimiter(capacity: 10, perSecond: 1.0 / 6)
    public var consumer: (any EventConsumer)? { nil }

    public init(environment: ServiceEnvironment) { self.environment = environment }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/auth") { auth in
            auth.post("/login", login)
            auth.post("/refresh", refresh)
            auth.post("/logout", logout)
            auth.post("/token", token)
        }
        router.post("/api/identity/clients", registerClient)
        router.get("/api/identity/organization", readOrganization)
        router.post("/api/identity/locations", createLocation)
        router.group("/api/identity/users") { users in
            users.post("", invite)
            users.get("", listUsers)
            users.get("/{id}", readUser)
            users.put("/{id}/access", setAccess)
            users.post("/{id}/disable", disable)
        }
        router.get("/.well-known/jwks.json") { _, _ in
            try .json([
                "keys": environment.keys.publicKeys.values.map(\.jwk).sorted { $0["kid"] ?? "" < $1["kid"] ?? "" }
            ])
        }
    }

    struct TokenPair: Codable {
        let accessToken: String
        let refreshToken: String
        let expiresIn: Int64
        let tokenType: String
    }

    // MARK: Login

    func login(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try limiter.take(request.remoteAddress)
        struct Credentials: Decodable {
            var email: String?
            var password: String?
        }
        let credentials = try request.decode(Credentials.self)
        var validation = Validation()
        validation.text(credentials.email, "/email", maxLength: 254)
        validation.text(credentials.password, "/password", maxLength: PasswordPolicy.maximumLength)
        try validation.check()
        let email = (credentials.email ?? "").lowercased()
        let now = Int64(Date().timeIntervalSince1970)
        let user = try environment.database.read { try IdentityService.findUser(email: email, in: $0) }
        guard let user else {
            // Spend what a real check costs, so response times do not tell which emails exist.
            _ = hasher.verify(credentials.password ?? "", against: IdentityService.decoyHash)
            throw IdentityService.invalidCredentials
        }
        if user.lockedUntil > now {
            audit("LOGIN LOCKED", user: user, outcome: 429, request: request, context: context)
            var problem = Problem(
                type: "https://rcm.invalid/problems/too-many-attempts", title: "Too many attempts", status: 429,
                detail: "Too many failed logins; try again in \(user.lockedUntil - now) seconds.")
            problem.retryAfter = Int(user.lockedUntil - now)
            throw problem
        }
        guard hasher.verify(credentials.password ?? "", against: user.passwordHash), !user.disabled else {
            let failures = user.failedLogins + 1
            let wait =
                failures > IdentityService.freeAttempts
                ? min(
                    IdentityService.maximumLockSeconds,
                    Int64(1) << Int64(min(failures - IdentityService.freeAttempts, 20)))
                : 0
            try environment.database.write { connection in
                try connection.execute(
                    "UPDATE users SET failed_logins = \(failures), locked_until = \(now + wait) WHERE id = \(user.id)")
            }
            environment.logger.warning("login failed", ["user.id": user.id, "failures": String(failures)])
            audit("LOGIN FAILED", user: user, outcome: 401, request: request, context: context)
            throw IdentityService.invalidCredentials
        }
        let pair = try environment.database.write { connection -> TokenPair in
            try connection.execute("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = \(user.id)")
            return try issue(for: user, family: Identifier.make("fam"), in: connection)
        }
        audit("LOGIN", user: user, outcome: 200, request: request, context: context)
        return try .json(pair)
    }

    /// Records an authentication event under the account's organization, so that its auditors see
    /// it (the route's own entry is the installation's: before login there is no organization).
    func audit(_ action: String, user: User, outcome: Int, request: HTTPRequest, context: RequestContext) {
        try? environment.audit?.record(
            organizationId: user.organizationId, actor: user.id, action: action, resourceType: "auth",
            resourceId: user.id, outcome: outcome, ip: request.remoteAddress,
            userAgent: request.headers["User-Agent"] ?? "", requestId: context.requestId)
    }

    // MARK: Refresh and logout

    struct RefreshRequest: Decodable {
        var refreshToken: String?
    }

    /// Exchanges a refresh token for a new pair. Each refresh token works once; presenting one
    /// that was already used revokes its whole family (it has been stolen, or the client is broken).
    func refresh(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try limiter.take(request.remoteAddress)
        let body = try request.decode(RefreshRequest.self)
        var validation = Validation()
        validation.text(body.refreshToken, "/refreshToken", maxLength: 200)
        try validation.check()
        let hash = Digest.sha256Hex(Array((body.refreshToken ?? "").utf8))
        let now = Int64(Date().timeIntervalSince1970)
        let outcome = try environment.database.write { connection -> Result<TokenPair, Problem> in
            guard let row = try connection.queryFirst("SELECT * FROM refresh_tokens WHERE token_hash = \(hash)") else {
                return .failure(IdentityService.invalidRefresh)
            }
            let family = try row.string("family_id")
            if try row.bool("used") || row.bool("revoked") {
                try connection.execute("UPDATE refresh_tokens SET revoked = 1 WHERE family_id = \(family)")
                environment.logger.warning("refresh token reused; family revoked", ["token.family": family])
                if let user = try IdentityService.findUser(id: try row.string("user_id"), in: connection) {
                    audit("REFRESH TOKEN REUSED", user: user, outcome: 401, request: request, context: context)
                }
                return .failure(IdentityService.invalidRefresh)
            }
            guard try row.int64("expires_at") > now,
                let user = try IdentityService.findUser(id: try row.string("user_id"), in: connection), !user.disabled
            else { return .failure(IdentityService.invalidRefresh) }
            try connection.execute("UPDATE refresh_tokens SET used = 1 WHERE token_hash = \(hash)")
            audit("TOKEN REFRESH", user: user, outcome: 200, request: request, context: context)
            return .success(try issue(for: user, family: family, in: connection))
        }
        return try .json(try outcome.get())
    }

    /// Ends the session: the refresh token's family is revoked (access tokens expire by themselves).
    func logout(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try limiter.take(request.remoteAddress)
        let body = try request.decode(RefreshRequest.self)
        let hash = Digest.sha256Hex(Array((body.refreshToken ?? "").utf8))
        try environment.database.write { connection in
            try connection.execute(
                """
                UPDATE refresh_tokens SET revoked = 1
                WHERE family_id IN (SELECT family_id FROM refresh_tokens WHERE token_hash = \(hash))
                """)
        }
        return HTTPResponse(status: 204)
    }

    func issue(for user: User, family: String, in connection: any SQLConnection) throws -> TokenPair {
        let settings = environment.tokens
        let now = Int64(Date().timeIntervalSince1970)
        let claims = AccessClaims(
            iss: settings.issuer, aud: settings.audience, sub: user.id, org: user.organizationId, roles: user.roles,
            locations: user.locations, iat: now, exp: now + settings.accessLifetime, jti: Identifier.make("jti"))
        let refreshToken = SecureRandom.token()
        try connection.execute(
            """
            INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, used, revoked, created_at)
            VALUES (\(Digest.sha256Hex(Array(refreshToken.utf8))), \(family), \(user.id), \(now + settings.refreshLifetime),
                0, 0, \(Timestamp.now()))
            """)
        return TokenPair(
            accessToken: try JWT.sign(claims, with: environment.keys.active), refreshToken: refreshToken,
            expiresIn: settings.accessLifetime, tokenType: "Bearer")
    }

    // MARK: OAuth2 client credentials (RFC 6749 §4.4)

    /// Registers a machine client (a clearinghouse callback, an integration). Its scopes are the
    /// roles its tokens may carry; the secret is shown once, here, and stored only as a hash.
    func registerClient(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        struct ClientInput: Decodable {
            var name: String?
            var scopes: [String]?
        }
        let input = try request.decode(ClientInput.self)
        var validation = Validation()
        validation.text(input.name, "/name")
        let scopes = (input.scopes ?? []).compactMap(Role.init(rawValue:))
        validation.require(
            !scopes.isEmpty && scopes.count == input.scopes?.count && !scopes.contains(.admin), "/scopes",
            "must list one or more roles other than admin")
        try validation.check()
        let clientId = Identifier.make("cli")
        let secret = SecureRandom.token()
        let hash = try hasher.hash(secret)
        try environment.database.write { connection in
            try connection.execute(
                """
                INSERT INTO oauth_clients (client_id, organization_id, name, secret_hash, scopes, disabled, created_at)
                VALUES (\(clientId), \(context.organizationId), \(input.name ?? ""), \(hash),
                    \(scopes.map(\.rawValue).joined(separator: " ")), 0, \(Timestamp.now()))
                """)
        }
        return try .json(
            ["clientId": clientId, "clientSecret": secret, "scope": scopes.map(\.rawValue).joined(separator: " ")],
            status: 201)
    }

    /// `POST /api/auth/token` with `grant_type=client_credentials`, form-encoded, the client
    /// authenticated by HTTP Basic or by `client_id` and `client_secret` in the form. Errors are
    /// RFC 6749's (`{"error": "invalid_client"}`), as OAuth2 clients expect.
    func token(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try limiter.take(request.remoteAddress)
        func oauthError(_ code: String, _ description: String, status: Int = 400) -> HTTPResponse {
            var response =
                (try? HTTPResponse.json(["error": code, "error_description": description], status: status))
                ?? HTTPResponse(status: status)
            response.headers.add("Cache-Control", "no-store")
            if status == 401 { response.headers.add("WWW-Authenticate", #"Basic realm="rcm""#) }
            return response
        }
        let contentType = request.headers["Content-Type"]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            return oauthError("invalid_request", "the body must be application/x-www-form-urlencoded")
        }
        let form = IdentityService.parseForm(request.body)
        guard form["grant_type"] == "client_credentials" else {
            return oauthError("unsupported_grant_type", "only client_credentials is supported")
        }
        var clientId = form["client_id"]
        var secret = form["client_secret"]
        if let basic = request.headers["Authorization"], basic.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(basic.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        {
            clientId = String(decoded[..<colon]).removingPercentEncoding
            secret = String(decoded[decoded.index(after: colon)...]).removingPercentEncoding
        }
        guard let clientId, let secret else {
            return oauthError("invalid_client", "client authentication failed", status: 401)
        }
        let row = try environment.database.read {
            try $0.queryFirst("SELECT * FROM oauth_clients WHERE client_id = \(clientId)")
        }
        guard let row, hasher.verify(secret, against: try row.string("secret_hash")), try !row.bool("disabled") else {
            if row == nil { _ = hasher.verify(secret, against: IdentityService.decoyHash) }
            return oauthError("invalid_client", "client authentication failed", status: 401)
        }
        let allowed = try row.string("scopes").split(separator: " ").map(String.init)
        let requested = form["scope"].map { $0.split(separator: " ").map(String.init) } ?? allowed
        guard !requested.isEmpty, Set(requested).isSubset(of: Set(allowed)) else {
            return oauthError("invalid_scope", "the client may ask for: \(allowed.joined(separator: " "))")
        }
        let settings = environment.tokens
        let now = Int64(Date().timeIntervalSince1970)
        let claims = AccessClaims(
            iss: settings.issuer, aud: settings.audience, sub: clientId, org: try row.string("organization_id"),
            roles: requested, locations: [], iat: now, exp: now + settings.accessLifetime, jti: Identifier.make("jti"))
        var response = try HTTPResponse.json(
            TokenResponse(
                access_token: try JWT.sign(claims, with: environment.keys.active), token_type: "Bearer",
                expires_in: settings.accessLifetime, scope: requested.joined(separator: " ")))
        response.headers.add("Cache-Control", "no-store")
        return response
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    /// RFC 6749 §5.1 names its members in snake case.
    struct TokenResponse: Encodable {
        let access_token: String
        let token_type: String
        let expires_in: Int64
        let scope: String
    }

    /// `application/x-www-form-urlencoded` pairs.
    static func parseForm(_ body: [UInt8]) -> [String: String] {
        var form: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            func decode(_ text: Substring) -> String { PercentEncoding.decode(text.utf8, plusIsSpace: true) ?? "" }
            let key = decode(parts[0])
            if form[key] == nil { form[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return form
    }

    // MARK: Organizations and locations

    /// Creates an organization (a clinic or a chain) with its locations when it does not exist yet.
    public static func ensureOrganization(
        id: String, name: String, currency: String, locations: [(id: String, name: String)], in database: any Database
    ) throws {
        try database.write { connection in
            try connection.execute(
                """
                INSERT INTO organizations (id, name, currency, created_at) VALUES (\(id), \(name), \(currency), \(Timestamp.now()))
                ON CONFLICT DO NOTHING
                """)
            for location in locations {
                try connection.execute(
                    """
                    INSERT INTO locations (id, organization_id, name, created_at)
                    VALUES (\(location.id), \(id), \(location.name), \(Timestamp.now())) ON CONFLICT DO NOTHING
                    """)
            }
        }
    }

    /// The caller's organization and its locations.
    func readOrganization(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        struct Location: Encodable {
            let id: String
            let name: String
        }
        struct Organization: Encodable {
            let id: String
            let name: String
            let currency: String
            let locations: [Location]
        }
        let organization = try environment.database.read { connection -> Organization? in
            guard
                let row = try connection.queryFirst("SELECT * FROM organizations WHERE id = \(context.organizationId)")
            else { return nil }
            let locations = try connection.query(
                "SELECT * FROM locations WHERE organization_id = \(context.organizationId) ORDER BY id"
            ).map { Location(id: try $0.string("id"), name: try $0.string("name")) }
            return Organization(
                id: try row.string("id"), name: try row.string("name"), currency: try row.string("currency"),
                locations: locations)
        }
        guard let organization else {
            throw Problem.notFound("Organization \(context.organizationId) is not registered.")
        }
        return try .json(organization)
    }

    /// Adds a location to the caller's organization (admins).
    func createLocation(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        struct LocationInput: Decodable {
            var id: String?
            var name: String?
        }
        let input = try request.decode(LocationInput.self)
        var validation = Validation()
        validation.text(input.name, "/name")
        validation.text(input.id, "/id", maxLength: 64)
        if let id = input.id {
            validation.require(
                id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }, "/id",
                "may hold letters, digits, _ and -")
        }
        try validation.check()
        let id = input.id ?? ""
        try environment.database.write { connection in
            guard try connection.queryFirst("SELECT id FROM organizations WHERE id = \(context.organizationId)") != nil
            else {
                throw Problem.notFound("Organization \(context.organizationId) is not registered.")
            }
            guard try connection.queryFirst("SELECT id FROM locations WHERE id = \(id)") == nil else {
                throw Problem.conflict("Location \(id) exists.")
            }
            try connection.execute(
                """
                INSERT INTO locations (id, organization_id, name, created_at)
                VALUES (\(id), \(context.organizationId), \(input.name ?? ""), \(Timestamp.now()))
                """)
        }
        return try .json(["id": id, "name": input.name ?? ""], status: 201)
    }

    /// Locations given to a user must be the organization's (when it has registered any).
    func checkLocations(_ locations: [String], organization: String) throws {
        let known = try environment.database.read { connection in
            Set(
                try connection.query("SELECT id FROM locations WHERE organization_id = \(organization)").map {
                    try $0.string("id")
                })
        }
        guard !known.isEmpty else { return }
        var validation = Validation()
        for (index, location) in locations.enumerated() where !known.contains(location) {
            validation.fail("/locations/\(index)", "\(location) is not a location of the organization")
        }
        try validation.check()
    }

    // MARK: User management (admins)

    /// A user as admins see it: never the password hash.
    struct UserView: Codable {
        let id: String
        let email: String
        let roles: [String]
        let locations: [String]
        let disabled: Bool
        var temporaryPassword: String?
    }

    struct AccessInput: Decodable {
        var email: String?
        var displayName: String?
        var roles: [String]?
        var locations: [String]?
    }

    static func validateAccess(_ input: AccessInput, _ validation: inout Validation) -> [Role] {
        let roles = (input.roles ?? []).compactMap(Role.init(rawValue:))
        validation.require(
            input.roles != nil && !(input.roles ?? []).isEmpty && roles.count == input.roles?.count, "/roles",
            "must list one or more of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        for (index, location) in (input.locations ?? []).enumerated() {
            validation.text(location, "/locations/\(index)", maxLength: 64)
        }
        return roles
    }

    /// Invites a user: the account gets a one-time temporary password, returned once in this
    /// response for the admin to hand over.
    func invite(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let input = try request.decode(AccessInput.self)
        var validation = Validation()
        validation.text(input.email, "/email", maxLength: 254)
        validation.text(input.displayName, "/displayName")
        let roles = IdentityService.validateAccess(input, &validation)
        try validation.check()
        try checkLocations(input.locations ?? [], organization: context.organizationId)
        let password = "tmp-" + SecureRandom.token().prefix(20)
        let id = try IdentityService.createUser(
            email: input.email ?? "", password: password, displayName: input.displayName ?? "",
            organizationId: context.organizationId, roles: roles, locations: input.locations ?? [],
            in: environment.database)
        guard var view = try view(id, context) else { throw Problem.notFound("User \(id) does not exist.") }
        view.temporaryPassword = password
        return try .json(view, status: 201)
    }

    func listUsers(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let users = try environment.database.read { connection in
            try connection.query(
                "SELECT * FROM users WHERE organization_id = \(context.organizationId) ORDER BY email"
            ).map { try IdentityService.user(from: $0, in: connection) }
        }
        return try .json([
            "items": users.map {
                UserView(id: $0.id, email: $0.email, roles: $0.roles, locations: $0.locations, disabled: $0.disabled)
            }
        ])
    }

    func readUser(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        guard let view = try view(id, context) else { throw Problem.notFound("User \(id) does not exist.") }
        return try .json(view)
    }

    /// Replaces a user's roles and locations (effective at their next token: within 15 minutes).
    func setAccess(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let input = try request.decode(AccessInput.self)
        var validation = Validation()
        let roles = IdentityService.validateAccess(input, &validation)
        try validation.check()
        try checkLocations(input.locations ?? [], organization: context.organizationId)
        let id = context.parameter("id")
        try environment.database.write { connection in
            guard let user = try IdentityService.findUser(id: id, in: connection),
                user.organizationId == context.organizationId
            else { throw Problem.notFound("User \(id) does not exist.") }
            try connection.execute("DELETE FROM user_roles WHERE user_id = \(id)")
            try connection.execute("DELETE FROM user_locations WHERE user_id = \(id)")
            for role in roles {
                try connection.execute("INSERT INTO user_roles (user_id, role) VALUES (\(id), \(role.rawValue))")
            }
            for location in input.locations ?? [] {
                try connection.execute("INSERT INTO user_locations (user_id, location_id) VALUES (\(id), \(location))")
            }
        }
        guard let view = try view(id, context) else { throw Problem.notFound("User \(id) does not exist.") }
        return try .json(view)
    }

    /// Disables a user: no more logins, and every refresh token is revoked (access tokens end
    /// within their 15 minutes).
    func disable(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        try environment.database.write { connection in
            guard let user = try IdentityService.findUser(id: id, in: connection),
                user.organizationId == context.organizationId
            else { throw Problem.notFound("User \(id) does not exist.") }
            try connection.execute("UPDATE users SET disabled = 1 WHERE id = \(id)")
            try connection.execute("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = \(id)")
        }
        guard let view = try view(id, context) else { throw Problem.notFound("User \(id) does not exist.") }
        return try .json(view)
    }

    func view(_ id: String, _ context: RequestContext) throws -> UserView? {
        try environment.database.read { connection in
            guard let user = try IdentityService.findUser(id: id, in: connection),
                user.organizationId == context.organizationId
            else { return nil }
            return UserView(
                id: user.id, email: user.email, roles: user.roles, locations: user.locations, disabled: user.disabled)
        }
    }

    // MARK: Users

    struct User {
        let id: String
        let organizationId: String
        let email: String
        let passwordHash: String
        let disabled: Bool
        let failedLogins: Int
        let lockedUntil: Int64
        let roles: [String]
        let locations: [String]
    }

    static func findUser(email: String, in connection: any SQLConnection) throws -> User? {
        guard let row = try connection.queryFirst("SELECT * FROM users WHERE email = \(email)") else { return nil }
        return try user(from: row, in: connection)
    }

    static func findUser(id: String, in connection: any SQLConnection) throws -> User? {
        guard let row = try connection.queryFirst("SELECT * FROM users WHERE id = \(id)") else { return nil }
        return try user(from: row, in: connection)
    }

    static func user(from row: Row, in connection: any SQLConnection) throws -> User {
        let id = try row.string("id")
        return User(
            id: id, organizationId: try row.string("organization_id"), email: try row.string("email"),
            passwordHash: try row.string("password_hash"), disabled: try row.bool("disabled"),
            failedLogins: try row.int("failed_logins"), lockedUntil: try row.int64("locked_until"),
            roles: try connection.query("SELECT role FROM user_roles WHERE user_id = \(id) ORDER BY role").map {
                try $0.string("role")
            },
            locations: try connection.query(
                "SELECT location_id FROM user_locations WHERE user_id = \(id) ORDER BY location_id"
            ).map { try $0.string("location_id") })
    }

    /// Creates a user (the CLI's `users create-admin`, first-start admin and demo users use it).
    /// The password must satisfy the policy; an existing email is refused.
    public static func createUser(
        email: String, password: String, displayName: String, organizationId: String, roles: [Role],
        locations: [String] = [], in database: any Database
    ) throws -> String {
        let email = email.lowercased()
        let problems = PasswordPolicy.problems(with: password, email: email)
        guard problems.isEmpty else {
            throw Problem.invalid(problems.map { Problem.FieldError(pointer: "/password", message: $0) })
        }
        guard email.contains("@"), email.count <= 254 else {
            throw Problem.invalid(pointer: "/email", "must be an email address")
        }
        let hash = try PasswordHasher().hash(password)
        let id = Identifier.make("usr")
        try database.write { connection in
            guard try findUser(email: email, in: connection) == nil else {
                throw Problem.conflict("A user with email \(email) already exists.")
            }
            try connection.execute(
                """
                INSERT INTO users (id, organization_id, email, display_name, password_hash, disabled, failed_logins,
                    locked_until, created_at)
                VALUES (\(id), \(organizationId), \(email), \(displayName), \(hash), 0, 0, 0, \(Timestamp.now()))
                """)
            for role in roles {
                try connection.execute("INSERT INTO user_roles (user_id, role) VALUES (\(id), \(role.rawValue))")
            }
            for location in locations {
                try connection.execute("INSERT INTO user_locations (user_id, location_id) VALUES (\(id), \(location))")
            }
        }
        return id
    }

    public static func userCount(in database: any Database) throws -> Int {
        try database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM users")?.int("n") ?? 0 }
    }

    static let invalidCredentials = Problem(
        type: "https://rcm.invalid/problems/invalid-credentials", title: "Unauthorized", status: 401,
        detail: "The email or password is wrong.")
    static let invalidRefresh = Problem(
        type: "https://rcm.invalid/problems/invalid-refresh-token", title: "Unauthorized", status: 401,
        detail: "The refresh token is not valid; log in again.",
        errors: [.init(pointer: "/refreshToken", message: "not valid")])
    /// A real Argon2id hash of a random password: verifying against it costs what a real check costs.
    static let decoyHash: String = (try? PasswordHasher().hash(SecureRandom.token())) ?? ""
}
