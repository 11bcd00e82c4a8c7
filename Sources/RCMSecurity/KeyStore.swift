import Foundation
import Synchronization

/// The token-signing keys of an installation, kept as PEM files (mode 0600) in a directory outside
/// the databases. The newest key signs; every key in the directory still verifies, so a rotation
/// (`rotate()`) logs nobody out: remove an old file only after its tokens have expired.
public final class KeyStore: Sendable {
    public let directory: String
    private let keys: Mutex<[SigningKey]>

    /// Loads the keys in `directory`, creating the directory and a first key when there is none.
    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var loaded: [(Date, SigningKey)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".pem") {
            let path = directory + "/" + name
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            let created = (try? FileManager.default.attributesOfItem(atPath: path)[.creationDate] as? Date) ?? nil
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
            loaded.append((created ?? modified ?? .distantPast, try SigningKey(pem: pem)))
        }
        keys = Mutex(loaded.sorted { $0.0 < $1.0 }.map(\.1))
        if keys.withLock({ $0.isEmpty }) { try rotate() }
    }

    /// The key that signs new tokens.
    public var active: SigningKey {
        keys.withLock { $0[$0.count - 1] }
    }

    /// Every key that verifies, by `kid`.
    public var publicKeys: [String: SigningKey.PublicKey] {
        keys.withLock { Dictionary($0.map { ($0.kid, $0.publicKey) }, uniquingKeysWith: { first, _ in first }) }
    }

    /// Adds a new signing key; tokens signed by the older keys stay valid.
    @discardableResult
    public func rotate() throws -> SigningKey {
        let key = try SigningKey.generate()
        let path = directory + "/" + key.kid + ".pem"
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600])
        else { throw SecurityError("cannot write \(path)") }
        keys.withLock { $0.append(key) }
        return key
    }
}

/// Who issues tokens, for whom, and for how long.
public struct TokenSettings: Sendable {
    public var issuer = "rcm"
    public var audience = "rcm-api"
    public var accessLifetime: Int64 = 15 * 60
    public var refreshLifetime: Int64 = 30 * 24 * 3600

    public init() {}
}
