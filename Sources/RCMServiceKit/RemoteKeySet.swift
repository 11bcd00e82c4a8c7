import Foundation
import RCMCore
import RCMHTTP
import RCMSecurity
import Synchronization

/// Where a service finds the public keys that verify access tokens.
public protocol PublicKeySource: Sendable {
    var publicKeys: [String: SigningKey.PublicKey] { get }
    /// Called when a token names a key not known yet (a rotation elsewhere); may fetch again.
    func refresh()
}

extension KeyStore: PublicKeySource {
    public func refresh() {}
}

/// The identity service's JWKS, fetched over HTTP by processes that do not host identity (the
/// distributed topology), so that no service but identity holds a private signing key. This
/// process's own keys (for its own work, such as loading demo data) are accepted too.
public final class RemoteKeySet: PublicKeySource {
    let services: ServiceDirectory
    let local: KeyStore
    private let fetched = Mutex<(keys: [String: SigningKey.PublicKey], at: Date)>(([:], .distantPast))
    /// Unknown keys trigger at most one fetch per this interval.
    let minimumInterval: TimeInterval

    /// `services` resolves the identity service when keys are first needed (after start-up).
    public init(services: ServiceDirectory, local: KeyStore, minimumInterval: TimeInterval = 30) {
        self.services = services
        self.local = local
        self.minimumInterval = minimumInterval
    }

    public var publicKeys: [String: SigningKey.PublicKey] {
        if fetched.withLock({ $0.keys.isEmpty }) { refresh() }
        return local.publicKeys.merging(fetched.withLock { $0.keys }) { mine, _ in mine }
    }

    public func refresh() {
        let due = fetched.withLock { Date().timeIntervalSince($0.at) >= minimumInterval || $0.keys.isEmpty }
        guard due else { return }
        struct JWKS: Decodable { let keys: [[String: String]] }
        let context = RequestContext(requestId: HTTPApplication.newRequestId())
        guard let client = try? services.client(for: "identity"),
            let set = try? client.get(JWKS.self, "/.well-known/jwks.json", context: context)
        else {
            fetched.withLock { $0.at = Date() }
            return
        }
        var keys: [String: SigningKey.PublicKey] = [:]
        for jwk in set.keys {
            guard let key = SigningKey.PublicKey(jwk: jwk), jwk["kid"] == key.thumbprint else { continue }
            keys[key.thumbprint] = key
        }
        fetched.withLock { $0 = (keys, Date()) }
    }
}
