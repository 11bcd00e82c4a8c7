import CSecurityShim
import Foundation
import RCMCore
import Synchronization

/// Field-level encryption of identifiers and sensitive PHI: AES-256-GCM with a key id on every
/// ciphertext, several keys at once (the newest encrypts, all decrypt), and a keyed blind index
/// (HMAC-SHA-256) for exact-match search. Keys come from a key file or the environment, never from
/// a database.
///
/// Ciphertext text form: `enc1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`; the field's name is
/// authenticated with it, so a value cannot be moved to another column unnoticed.
public final class FieldEncryption: Sendable {
    public struct Key: Sendable {
        public let id: String
        let bytes: [UInt8]
    }

    private let keys: Mutex<[Key]>
    let indexKey: [UInt8]
    public let file: String?

    /// Keys from `RCM_DATA_KEYS` (`kid:base64,kid:base64,…`, newest last) when set; otherwise from
    /// the JSON file at `file`, which is created with one key (mode 0600) when it does not exist.
    public init(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let value = environment["RCM_DATA_KEYS"], !value.isEmpty {
            let keys = try value.split(separator: ",").map { pair -> Key in
                let parts = pair.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let bytes = Data(base64Encoded: String(parts[1])).map(Array.init),
                    bytes.count == 32
                else { throw SecurityError("RCM_DATA_KEYS must be kid:base64(32 bytes),…") }
                return Key(id: String(parts[0]), bytes: bytes)
            }
            guard !keys.isEmpty else { throw SecurityError("RCM_DATA_KEYS names no key") }
            self.keys = Mutex(keys)
            indexKey = Array(Digest256.hmac(key: keys[0].bytes, Array("rcm blind index".utf8)))
            self.file = nil
            return
        }
        self.file = file
        if !FileManager.default.fileExists(atPath: file) {
            try FieldEncryption.write(
                [Key(id: "k1", bytes: SecureRandom.bytes(32))], index: SecureRandom.bytes(32), to: file)
        }
        let stored = try JSONDecoder().decode(KeyFile.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        keys = Mutex(
            try stored.keys.map { entry in
                guard let bytes = Data(base64Encoded: entry.key).map(Array.init), bytes.count == 32 else {
                    throw SecurityError("bad key \(entry.id) in \(file)")
                }
                return Key(id: entry.id, bytes: bytes)
            })
        guard let index = Data(base64Encoded: stored.index).map(Array.init), index.count == 32 else {
            throw SecurityError("bad blind-index key in \(file)")
        }
        indexKey = index
    }

    struct KeyFile: Codable {
        struct Entry: Codable {
            let id: String
            let key: String
        }
        let keys: [Entry]
        /// The blind-index key stays the same across rotations, so indexes stay valid.
        let index: String
    }

    static func write(_ keys: [Key], index: [UInt8], to file: String) throws {
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let content = KeyFile(
            keys: keys.map { .init(id: $0.id, key: Data($0.bytes).base64EncodedString()) },
            index: Data(index).base64EncodedString())
        let data = try JSONEncoder().encode(content)
        let temporary = file + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw SecurityError("cannot write \(file)") }
        guard rename(temporary, file) == 0 else { throw SecurityError("cannot replace \(file)") }  // atomic
    }

    public var activeKeyId: String { keys.withLock { $0[$0.count - 1].id } }

    /// Adds a new key that encrypts from now on (the file's keys only); returns its id.
    @discardableResult
    public func addKey() throws -> String {
        guard let file else { throw SecurityError("keys from RCM_DATA_KEYS are rotated by changing the variable") }
        let key = Key(
            id: "k\(keys.withLock { $0.count } + 1)-\(Int(Date().timeIntervalSince1970))", bytes: SecureRandom.bytes(32)
        )
        let all = keys.withLock { keys -> [Key] in
            keys.append(key)
            return keys
        }
        try FieldEncryption.write(all, index: indexKey, to: file)
        return key.id
    }

    public func encrypt(_ plaintext: String, field: String) throws -> String {
        let key = keys.withLock { $0[$0.count - 1] }
        let nonce = SecureRandom.bytes(12)
        let input = Array(plaintext.utf8)
        let aad = Array(field.utf8)
        var output = [UInt8](repeating: 0, count: input.count)
        var tag = [UInt8](repeating: 0, count: 16)
        guard rcm_aes_gcm_seal(key.bytes, nonce, aad, aad.count, input, input.count, &output, &tag) == 0 else {
            throw SecurityError("encryption failed")
        }
        return "enc1." + key.id + "." + Base64URL.encode(nonce + output + tag)
    }

    public func decrypt(_ text: String, field: String) throws -> String {
        let parts = text.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "enc1", let blob = Base64URL.decode(parts[2]), blob.count >= 28 else {
            throw SecurityError("not an encrypted value")
        }
        guard let key = keys.withLock({ $0.first { $0.id == parts[1] } }) else {
            throw SecurityError("no key \(parts[1]) to decrypt with")
        }
        let nonce = Array(blob[0..<12])
        let ciphertext = Array(blob[12..<(blob.count - 16)])
        let tag = Array(blob[(blob.count - 16)...])
        let aad = Array(field.utf8)
        var output = [UInt8](repeating: 0, count: ciphertext.count)
        guard rcm_aes_gcm_open(key.bytes, nonce, aad, aad.count, ciphertext, ciphertext.count, tag, &output) == 0 else {
            throw SecurityError("a ciphertext failed authentication")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// True when `text` is encrypted with a key other than the newest (a candidate for re-encryption).
    public func needsRotation(_ text: String) -> Bool {
        let parts = text.split(separator: ".", maxSplits: 2)
        return parts.count == 3 && parts[1] != activeKeyId
    }

    /// The keyed blind index of a value for exact-match search (normalised: trimmed, lower case,
    /// and for phone numbers digits only when `digitsOnly`).
    public func blindIndex(_ value: String, field: String, digitsOnly: Bool = false) -> String {
        var normal = value.trimmingCharacters(in: .whitespaces).lowercased()
        if digitsOnly { normal = normal.filter(\.isNumber) }
        let mac = Digest256.hmac(key: indexKey, Array((field + "\u{1F}" + normal).utf8))
        return Hex.encode(mac)
    }
}

enum Digest256 {
    static func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = rcm_hmac_sha256(key, key.count, data, data.count, &out)
        return out
    }
}
