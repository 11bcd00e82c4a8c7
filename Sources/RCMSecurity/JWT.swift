import Foundation
import RCMCore

/// The claims of an access token.
public struct AccessClaims: Codable, Sendable, Equatable {
    public var iss: String
    public var aud: String
    public var sub: String
    public var org: String
    public var roles: [String]
    /// Locations the user is limited to; empty means every location of the organization.
    public var locations: [String]
    public var iat: Int64
    public var nbf: Int64?
    public var exp: Int64
    public var jti: String

    public init(
        iss: String, aud: String, sub: String, org: String, roles: [String], locations: [String], iat: Int64,
        nbf: Int64? = nil, exp: Int64, jti: String
    ) {
        self.iss = iss
        self.aud = aud
        self.sub = sub
        self.org = org
        self.roles = roles
        self.locations = locations
        self.iat = iat
        self.nbf = nbf
        self.exp = exp
        self.jti = jti
    }
}

/// JSON Web Tokens signed with ES256 and nothing else: the header must say `alg: ES256` and
/// `typ: JWT` and name a `kid` the verifier knows. `none`, HS256 (including HMAC keyed with the
/// public key) and every other algorithm are refused before any signature is looked at.
public enum JWT {
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "invalid token: \(reason)" }
    }

    struct Header: Codable {
        let alg: String
        let typ: String?
        let kid: String?
    }

    public static func sign(_ claims: AccessClaims, with key: SigningKey) throws -> String {
        let header = #"{"alg":"ES256","typ":"JWT","kid":"\#(key.kid)"}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(try JSON.encode(claims))
        return input + "." + Base64URL.encode(try key.sign(Array(input.utf8)))
    }

    /// Verifies signature, algorithm, key, issuer, audience and times (with `leeway` seconds of clock skew).
    public static func verify(
        _ token: String, keys: [String: SigningKey.PublicKey], issuer: String, audience: String,
        now: Date = Date(), leeway: Int64 = 30
    ) throws -> AccessClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count <= 8192 else { throw Invalid(reason: "not a compact JWS") }
        guard let headerBytes = Base64URL.decode(parts[0]),
            let header = try? JSON.decode(Header.self, from: headerBytes)
        else { throw Invalid(reason: "unreadable header") }
        guard header.alg == "ES256" else { throw Invalid(reason: "algorithm \(header.alg) is not allowed") }
        guard header.typ == nil || header.typ == "JWT" else { throw Invalid(reason: "type is not JWT") }
        guard let kid = header.kid, let key = keys[kid] else { throw Invalid(reason: "unknown key") }
        guard let signature = Base64URL.decode(parts[2]), signature.count == 64,
            key.verify(signature, of: Array((parts[0] + "." + parts[1]).utf8))
        else { throw Invalid(reason: "bad signature") }
        guard let payload = Base64URL.decode(parts[1]), let claims = try? JSON.decode(AccessClaims.self, from: payload)
        else { throw Invalid(reason: "unreadable claims") }
        let seconds = Int64(now.timeIntervalSince1970)
        guard claims.iss == issuer else { throw Invalid(reason: "wrong issuer") }
        guard claims.aud == audience else { throw Invalid(reason: "wrong audience") }
        guard claims.exp + leeway > seconds else { throw Invalid(reason: "expired") }
        guard (claims.nbf ?? claims.iat) - leeway <= seconds else { throw Invalid(reason: "not yet valid") }
        return claims
    }
}
