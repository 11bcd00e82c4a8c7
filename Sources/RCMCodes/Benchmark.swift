/// In-process search latency over the full ICD-10-CM set (`rcm codes-bench`, used by
/// bench/codes.sh): no HTTP, no JSON, just `CodeIndex.search`.
public enum CodeSearchBenchmark {
    public struct Report: Sendable, CustomStringConvertible {
        public var loadMilliseconds: Double
        public var codes: Int
        public var searches: Int
        public var p50Microseconds: Double
        public var p99Microseconds: Double
        public var maxMicroseconds: Double
        public var meanMicroseconds: Double
        public var results: Int

        public var description: String {
            func format(_ value: Double) -> String { String(Double((value * 10).rounded()) / 10) }
            return """
                load: \(format(loadMilliseconds)) ms (\(codes) codes)
                searches: \(searches), results: \(results)
                in-process search latency: p50 \(format(p50Microseconds)) us, p99 \(format(p99Microseconds)) us, \
                max \(format(maxMicroseconds)) us, mean \(format(meanMicroseconds)) us
                """
        }
    }

    /// Loads ICD-10-CM (timed), then runs every query `rounds` times and times each search.
    public static func run(queries: [String], rounds: Int, limit: Int = 20) -> Report {
        let clock = ContinuousClock()
        var index: CodeIndex?
        let load = clock.measure { index = ICD10CM.shared }
        guard let index, !queries.isEmpty else {
            return Report(
                loadMilliseconds: 0, codes: 0, searches: 0, p50Microseconds: 0, p99Microseconds: 0, maxMicroseconds: 0,
                meanMicroseconds: 0, results: 0)
        }
        for query in queries { _ = index.search(query, limit: limit) }  // warm up
        var timings: [Double] = []
        timings.reserveCapacity(queries.count * rounds)
        var results = 0
        for _ in 0..<max(1, rounds) {
            for query in queries {
                var count = 0
                let elapsed = clock.measure { count = index.search(query, limit: limit).count }
                results += count
                timings.append(microseconds(elapsed))
            }
        }
        timings.sort()
        func percentile(_ p: Double) -> Double { timings[min(timings.count - 1, Int(Double(timings.count) * p))] }
        return Report(
            loadMilliseconds: microseconds(load) / 1000, codes: index.count, searches: timings.count,
            p50Microseconds: percentile(0.50), p99Microseconds: percentile(0.99), maxMicroseconds: timings.last ?? 0,
            meanMicroseconds: timings.reduce(0, +) / Double(timings.count), results: results)
    }

    static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1_000_000 + Double(duration.components.attoseconds) / 1e12
    }
}
