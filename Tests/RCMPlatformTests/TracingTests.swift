import Foundation
import RCMCore
import RCMHTTP
import Synchronization
import Testing

@testable import RCMPlatform

@Suite("Tracing and service calls")
struct TracingTests {
    @Test("traceparent: valid headers continue the trace, malformed ones start a new one")
    func parse() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let parsed = TraceContext.parse(header)
        #expect(parsed?.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parsed?.spanId == "00f067aa0ba902b7")
        #expect(parsed?.sampled == true)
        #expect(TraceContext.parse(" \t" + header + " ")?.spanId == "00f067aa0ba902b7")
        #expect(TraceContext.parse(String(header.dropLast(2)) + "00")?.sampled == false)
        #expect(TraceContext.parse(String(header.dropLast(2)) + "03")?.sampled == true)
        #expect(TraceContext.parse(String(header.dropLast(2)) + "fe")?.sampled == false)
        for bad in [
            "", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f35-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            #expect(TraceContext.parse(bad) == nil, "\(bad)")
        }
        let continued = TraceContext.incoming(header, ratio: 0)
        #expect(continued.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(continued.parentSpanId == "00f067aa0ba902b7")
        #expect(continued.spanId != "00f067aa0ba902b7" && continued.spanId.count == 16)
        let fresh = TraceContext.incoming("garbage", ratio: 0)
        #expect(fresh.traceId.count == 32 && !fresh.sampled && fresh.parentSpanId == nil)
        // A fresh context is a valid traceparent of its own, and ids do not repeat.
        #expect(TraceContext.parse(fresh.traceparent)?.traceId == fresh.traceId)
        #expect(TraceContext.parse(fresh.traceparent)?.spanId == fresh.spanId)
        let ids = (0..<500).map { _ in TraceContext.incoming(nil, ratio: 0) }
        #expect(Set(ids.map(\.traceId)).count == 500 && Set(ids.map(\.spanId)).count == 500)
        #expect(Tracing.maskedPath("/api/patients/P10001/export") == "/api/patients/{id}/export")
    }

    @Test("spans of a sampled request and of the service calls it makes reach an OTLP collector as one trace")
    func export() throws {
        // A collector on a real socket that keeps what it is sent.
        let received = Mutex<[String]>([])
        let router = RouterBuilder()
        router.post("/v1/traces") { request, _ in
            received.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
            return HTTPResponse(status: 200)
        }
        let collector = HTTPServer(
            application: HTTPApplication(router: router.build()), configuration: .init(host: "127.0.0.1", port: 0))
        try collector.start()
        defer { collector.shutdown(grace: .seconds(1)) }
        var configuration = PlatformConfiguration()
        configuration.traceEndpoint = URL(string: "http://127.0.0.1:\(collector.port)/v1/traces")
        let platform = try TestPlatform(configure: { $0.traceEndpoint = configuration.traceEndpoint })
        let trace = "0af7651916cd43dd8448eb211c80319c"
        let response = platform.post(
            "/api/billing/generate", TestPlatform.specificationBody,
            headers: [("traceparent", "00-\(trace)-b7ad6b7169203331-01")])
        #expect(response.status == 201)
        Tracing.flush()
        let deadline = Date().addingTimeInterval(3)
        while received.withLock({ $0.isEmpty }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let body = received.withLock { $0.joined() }
        #expect(body.contains("\"resourceSpans\""))
        #expect(body.contains("\"traceId\":\"\(trace)\""))
        // The generate span's parent is the caller's span; billing's calls to patient and
        // insurance are spans of the same trace whose parent is the generate span.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let spans =
            ((document["resourceSpans"] as? [[String: Any]])?.first?["scopeSpans"] as? [[String: Any]])?.first?[
                "spans"] as? [[String: Any]] ?? []
        let generate = try #require(spans.first { ($0["name"] as? String) == "POST /api/billing/generate" })
        #expect(generate["parentSpanId"] as? String == "b7ad6b7169203331")
        let children = spans.filter { ($0["parentSpanId"] as? String) == generate["spanId"] as? String }
        #expect(Set(children.compactMap { $0["name"] as? String }).isSuperset(of: ["GET /api/patients/{id}"]))
        #expect(spans.allSatisfy { $0["traceId"] as? String == trace })
        #expect(!body.contains("P10001"), "spans must not carry patient identifiers")
    }

    @Test("the circuit breaker opens after repeated failures and lets one trial through later")
    func breaker() {
        let breaker = CircuitBreaker(threshold: 3, openFor: 10)
        let start = Date()
        for _ in 0..<3 {
            #expect(breaker.allow("svc", now: start))
            breaker.recordFailure("svc", now: start)
        }
        #expect(!breaker.allow("svc", now: start.addingTimeInterval(1)))
        #expect(breaker.state("svc", now: start.addingTimeInterval(1)) == .open)
        #expect(breaker.allow("svc", now: start.addingTimeInterval(11)))  // the trial
        #expect(!breaker.allow("svc", now: start.addingTimeInterval(11)))  // only one
        breaker.recordSuccess("svc")
        #expect(breaker.allow("svc", now: start.addingTimeInterval(12)))
        #expect(breaker.state("svc") == .closed)
    }
}
