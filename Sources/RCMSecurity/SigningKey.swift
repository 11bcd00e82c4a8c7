import CSecurityShim
import Foundation
import RCMCore

/// An ES256 (ECDSA P-256) key that signs access tokens. The key id is the RFC 7638 thumbprint of
/// its public JWK, so every verifier derives the same `kid` from the public key alone.
public struct SigningKey: Sendable {
    public let kid: String
    let privatePEM: String
    let privateKey: LoadedKey
    public let publicKey: PublicKey

    /// The verifying half, all a service needs to check tokens.
    public struct PublicKey: Sendable, Equatable {
        public let x: [UInt8]
        public let y: [UInt8]

        public init(x: [UInt8], y: [UInt8]) {
            self.x = x
            self.y = y
        }

        /// RFC 7638 thumbprint: SHA-256 of the canonical JWK (crv, kty, x, y in that order).
        public var thumbprint: String {
            let canonical = #"{"crv":"P-256","kty":"EC","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
            return Base64URL.encode(Digest.sha256(Array(canonical.utf8)))
        }

        public func verify(_ signature: [UInt8], of data: [UInt8]) -> Bool {
            guard signature.count == 64, x.count == 32, y.count == 32 else { return false }
            return rcm_es256_verify(x, y, data, data.count, signature) == 1
        }

        /// The public JWK (RFC 7517) with its `kid`.
        public var jwk: [String: String] {
            [
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": thumbprint,
                "x": Base64URL.encode(x), "y": Base64URL.encode(y),
            ]
        }

        public init?(jwk: [String: String]) {
            guard jwk["kty"] == "EC", jwk["crv"] == "P-256", let x = jwk["x"].flatMap(Base64URL.decode),
                let y = jwk["y"].flatMap(Base64URL.decode), x.count == 32, y.count == 32
            else { return nil }
            self.init(x: x, y: y)
        }
    }

    public static func generate() throws -> SigningKey {
        var output: UnsafeMutablePointer<CChar>?
        guard rcm_es256_generate(&output) > 0, let output else { throw SecurityError("key generation failed") }
        defer { rcm_free(output) }
        return try SigningKey(pem: String(cString: output))
    }

    public init(pem: String) throws {
        var x = [UInt8](repeating: 0, count: 32)
        var y = [UInt8](repeating: 0, count: 32)
        guard rcm_es256_public_xy(pem, &x, &y) == 0 else { throw SecurityError("not a P-256 private key") }
        guard let loaded = rcm_es256_load(pem) else { throw SecurityError("not a P-256 private key") }
        privatePEM = pem
        privateKey = LoadedKey(pointer: loaded)
        publicKey = PublicKey(x: x, y: y)
        kid = publicKey.thumbprint
    }

    /// The private key parsed once, freed with the last copy of this key. Signing holds the key's
    /// lock: signing is rare (logins, audit checkpoints), and one OpenSSL key object is then never
    /// used by two threads at once.
    final class LoadedKey: @unchecked Sendable {
        private let pointer: UnsafeMutableRawPointer
        private let lock = NSLock()

        init(pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
        deinit { rcm_es256_free(pointer) }

        func sign(_ data: [UInt8], into signature: inout [UInt8]) -> Bool {
            lock.lock()
            defer { lock.unlock() }
            return rcm_es256_sign_loaded(pointer, data, data.count, &signature) == 0
        }
    }

    public var pem: String { privatePEM }

    public func sign(_ data: [UInt8]) throws -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 64)
        guard privateKey.sign(data, into: &signature) else {
            throw SecurityError("signing failed")
        }
        return signature
    }
}
