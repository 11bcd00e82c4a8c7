import ClaimService
import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMStorage

/// What `GET /metrics` reports: requests and their latency by route and status, event delivery,
/// outbox backlog and age, dead letters, consumer lag, database pool use, and business totals
/// (invoices, claims by status, payments), each read from the owning service's database.
enum PlatformMetrics {
    static func describe(_ metrics: Metrics) {
        metrics.describe("rcm_http_requests_total", type: "counter", "HTTP requests by route, method and status.")
        metrics.describe(
            "rcm_http_request_duration_seconds", type: "histogram", "Time to answer, by route and method.")
        Metrics.shared.describe("rcm_events_delivered_total", type: "counter", "Events delivered to a subscriber.")
        Metrics.shared.describe("rcm_events_failed_total", type: "counter", "Failed deliveries (retried with backoff).")
        Metrics.shared.describe(
            "rcm_events_dead_lettered_total", type: "counter", "Deliveries given up after the last attempt.")
        metrics.describe("rcm_outbox_backlog", type: "gauge", "Deliveries waiting in a service's outbox.")
        metrics.describe(
            "rcm_outbox_oldest_pending_age_seconds", type: "gauge", "Age of the oldest undelivered event of a service.")
        metrics.describe("rcm_dead_letters", type: "gauge", "Dead-lettered deliveries waiting for a replay.")
        metrics.describe("rcm_consumer_lag_events", type: "gauge", "Events not yet delivered to a consuming service.")
        metrics.describe("rcm_db_pool_connections", type: "gauge", "Pooled database connections by state.")
        metrics.describe("rcm_invoices", type: "gauge", "Invoices issued.")
        metrics.describe("rcm_invoiced_amount", type: "gauge", "Sum of invoice totals, in the organization's currency.")
        metrics.describe("rcm_claims", type: "gauge", "Claims by status.")
        metrics.describe("rcm_payments", type: "gauge", "Payments recorded.")
        metrics.describe("rcm_up", type: "gauge", "1 while the process serves.")
    }

    /// Wraps a route's handler to count it and time it.
    static func wrap(_ route: RouteDescriptor, _ handler: @escaping Handler, metrics: Metrics) -> Handler {
        let series = metrics.routeSeries(
            counter: "rcm_http_requests_total", histogram: "rcm_http_request_duration_seconds",
            labels: [("method", route.method.rawValue), ("route", route.pattern)])
        return { request, context in
            let started = DispatchTime.now().uptimeNanoseconds
            var status = 500
            defer {
                series.record(
                    status: status, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
            do {
                let response = try handler(request, context)
                status = response.status
                return response
            } catch let problem as Problem {
                status = problem.status
                throw problem
            } catch let convertible as any ProblemConvertible {
                status = convertible.problem?.status ?? 500
                throw convertible
            }
        }
    }

    /// Gauges read from the databases at scrape time.
    static func collectors(
        databases: [String: any Database], outboxes: [String: Outbox]
    ) -> @Sendable () -> [Metrics.Sample] {
        {
            var samples = [Metrics.Sample("rcm_up", [], 1)]
            let now = Date().timeIntervalSince1970
            for (service, database) in databases.sorted(by: { $0.key < $1.key }) {
                if let pool = database.poolUsage {
                    samples.append(
                        .init(
                            "rcm_db_pool_connections", [("service", service), ("state", "in_use")], Double(pool.inUse)))
                    samples.append(
                        .init(
                            "rcm_db_pool_connections", [("service", service), ("state", "idle")],
                            Double(pool.open - pool.inUse)))
                    samples.append(
                        .init(
                            "rcm_db_pool_connections", [("service", service), ("state", "max")], Double(pool.maximum)))
                }
                guard service != "audit" else { continue }
                _ = try? database.read { connection in
                    var backlog = 0.0
                    var oldest: String?
                    for pending in try outboxes[service]?.backlog(in: connection) ?? [] {
                        backlog += Double(pending.count)
                        samples.append(
                            .init(
                                "rcm_consumer_lag_events", [("source", service), ("subscriber", pending.subscriber)],
                                Double(pending.count)))
                        if let first = pending.oldestOccurredAt, oldest.map({ first < $0 }) ?? true {
                            oldest = first
                        }
                    }
                    samples.append(.init("rcm_outbox_backlog", [("service", service)], backlog))
                    let age = oldest.flatMap(Timestamp.parse).map { max(0, now - $0.timeIntervalSince1970) } ?? 0
                    samples.append(.init("rcm_outbox_oldest_pending_age_seconds", [("service", service)], age))
                    let dead =
                        try connection.queryFirst(
                            "SELECT COUNT(*) AS n FROM outbox_deliveries WHERE status = 'dead'")?.int64("n") ?? 0
                    samples.append(.init("rcm_dead_letters", [("service", service)], Double(dead)))
                    switch service {
                    case "billing":
                        let row = try connection.queryFirst(
                            "SELECT COUNT(*) AS n, COALESCE(SUM(total), 0) AS amount FROM invoices")
                        samples.append(.init("rcm_invoices", [], Double(try row?.int64("n") ?? 0)))
                        samples.append(
                            .init(
                                "rcm_invoiced_amount", [], Double(try row?.int64("amount") ?? 0) / Double(Money.scale)))
                    case "claim":
                        // Every status has a series, zero included, so graphs and alerts see it from the start.
                        var counts = [String: Int64]()
                        for row in try connection.query("SELECT status, COUNT(*) AS n FROM claims GROUP BY status") {
                            counts[try row.string("status")] = try row.int64("n")
                        }
                        let known = ClaimStatus.allCases.map(\.rawValue)
                        for status in known + counts.keys.filter({ !known.contains($0) }).sorted() {
                            samples.append(.init("rcm_claims", [("status", status)], Double(counts[status] ?? 0)))
                        }
                    case "payment":
                        let count = try connection.queryFirst("SELECT COUNT(*) AS n FROM payments")?.int64("n") ?? 0
                        samples.append(.init("rcm_payments", [], Double(count)))
                    default:
                        break
                    }
                    return 0
                }
            }
            return samples
        }
    }
}
