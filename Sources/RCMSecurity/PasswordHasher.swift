import CSecurityShim
import Foundation

/// Argon2id password hashes (libargon2) in the PHC string format, which records its parameters,
/// so they can be raised later without invalidating stored hashes.
public struct PasswordHasher: Sendable {
    /// Iterations, memory in KiB and lanes. The default is OWASP's recommended minimum for Argon2id
    /// (19 MiB, 2 iterations, 1 lane).
    public var iterations: UInt32 = 2
    public var memoryKiB: UInt32 = 19 * 1024
    public var parallelism: UInt32 = 1

    public init() {}

    public func hash(_ password: String) throws -> String {
        let salt = SecureRandom.bytes(16)
        let length = argon2_encodedlen(iterations, memoryKiB, parallelism, UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let bytes = Array(password.utf8)
        let status = bytes.withUnsafeBytes { passwordBuffer in
            salt.withUnsafeBytes { saltBuffer in
                argon2id_hash_encoded(
                    iterations, memoryKiB, parallelism, passwordBuffer.baseAddress, bytes.count, saltBuffer.baseAddress,
                    salt.count, 32, &encoded, length)
            }
        }
        guard status == ARGON2_OK.rawValue else { throw SecurityError("password hashing failed (\(status))") }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when `password` matches `encoded` (in constant time, inside libargon2).
    public func verify(_ password: String, against encoded: String) -> Bool {
        let bytes = Array(password.utf8)
        return bytes.withUnsafeBytes { argon2id_verify(encoded, $0.baseAddress, bytes.count) } == ARGON2_OK.rawValue
    }
}

/// What a password must be: long enough to resist guessing, not the account's own name.
public enum PasswordPolicy {
    public static let minimumLength = 12
    public static let maximumLength = 128

    /// Reasons the password is refused; empty when it is acceptable.
    public static func problems(with password: String, email: String) -> [String] {
        var problems: [String] = []
        if password.count < minimumLength { problems.append("must be at least \(minimumLength) characters") }
        if password.count > maximumLength { problems.append("must be at most \(maximumLength) characters") }
        let lowered = password.lowercased()
        let local = email.lowercased().split(separator: "@").first.map(String.init) ?? ""
        if !local.isEmpty && local.count >= 4 && lowered.contains(local) {
            problems.append("must not contain the account's email name")
        }
        if Set(password).count < 5 { problems.append("must use at least 5 different characters") }
        return problems
    }
}

public struct SecurityError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
