/// Lowercase hexadecimal text of bytes, written directly (no `String(format:)`, which costs a
/// formatter call per byte and showed up on every request's trace ids).
public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text = [UInt8]()
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The 16 hex digits of a 64-bit word, most significant first.
    public static func encode(_ word: UInt64) -> String {
        encode((0..<8).reversed().map { UInt8(truncatingIfNeeded: word >> (UInt64($0) * 8)) })
    }
}
