import Foundation
import RCMCore
import Synchronization

/// A token bucket per key (a client address, an account): `capacity` requests at once, refilled at
/// `perSecond`. Past it, 429 with `Retry-After`. In memory and per process: it slows guessing and
/// floods; it is not an accounting system.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: TimeInterval
    }

    let capacity: Double
    let perSecond: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(capacity: Int, perSecond: Double) {
        self.capacity = Double(capacity)
        self.perSecond = perSecond
    }

    /// Takes one token for `key`, or throws 429 saying when to come back.
    public func take(_ key: String, now: TimeInterval = Date().timeIntervalSince1970) throws {
        let wait: Double? = buckets.withLock { buckets in
            if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * perSecond)
            bucket.updated = now
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                buckets[key] = bucket
                return nil
            }
            buckets[key] = bucket
            return (1 - bucket.tokens) / perSecond
        }
        if let wait {
            var problem = Problem(
                type: "https://rcm.invalid/problems/rate-limited", title: "Too many requests", status: 429,
                detail: "Too many requests; retry in \(Int(wait.rounded(.up))) seconds.")
            problem.retryAfter = Int(wait.rounded(.up))
            throw problem
        }
    }
}
