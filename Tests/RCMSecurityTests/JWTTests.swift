import Foundation
import RCMCore
import Synchronization
import Testing

@testable import RCMSecurity

@Suite("ES256 access tokens")
struct JWTTests {
    static let issuer = "https://rcm.invalid"
    static let audience = "rcm-api"

    func claims(now: Date = Date(), lifetime: Int64 = 900) -> AccessClaims {
        let seconds = Int64(now.timeIntervalSince1970)
        return AccessClaims(
            iss: Self.issuer, aud: Self.audience, sub: "usr_1", org: "org_demo", roles: ["biller"],
            locations: ["loc_andheri"], iat: seconds, exp: seconds + lifetime, jti: "jti-1")
    }

    func verify(_ token: String, _ key: SigningKey, now: Date = Date()) throws -> AccessClaims {
        try JWT.verify(token, keys: [key.kid: key.publicKey], issuer: Self.issuer, audience: Self.audience, now: now)
    }

    func reason(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let invalid as JWT.Invalid {
            return invalid.reason
        } catch {
            return "\(error)"
        }
    }

    @Test("a signed token verifies and carries its claims; the kid is the key's thumbprint")
    func roundTrip() throws {
        let key = try SigningKey.generate()
        let token = try JWT.sign(claims(), with: key)
        #expect(try verify(token, key) == claims(now: Date(timeIntervalSince1970: TimeInterval(claims().iat))))
        let header =
            try JSONSerialization.jsonObject(with: Data(Base64URL.decode(token.split(separator: ".")[0])!))
            as? [String: String]
        #expect(header == ["alg": "ES256", "typ": "JWT", "kid": key.kid])
        #expect(key.kid == SigningKey.PublicKey(jwk: key.publicKey.jwk)?.thumbprint)
        #expect(try SigningKey(pem: key.pem).kid == key.kid)
    }

    @Test("attacks are refused before or at the signature")
    func attacks() throws {
        let key = try SigningKey.generate()
        let other = try SigningKey.generate()
        let good = try JWT.sign(claims(), with: key)
        let parts = good.split(separator: ".").map(String.init)
        func header(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }

        // alg: none, with and without a signature.
        let none = header(#"{"alg":"none","typ":"JWT","kid":"\#(key.kid)"}"#) + "." + parts[1] + "."
        #expect(reason { _ = try verify(none, key) } == "algorithm none is not allowed")
        #expect(reason { _ = try verify(none + "x", key) } == "algorithm none is not allowed")
        // HS256 keyed with the public key (the classic confusion attack).
        let hs = header(#"{"alg":"HS256","typ":"JWT","kid":"\#(key.kid)"}"#) + "." + parts[1] + ".c2ln"
        #expect(reason { _ = try verify(hs, key) } == "algorithm HS256 is not allowed")
        // Signed by another key, under our kid.
        let forged = try JWT.sign(claims(), with: other).split(separator: ".").map(String.init)
        #expect(reason { _ = try verify(parts[0] + "." + parts[1] + "." + forged[2], key) } == "bad signature")
        // Claims changed after signing.
        var changed = claims()
        changed.roles = ["admin"]
        let tampered = parts[0] + "." + Base64URL.encode(try JSON.encode(changed)) + "." + parts[2]
        #expect(reason { _ = try verify(tampered, key) } == "bad signature")
        // A key the verifier does not know.
        #expect(reason { _ = try verify(try JWT.sign(claims(), with: other), key) } == "unknown key")
        #expect(reason { _ = try verify("a.b", key) } == "not a compact JWS")
    }

    @Test("issuer, audience and times are checked")
    func claimsChecked() throws {
        let key = try SigningKey.generate()
        var wrongAudience = claims()
        wrongAudience.aud = "someone-else"
        #expect(reason { _ = try verify(try JWT.sign(wrongAudience, with: key), key) } == "wrong audience")
        var wrongIssuer = claims()
        wrongIssuer.iss = "https://evil.invalid"
        #expect(reason { _ = try verify(try JWT.sign(wrongIssuer, with: key), key) } == "wrong issuer")
        let expired = claims(now: Date().addingTimeInterval(-3600))
        #expect(reason { _ = try verify(try JWT.sign(expired, with: key), key) } == "expired")
        var later = claims()
        later.nbf = later.iat + 600
        #expect(reason { _ = try verify(try JWT.sign(later, with: key), key) } == "not yet valid")
    }
}

extension JWTTests {
    @Test("keys sign from many threads at once, each signature valid")
    func concurrentSigning() throws {
        let shared = try SigningKey.generate()
        let own = try (0..<4).map { _ in try SigningKey.generate() }
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let key = worker < 4 ? own[worker] : shared
            for index in 0..<200 {
                let data = Array("message \(worker) \(index)".utf8)
                guard let signature = try? key.sign(data), key.publicKey.verify(signature, of: data) else {
                    failures.withLock { $0 += 1 }
                    continue
                }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }
}

@Suite("Passwords")
struct PasswordTests {
    @Test("Argon2id hashes verify, differ by salt, and record their parameters")
    func argon2() throws {
        let hasher = PasswordHasher()
        let first = try hasher.hash("correct horse battery staple")
        let second = try hasher.hash("correct horse battery staple")
        #expect(first.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(first != second)
        #expect(hasher.verify("correct horse battery staple", against: first))
        #expect(!hasher.verify("correct horse battery stapl", against: first))
        #expect(!hasher.verify("anything", against: "not a hash"))
    }

    @Test("the policy names what is wrong")
    func policy() {
        #expect(PasswordPolicy.problems(with: "short", email: "a@b.c").contains("must be at least 12 characters"))
        #expect(
            PasswordPolicy.problems(with: "aaaaaaaaaaaaaaaa", email: "a@b.c") == [
                "must use at least 5 different characters"
            ])
        #expect(
            PasswordPolicy.problems(with: "priya.nair-2026!", email: "priya.nair@example.com") == [
                "must not contain the account's email name"
            ])
        #expect(PasswordPolicy.problems(with: "violet-ledger-42-river", email: "asha@example.com").isEmpty)
    }
}
