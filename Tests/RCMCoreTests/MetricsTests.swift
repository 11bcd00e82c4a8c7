import Foundation
import Testing

@testable import RCMCore

@Suite("Metrics registry")
struct MetricsCoreTests {
    @Test("a route's series counts every request by status, from many threads, and renders as before")
    func routeSeries() {
        let metrics = Metrics()
        metrics.describe("rcm_http_requests_total", type: "counter", "Requests.")
        let series = metrics.routeSeries(
            counter: "rcm_http_requests_total", histogram: "rcm_http_request_duration_seconds",
            labels: [("method", "GET"), ("route", "/items/{id}")])
        let unused = metrics.routeSeries(
            counter: "rcm_http_requests_total", histogram: "rcm_http_request_duration_seconds",
            labels: [("method", "GET"), ("route", "/never")])
        _ = unused
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in 0..<1000 { series.record(status: index % 4 == 0 ? 404 : 200, seconds: 0.003) }
            _ = worker
        }
        let text = metrics.render()
        #expect(text.contains("# TYPE rcm_http_requests_total counter"))
        #expect(text.contains(#"rcm_http_requests_total{method="GET",route="/items/{id}",status="200"} 6000"#))
        #expect(text.contains(#"rcm_http_requests_total{method="GET",route="/items/{id}",status="404"} 2000"#))
        #expect(
            text.contains(#"rcm_http_request_duration_seconds_bucket{method="GET",route="/items/{id}",le="0.0025"} 0"#))
        #expect(
            text.contains(
                #"rcm_http_request_duration_seconds_bucket{method="GET",route="/items/{id}",le="0.005"} 8000"#))
        #expect(text.contains(#"rcm_http_request_duration_seconds_count{method="GET",route="/items/{id}"} 8000"#))
        #expect(!text.contains("/never"))  // a route never called has no series yet
    }
}
