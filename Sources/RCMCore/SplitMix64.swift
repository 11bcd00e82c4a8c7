import Synchronization

/// SplitMix64: a small, fast generator whose sequence depends only on its seed (the same on every
/// platform and Swift version, unlike the standard library's `random(in:)` algorithms). For
/// reproducible test data and fuzzing, and — through `mix` — for ids that must be unique, not
/// secret.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    /// SplitMix64's finaliser: a bijection of 64-bit words that scatters neighbouring inputs.
    public static func mix(_ word: UInt64) -> UInt64 {
        var z = word
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random-looking 64-bit words, each different from every other one this process makes, without a
/// system call per word: SplitMix64 over a seed drawn once per process and a shared counter
/// (request ids and trace ids; a `getrandom` call per request showed in profiles).
public enum UniqueWords {
    /// 64 random bits drawn once per process.
    public static let processSeed: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    private static let counter = Atomic<UInt64>(0)

    public static func next() -> UInt64 {
        SplitMix64.mix(processSeed &+ counter.add(1, ordering: .relaxed).newValue &* SplitMix64.increment)
    }
}
