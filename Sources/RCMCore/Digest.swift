import COpenSSL

/// SHA-256 through OpenSSL libcrypto.
public enum Digest {
    /// OpenSSL 3 looks an algorithm up by name for every one-shot call that does not name a
    /// fetched one (`SHA256()` and `EVP_sha256()` do): fetched once here, the lookup is not
    /// repeated.
    nonisolated(unsafe) private static let sha256Method = EVP_MD_fetch(nil, "SHA256", nil)

    public static func sha256<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var output = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        func digest(_ buffer: UnsafeRawBufferPointer) {
            output.withUnsafeMutableBufferPointer { out in
                _ = EVP_Digest(
                    buffer.baseAddress, buffer.count, out.baseAddress, nil, sha256Method ?? EVP_sha256(), nil)
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
