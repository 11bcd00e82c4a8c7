import COpenSSL
import Foundation

/// Generates opaque, time-ordered identifiers: a prefix, then 26 Crockford base-32 characters
/// (48 bits of milliseconds, 80 random bits), so ids sort by creation time like ULIDs.
public enum Identifier {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func make(_ prefix: String, at date: Date = Date()) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        // OpenSSL's DRBG (seeded by the kernel, no system call per draw); the kernel's generator
        // when OpenSSL cannot answer. `SystemRandomNumberGenerator` makes a `getrandom` call per
        // value, two per identifier: a dozen system calls per billed invoice.
        var words: (UInt64, UInt64) = (0, 0)
        let drawn = withUnsafeMutableBytes(of: &words) { bytes in
            RAND_bytes(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(bytes.count)) == 1
        }
        if !drawn {
            var generator = SystemRandomNumberGenerator()
            words = (generator.next(), generator.next())
        }
        let high = words.0
        let low = UInt16(truncatingIfNeeded: words.1)
        var chars = [UInt8](repeating: 0, count: 26)
        var time = millis
        for index in stride(from: 9, through: 0, by: -1) {
            chars[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        // 80 random bits: 64 from `high`, 16 from `low`.
        var random = high
        for index in stride(from: 25, through: 13, by: -1) {
            chars[index] = alphabet[Int(random & 31)]
            random >>= 5
        }
        let rest = (UInt32(low) << 1) | UInt32(random & 1)
        var remaining = rest
        for index in stride(from: 12, through: 10, by: -1) {
            chars[index] = alphabet[Int(remaining & 31)]
            remaining >>= 5
        }
        return prefix + "_" + String(decoding: chars, as: UTF8.self)
    }
}
