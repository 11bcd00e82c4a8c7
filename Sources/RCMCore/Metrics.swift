import Foundation
import Synchronization

/// Counters and histograms kept in memory, and gauges read when scraped, rendered in the
/// Prometheus text exposition format (version 0.0.4) for `GET /metrics`.
public final class Metrics: Sendable {
    /// A metric's labels, in the order given.
    public typealias Labels = [(String, String)]

    /// One gauge value computed at scrape time.
    public struct Sample: Sendable {
        public var name: String
        public var labels: Labels
        public var value: Double

        public init(_ name: String, _ labels: Labels = [], _ value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }
    }

    /// A series: its name and flattened labels.
    struct Key: Hashable, Sendable {
        let name: String
        let labels: [String]
    }

    struct Histogram {
        var buckets: [UInt64]
        var count: UInt64 = 0
        var sum: Double = 0

        mutating func record(_ seconds: Double) {
            for (index, bound) in Metrics.latencyBuckets.enumerated() where seconds <= bound {
                buckets[index] += 1
            }
            count += 1
            sum += seconds
        }
    }

    /// Request-latency buckets, in seconds.
    public static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private let counters = Mutex<[Key: Double]>([:])
    private let histograms = Mutex<[Key: Histogram]>([:])
    private let routes = Mutex<[RouteSeries]>([])
    private let help = Mutex<[String: (type: String, text: String)]>([:])
    private let collectors = Mutex<[@Sendable () -> [Sample]]>([])

    public init() {}

    /// The process's registry.
    public static let shared = Metrics()

    public func describe(_ name: String, type: String, _ text: String) {
        help.withLock { $0[name] = (type, text) }
    }

    /// Adds `count` (events, requests, messages: never money) to a counter.
    public func increment(_ name: String, _ labels: Labels = [], by count: Double = 1) {
        let key = Key(name: name, labels: Metrics.flatten(labels))
        counters.withLock { $0[key, default: 0] += count }
    }

    /// Records in place (no copy of the bucket array per observation).
    public func observe(_ name: String, _ labels: Labels = [], seconds: Double) {
        let key = Key(name: name, labels: Metrics.flatten(labels))
        histograms.withLock { all in
            all[key, default: Histogram(buckets: Array(repeating: 0, count: Metrics.latencyBuckets.count))]
                .record(seconds)
        }
    }

    /// The request counter (by status) and latency histogram of one route, updated under the
    /// route's own lock: one lock and no series-key hashing per request (two locks on the
    /// registry's dictionaries, which every request thread shares, showed in profiles).
    public final class RouteSeries: Sendable {
        let counter: String
        let histogram: String
        let labels: [String]
        private let state = Mutex<(statuses: [(status: Int, count: UInt64)], latency: Histogram)>(
            ([], Histogram(buckets: Array(repeating: 0, count: Metrics.latencyBuckets.count))))

        init(counter: String, histogram: String, labels: [String]) {
            self.counter = counter
            self.histogram = histogram
            self.labels = labels
        }

        public func record(status: Int, seconds: Double) {
            state.withLock { state in
                state.latency.record(seconds)
                if let index = state.statuses.firstIndex(where: { $0.status == status }) {
                    state.statuses[index].count += 1
                } else {
                    state.statuses.append((status, 1))
                }
            }
        }

        var snapshot: (statuses: [(status: Int, count: UInt64)], latency: Histogram) { state.withLock { $0 } }
    }

    /// Registers a route's series: `counter{labels, status}` and the histogram `histogram{labels}`.
    public func routeSeries(counter: String, histogram: String, labels: Labels) -> RouteSeries {
        let series = RouteSeries(counter: counter, histogram: histogram, labels: Metrics.flatten(labels))
        routes.withLock { $0.append(series) }
        return series
    }

    /// Adds gauges computed when `/metrics` is read (backlogs, pool use, business totals).
    public func collect(_ collector: @escaping @Sendable () -> [Sample]) {
        collectors.withLock { $0.append(collector) }
    }

    /// The exposition text.
    public func render() -> String {
        var families: [String: [String]] = [:]
        func line(
            _ name: String, _ labels: [String], _ value: Double, suffix: String = "", extra: (String, String)? = nil
        )
            -> String
        {
            var pairs: [String] = []
            var index = 0
            while index + 1 < labels.count {
                pairs.append("\(labels[index])=\"\(Metrics.escape(labels[index + 1]))\"")
                index += 2
            }
            if let extra { pairs.append("\(extra.0)=\"\(extra.1)\"") }
            let rendered = pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}"
            return name + suffix + rendered + " " + Metrics.format(value)
        }
        for (key, value) in counters.withLock({ $0 }) {
            families[key.name, default: []].append(line(key.name, key.labels, value))
        }
        func histogramLines(_ name: String, _ labels: [String], _ histogram: Histogram) -> [String] {
            var lines: [String] = []
            for (index, bound) in Metrics.latencyBuckets.enumerated() {
                lines.append(
                    line(
                        name, labels, Double(histogram.buckets[index]), suffix: "_bucket",
                        extra: ("le", Metrics.format(bound))))
            }
            lines.append(line(name, labels, Double(histogram.count), suffix: "_bucket", extra: ("le", "+Inf")))
            lines.append(line(name, labels, histogram.sum, suffix: "_sum"))
            lines.append(line(name, labels, Double(histogram.count), suffix: "_count"))
            return lines
        }
        for (key, histogram) in histograms.withLock({ $0 }) {
            families[key.name, default: []] += histogramLines(key.name, key.labels, histogram)
        }
        for series in routes.withLock({ $0 }) {
            let snapshot = series.snapshot
            guard snapshot.latency.count > 0 else { continue }
            for (status, count) in snapshot.statuses {
                families[series.counter, default: []].append(
                    line(series.counter, series.labels + ["status", String(status)], Double(count)))
            }
            families[series.histogram, default: []] += histogramLines(series.histogram, series.labels, snapshot.latency)
        }
        for collector in collectors.withLock({ $0 }) {
            for sample in collector() {
                families[sample.name, default: []].append(
                    line(sample.name, Metrics.flatten(sample.labels), sample.value))
            }
        }
        let descriptions = help.withLock { $0 }
        var text = ""
        for name in families.keys.sorted() {
            if let description = descriptions[name] {
                text += "# HELP \(name) \(description.text)\n# TYPE \(name) \(description.type)\n"
            }
            text += families[name, default: []].sorted().joined(separator: "\n") + "\n"
        }
        return text
    }

    static func flatten(_ labels: Labels) -> [String] { labels.flatMap { [$0.0, $0.1] } }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
