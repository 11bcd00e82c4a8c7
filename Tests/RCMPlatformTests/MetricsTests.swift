import Foundation
import RCMCore
import RCMHTTP
import Testing

@testable import RCMPlatform

@Suite("Metrics")
struct MetricsTests {
    @Test("GET /metrics needs no token and reports requests, latency, events, backlog and business totals")
    func scrape() throws {
        let platform = try TestPlatform()
        #expect(platform.post("/api/billing/generate", TestPlatform.specificationBody).status == 201)
        #expect(platform.get("/api/billing/invoices/inv_nope").status == 404)
        let before = platform.app.test(.GET, "/metrics")
        #expect(before.status == 200)
        #expect(before.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = before.bodyText
        #expect(text.contains("# TYPE rcm_http_requests_total counter"))
        #expect(
            text.contains(
                #"rcm_http_requests_total{method="POST",route="/api/billing/generate",status="201"} 1"#))
        #expect(
            text.contains(#"rcm_http_requests_total{method="GET",route="/api/billing/invoices/{id}",status="404"} 1"#))
        #expect(
            text.contains(
                #"rcm_http_request_duration_seconds_bucket{method="POST",route="/api/billing/generate",le="+Inf"} 1"#))
        // The invoice's events wait in billing's outbox until delivered.
        #expect(text.contains(#"rcm_outbox_backlog{service="billing"} 3"#))
        #expect(text.contains(#"rcm_consumer_lag_events{source="billing",subscriber="claim"} 1"#))
        #expect(text.contains("rcm_invoices 1"))
        #expect(text.contains("rcm_invoiced_amount 650"))
        try platform.platform.drainEvents()
        let after = platform.app.test(.GET, "/metrics").bodyText
        #expect(after.contains(#"rcm_outbox_backlog{service="billing"} 0"#))
        #expect(after.contains(#"rcm_claims{status="draft"} 1"#))
        #expect(after.contains("# TYPE rcm_events_delivered_total counter"))
        #expect(after.contains(#"rcm_dead_letters{service="billing"} 0"#))
        // Every sample line is `name{labels} value` or `name value`.
        for line in after.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.split(separator: " ").count == 2, "\(line)")
        }
    }
}
