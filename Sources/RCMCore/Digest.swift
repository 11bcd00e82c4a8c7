import COpenSSL

/// SHA-256 through OpenSSL libcrypto's block functions (`rcm_sha256` in the COpenSSL shim: the
/// EVP one-shot sets a context up, under the provider's locks, on every call).
public enum Digest {
    public static func sha256<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var output = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        func digest(_ buffer: UnsafeRawBufferPointer) {
            output.withUnsafeMutableBufferPointer { out in
                rcm_sha256(buffer.baseAddress, buffer.count, out.baseAddress)
            }
        }
        if bytes.withContiguousStorageIfAvailable({ digest(UnsafeRawBufferPointer($0)) }) == nil {
            Array(bytes).withUnsafeBytes(digest)
        }
        return output
    }

    public static func sha256Hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Hex.encode(sha256(bytes))
    }
}
