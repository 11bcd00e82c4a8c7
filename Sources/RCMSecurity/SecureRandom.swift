import CSecurityShim

/// Random bytes from OpenSSL's CSPRNG, for salts, tokens and keys.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let status = buffer.withUnsafeMutableBufferPointer { rcm_random_bytes($0.baseAddress, count) }
        precondition(status == 0, "the system's random number generator failed")
        return buffer
    }

    /// An opaque token: 32 random bytes, base64url.
    public static func token() -> String { Base64URL.encode(bytes(32)) }
}
