import Foundation
import RCMCore
import RCMHTTP
import RCMSecurity
import Synchronization

/// The roles a user can hold, each scoped to an organization (and optionally some locations).
public enum Role: String, CaseIterable, Sendable, Codable {
    case admin
    case frontDesk = "front_desk"
    case clinician
    /// Coding, billing and claims.
    case biller
    /// Payments, refunds and reports.
    case accountant
    /// The audit trail, read-only.
    case auditor
    /// An outside system that delivers answers to the platform (an NHCX gateway's callbacks);
    /// it may call those callback routes and nothing else.
    case integration
}

/// The permission matrix: which roles may call which route. It is the one place where access is
/// decided; `docs/permissions.md` is rendered from it and a test walks it for every route. A route
/// missing from the matrix is denied to everyone.
public enum AccessPolicy {
    /// Routes anyone may call, without a token.
    public static let publicRoutes: Set<String> = [
        "GET /health/live", "GET /health/ready", "POST /api/auth/login", "POST /api/auth/refresh",
        "POST /api/auth/logout", "POST /api/auth/token", "GET /.well-known/jwks.json", "GET /metrics",
    ]

    private static let everyoneButAuditor: Set<Role> = [.admin, .frontDesk, .clinician, .biller, .accountant]

    /// "METHOD pattern" → roles allowed.
    public static let matrix: [String: Set<Role>] = [
        "POST /api/patients": [.admin, .frontDesk],
        "GET /api/patients": everyoneButAuditor,
        "GET /api/patients/{id}": everyoneButAuditor,
        "PATCH /api/patients/{id}": [.admin, .frontDesk],
        "GET /api/patients/{id}/export": [.admin],
        "POST /api/patients/{id}/erase": [.admin],
        "GET /api/patients/time-zones": everyoneButAuditor,
        "PUT /api/patients/time-zones": [.admin],
        "POST /api/patients/providers": [.admin],
        "GET /api/patients/providers": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/patients/providers/{id}": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/patients/providers/{id}/hours": [.admin, .frontDesk, .clinician],
        "PUT /api/patients/providers/{id}/hours": [.admin],
        "GET /api/patients/providers/{id}/exceptions": [.admin, .frontDesk, .clinician],
        "POST /api/patients/providers/{id}/exceptions": [.admin],
        "DELETE /api/patients/providers/{id}/exceptions/{exceptionId}": [.admin],
        "POST /api/patients/appointment-types": [.admin],
        "GET /api/patients/appointment-types": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/patients/slots": [.admin, .frontDesk, .clinician],
        "POST /api/patients/appointments": [.admin, .frontDesk],
        "GET /api/patients/appointments": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/patients/appointments/{id}": [.admin, .frontDesk, .clinician, .biller],
        "POST /api/patients/appointments/{id}/reschedule": [.admin, .frontDesk],
        "POST /api/patients/appointments/{id}/cancel": [.admin, .frontDesk],
        "POST /api/patients/appointments/{id}/check-in": [.admin, .frontDesk],
        "POST /api/patients/appointments/{id}/no-show": [.admin, .frontDesk],
        "POST /api/patients/appointments/{id}/complete": [.admin, .frontDesk, .clinician],
        "POST /api/patients/{id}/merge": [.admin, .frontDesk],

        "POST /api/insurance/payers": [.admin],
        "GET /api/insurance/payers": [.admin, .frontDesk, .biller, .accountant],
        "GET /api/insurance/payers/{id}": [.admin, .frontDesk, .biller, .accountant],
        "POST /api/insurance/coverages": [.admin, .frontDesk],
        "GET /api/insurance/coverages/{id}": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/insurance/patients/{patientId}/coverages": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/insurance/patients/{patientId}/active-coverage": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/insurance/payers/{id}/plans": [.admin, .frontDesk, .biller, .accountant],
        "POST /api/insurance/plans": [.admin],
        "GET /api/insurance/coverages": [.admin, .frontDesk, .biller],
        "POST /api/insurance/eligibility/checks": [.admin, .frontDesk, .biller],
        "GET /api/insurance/eligibility/checks": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/insurance/eligibility/checks/{id}": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/insurance/eligibility/checks/{id}/raw": [.admin, .biller],
        "GET /api/insurance/eligibility/checks/{id}/fhir": [.admin, .frontDesk, .biller],
        "POST /api/insurance/eligibility/run-due": [.admin],
        "POST /api/insurance/nhcx/coverageeligibility/on_check": [.admin, .integration],

        "POST /api/billing/generate": [.admin, .frontDesk, .biller],
        "GET /api/billing/invoices": [.admin, .frontDesk, .biller, .accountant],
        "GET /api/billing/invoices/{id}": [.admin, .frontDesk, .biller, .accountant],
        "POST /api/billing/invoices/{id}/void": [.admin, .biller],
        "GET /api/billing/charge-items": [.admin, .frontDesk, .clinician, .biller],
        "PUT /api/billing/charge-items/{locationId}/{code}": [.admin, .biller],
        "GET /api/billing/fee-schedule": [.admin, .frontDesk, .clinician, .biller],
        "PUT /api/billing/fee-schedule": [.admin, .biller],
        "POST /api/billing/fee-schedule/import": [.admin, .biller],
        "GET /api/billing/tax-rules": [.admin, .biller, .accountant],
        "PUT /api/billing/tax-rules/{code}": [.admin],
        "POST /api/billing/encounters": [.admin, .clinician, .biller],
        "GET /api/billing/encounters": [.admin, .clinician, .biller],
        "GET /api/billing/encounters/{id}": [.admin, .clinician, .biller],
        "PUT /api/billing/encounters/{id}": [.admin, .clinician, .biller],
        "POST /api/billing/encounters/{id}/sign": [.admin, .clinician],
        "POST /api/billing/encounters/{id}/amend": [.admin, .clinician, .biller],
        "GET /api/billing/encounters/{id}/charges": [.admin, .clinician, .biller, .accountant],
        "POST /api/billing/encounters/{id}/scrub": [.admin, .clinician, .biller],
        "POST /api/billing/estimates": [.admin, .frontDesk, .biller],
        "GET /api/billing/codes": [.admin, .frontDesk, .clinician, .biller],
        "GET /api/billing/codes/{system}/{code}": [.admin, .frontDesk, .clinician, .biller],

        "GET /api/claims": [.admin, .biller, .accountant],
        "GET /api/claims/{id}": [.admin, .biller, .accountant],
        "POST /api/claims/{id}/transitions": [.admin, .biller],

        "GET /api/payments": [.admin, .frontDesk, .biller, .accountant],
        "GET /api/payments/{id}": [.admin, .frontDesk, .biller, .accountant],
        "POST /api/payments": [.admin, .frontDesk, .accountant],
        "POST /api/payments/{id}/refunds": [.admin, .accountant],

        "GET /api/reporting/summary": [.admin, .biller, .accountant],
        "GET /api/reporting/timeline": [.admin, .biller, .accountant, .auditor],

        "POST /api/identity/clients": [.admin],
        "GET /api/identity/organization": [.admin, .frontDesk, .clinician, .biller, .accountant, .auditor],
        "POST /api/identity/locations": [.admin],
        "POST /api/identity/users": [.admin],
        "GET /api/identity/users": [.admin],
        "GET /api/identity/users/{id}": [.admin],
        "PUT /api/identity/users/{id}/access": [.admin],
        "POST /api/identity/users/{id}/disable": [.admin],

        "GET /api/audit/events": [.admin, .auditor],

        "GET /api/events/dead-letters": [.admin],
        "POST /api/events/dead-letters/{eventId}/replay": [.admin],
    ]

    /// The matrix as a Markdown table (docs/permissions.md is this, checked by a test).
    public static func markdown(routes: [RouteDescriptor]) -> String {
        let roles = Role.allCases
        var lines = [
            "# Permissions", "",
            "Which roles may call which route: rendered from `AccessPolicy.matrix` (Sources/RCMServiceKit/AccessPolicy.swift),",
            "the one place access is decided. A test fails when this file and the matrix differ. Routes not listed need no token.",
            "", "| route | " + roles.map(\.rawValue).joined(separator: " | ") + " |",
            "| --- | " + roles.map { _ in "---" }.joined(separator: " | ") + " |",
        ]
        let keys = Set(routes.map(key)).subtracting(publicRoutes).sorted {
            let l = $0.split(separator: " "), r = $1.split(separator: " ")
            return (l[1], l[0]) < (r[1], r[0])
        }
        for route in keys {
            let allowed = matrix[route] ?? []
            lines.append(
                "| `\(route)` | " + roles.map { allowed.contains($0) ? "yes" : "" }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func key(_ route: RouteDescriptor) -> String { "\(route.method.rawValue) \(route.pattern)" }

    public static func allowedRoles(_ route: RouteDescriptor) -> Set<Role> { matrix[key(route)] ?? [] }
}

/// Puts every non-public route behind token verification and the permission matrix. The
/// organization of the request is the token's; a caller the matrix does not allow gets 403.
public struct AccessGuard: Sendable {
    let keys: any PublicKeySource
    let settings: TokenSettings
    let audit: AuditLog?
    /// Requests per caller (the token's subject), when limited.
    let limiter: RateLimiter?
    let verified = VerifiedTokens()

    public init(
        keys: any PublicKeySource, settings: TokenSettings, audit: AuditLog? = nil, limiter: RateLimiter? = nil
    ) {
        self.keys = keys
        self.settings = settings
        self.audit = audit
        self.limiter = limiter
    }

    /// Routes that are not audited: probes and public keys, which touch no data.
    static let unaudited: Set<String> = [
        "GET /health/live", "GET /health/ready", "GET /.well-known/jwks.json", "GET /metrics",
    ]

    /// What the audit trail says of a route, worked out once when the route is wrapped.
    struct AuditedRoute {
        /// `METHOD pattern`.
        let action: String
        /// The route's area, the resource type of its entries: `patients`, `billing/invoices`.
        let area: String

        init(_ route: RouteDescriptor) {
            action = AccessPolicy.key(route)
            area = route.pattern.split(separator: "/").filter { $0 != "api" && !$0.hasPrefix("{") }.joined(
                separator: "/")
        }
    }

    public func wrap(_ route: RouteDescriptor, _ handler: @escaping Handler) -> Handler {
        let audited = AuditedRoute(route)
        let key = audited.action
        if AccessPolicy.publicRoutes.contains(key) {
            if AccessGuard.unaudited.contains(key) { return handler }
            return { request, context in
                try run(audited, request, context, actor: "anonymous") { try handler(request, context) }
            }
        }
        let allowed = Set(AccessPolicy.allowedRoles(route).map(\.rawValue))
        let breakGlassAction = "BREAK-GLASS " + key
        return { request, context in
            var context = context
            var principal: Principal
            do {
                principal = try authenticate(request)
            } catch let problem as Problem {
                try? record(audited, request, context, actor: "anonymous", outcome: problem.status)
                throw problem
            }
            context.organizationId = principal.organizationId
            // The installation's own work (`sub: system`, signed only by the platform) is not limited.
            if let limiter, principal.userId != "system" {
                do {
                    try limiter.take(principal.userId)
                } catch let problem as Problem {
                    try? record(audited, request, context, actor: principal.userId, outcome: problem.status)
                    throw problem
                }
            }
            var action = key
            if let reason = request.headers["X-Break-Glass"] {
                // Emergency access beyond the caller's locations: explicit, for clinicians and
                // admins only, with a stated reason, and marked in the audit trail.
                guard !principal.roles.isDisjoint(with: AccessGuard.breakGlassRoles) else {
                    try? record(
                        audited, request, context, actor: principal.userId, outcome: 403, action: breakGlassAction)
                    throw Problem.forbidden("Only clinicians and admins may break the glass.")
                }
                guard reason.trimmingCharacters(in: .whitespaces).count >= 10, reason.count <= 200 else {
                    throw Problem.invalid(
                        pointer: "header:X-Break-Glass", "must state the emergency in 10 to 200 characters")
                }
                principal = Principal(
                    userId: principal.userId, organizationId: principal.organizationId, roles: principal.roles,
                    locations: [])
                action = breakGlassAction
            }
            context.principal = principal
            context.authorization = request.headers["Authorization"]
            return try run(audited, request, context, actor: principal.userId, action: action) {
                guard !principal.roles.isDisjoint(with: allowed) else {
                    throw Problem.forbidden("Your roles do not allow \(key).")
                }
                return try handler(request, context)
            }
        }
    }

    /// Runs `body` and records its outcome in the audit trail, whether it answered or threw.
    func run(
        _ route: AuditedRoute, _ request: HTTPRequest, _ context: RequestContext, actor: String,
        action: String? = nil, _ body: () throws -> HTTPResponse
    ) throws -> HTTPResponse {
        do {
            let response = try body()
            try record(route, request, context, actor: actor, outcome: response.status, action: action)
            return response
        } catch let problem as Problem {
            try? record(route, request, context, actor: actor, outcome: problem.status, action: action)
            throw problem
        } catch {
            try? record(route, request, context, actor: actor, outcome: 500, action: action)
            throw error
        }
    }

    static let breakGlassRoles: Set<String> = [Role.clinician.rawValue, Role.admin.rawValue]

    /// The entry for one request: the route's area as the resource type, and the record it names
    /// (a path parameter, or the invoice or patient a query asks about). Never patient data itself.
    func record(
        _ route: AuditedRoute, _ request: HTTPRequest, _ context: RequestContext, actor: String, outcome: Int,
        action: String? = nil
    ) throws {
        guard let audit else { return }
        let resourceId = context.parameters.values.first ?? request.query["invoiceId"] ?? request.query["patientId"]
        try audit.record(
            organizationId: context.organizationId, actor: actor, action: action ?? route.action,
            resourceType: route.area, resourceId: resourceId, outcome: outcome, ip: request.remoteAddress,
            userAgent: request.headers["User-Agent"] ?? "", requestId: context.requestId,
            deferred: request.isInProcessCall)
    }

    public func authenticate(_ request: HTTPRequest) throws -> Principal {
        #if RCM_BENCH_NO_AUTH
            // Benchmark builds only (bench/auth.sh): every request is an admin of the demo
            // organization, with no token verified and no permission checked against the token.
            return Principal(
                userId: "bench", organizationId: "org_demo", roles: Set(Role.allCases.map(\.rawValue)), locations: [])
        #else
            guard let header = request.headers["Authorization"], header.count > 7,
                header.prefix(7).lowercased() == "bearer "
            else { throw AccessGuard.unauthorized("A bearer access token is required.") }
            let token = String(header.dropFirst(7))
            let now = Int64(Date().timeIntervalSince1970)
            if let claims = verified.claims(for: token, now: now) {
                return Principal(
                    userId: claims.sub, organizationId: claims.org, roles: Set(claims.roles),
                    locations: claims.locations)
            }
            do {
                var claims: AccessClaims
                do {
                    claims = try JWT.verify(
                        token, keys: keys.publicKeys, issuer: settings.issuer, audience: settings.audience)
                } catch let invalid as JWT.Invalid where invalid.reason == "unknown key" {
                    keys.refresh()  // a key the identity service rotated in since the last fetch
                    claims = try JWT.verify(
                        token, keys: keys.publicKeys, issuer: settings.issuer, audience: settings.audience)
                }
                verified.remember(token, claims)
                return Principal(
                    userId: claims.sub, organizationId: claims.org, roles: Set(claims.roles),
                    locations: claims.locations)
            } catch let invalid as JWT.Invalid {
                throw AccessGuard.unauthorized("The access token is not valid (\(invalid.reason)).")
            }
        #endif
    }

    static func unauthorized(_ detail: String) -> Problem {
        Problem(
            type: "https://rcm.invalid/problems/unauthorized", title: "Unauthorized", status: 401, detail: detail,
            errors: [.init(pointer: "header:Authorization", message: detail)])
    }
}

/// Tokens whose signature and claims were already verified, until they expire. Keyed by the whole
/// token, signature included, so only the exact token that passed can be found here. An ES256
/// verification costs far more than a request's other work, and one request can pass several
/// services (billing asks patient and insurance in-process with the caller's token).
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: AccessClaims]>([:])
    static let capacity = 10_000

    func claims(for token: String, now: Int64) -> AccessClaims? {
        entries.withLock { entries in
            guard let claims = entries[token] else { return nil }
            guard claims.exp > now else {
                entries[token] = nil
                return nil
            }
            return claims
        }
    }

    func remember(_ token: String, _ claims: AccessClaims) {
        entries.withLock { entries in
            if entries.count >= VerifiedTokens.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }
}
