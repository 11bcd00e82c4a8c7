import COpenSSL
import Foundation
import Synchronization

/// Generates opaque, time-ordered identifiers: a prefix, then 26 Crockford base-32 characters
/// (48 bits of milliseconds, 80 random bits), so ids sort by creation time like ULIDs.
public enum Identifier {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func make(_ prefix: String, at date: Date = Date()) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let (high, low64) = RandomPool.shared.twoWords()
        let low = UInt16(truncatingIfNeeded: low64)
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

/// Random words for identifiers, drawn from OpenSSL's DRBG 4 KiB at a time: a `getrandom` system
/// call per value, or a `RAND_bytes` call per identifier (about 5 µs each here: the DRBG's locking
/// and checks), cost several percent of a billed invoice, which makes about six identifiers.
final class RandomPool: Sendable {
    static let shared = RandomPool()
    private static let words = 512
    private let state = Mutex<(buffer: [UInt64], next: Int)>(([], 0))

    func twoWords() -> (UInt64, UInt64) {
        state.withLock { state in
            if state.next + 2 > state.buffer.count {
                state.buffer = RandomPool.draw()
                state.next = 0
            }
            defer { state.next += 2 }
            return (state.buffer[state.next], state.buffer[state.next + 1])
        }
    }

    /// OpenSSL's DRBG; the kernel's generator when OpenSSL cannot answer.
    private static func draw() -> [UInt64] {
        var buffer = [UInt64](repeating: 0, count: words)
        let drawn = buffer.withUnsafeMutableBytes { bytes in
            RAND_bytes(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(bytes.count)) == 1
        }
        if !drawn {
            var generator = SystemRandomNumberGenerator()
            for index in buffer.indices { buffer[index] = generator.next() }
        }
        return buffer
    }
}
