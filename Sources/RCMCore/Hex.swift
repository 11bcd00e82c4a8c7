/// Lowercase hexadecimal text of bytes, written directly (no `String(format:)`, which costs a
/// formatter call per byte and showed up on every request's trace ids). Inlinable, so that callers
/// in other modules get it specialized for their byte collection (unspecialized, the generic
/// iteration cost more than the encoding).
public enum Hex {
    @inlinable
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(unsafeUninitializedCapacity: bytes.count * 2) { text in
            var index = 0
            for byte in bytes {
                text[index] = digit(byte >> 4)
                text[index + 1] = digit(byte & 15)
                index += 2
            }
            return index
        }
    }

    /// Writes the 16 hex digits of `word` into `text` from `offset`.
    @inlinable
    public static func write(_ word: UInt64, into text: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for index in 0..<16 {
            text[offset + index] = digit(UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * index)) & 15)
        }
    }

    /// The ASCII digit of a value 0...15.
    @inlinable
    static func digit(_ value: UInt8) -> UInt8 { value < 10 ? 48 + value : 87 + value }
}
