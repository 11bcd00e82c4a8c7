import Foundation
import RCMCore
import Synchronization
import Testing

@testable import RCMHTTP

@Suite("Router, middleware and problems, in-process")
struct RouterTests {
    struct Echo: Codable, Equatable {
        var name: String
        var count: Int
    }

    /// Records the order middleware runs in.
    final class Trace: Sendable {
        let steps = Mutex<[String]>([])
        func add(_ step: String) { steps.withLock { $0.append(step) } }
    }

    func makeApplication(trace: Trace = Trace()) -> HTTPApplication {
        let router = RouterBuilder()
        router.get("/items/search") { _, _ in try .json(["route": "search"]) }
        router.get("/items/{id}") { _, context in try .json(["route": "item", "id": context.parameter("id")]) }
        router.group(
            "/api",
            middleware: [
                MiddlewareFunction { request, context, next in
                    trace.add("outer")
                    return try next(request, context)
                }
            ]
        ) { api in
            api.group(
                "/v1",
                middleware: [
                    MiddlewareFunction { request, context, next in
                        trace.add("inner")
                        var response = try next(request, context)
                        response.headers.add("X-Inner", "1")
                        return response
                    }
                ]
            ) { v1 in
                v1.post("/echo") { request, _ in try .json(try request.decode(Echo.self), status: 201) }
                v1.get("/orgs/{org}/people/{person}") { _, context in
                    try .json([context.parameter("org"), context.parameter("person"), context.route])
                }
            }
        }
        router.get("/boom") { _, _ in throw CocoaError(.fileNoSuchFile) }
        return HTTPApplication(router: router.build())
    }

    @Test("path parameters and literal-before-parameter matching")
    func pathParameters() throws {
        let app = makeApplication()
        #expect(try app.test(.GET, "/items/search").decode([String: String].self) == ["route": "search"])
        #expect(try app.test(.GET, "/items/42").decode([String: String].self) == ["route": "item", "id": "42"])
        let nested = try app.test(.GET, "/api/v1/orgs/o1/people/p2").decode([String].self)
        #expect(nested == ["o1", "p2", "/api/v1/orgs/{org}/people/{person}"])
    }

    @Test("group middleware runs outer first and can change the response")
    func middlewareOrder() throws {
        let trace = Trace()
        let app = makeApplication(trace: trace)
        let response = try app.test(.POST, "/api/v1/echo", json: Echo(name: "a", count: 1))
        #expect(response.status == 201)
        #expect(response.headers["X-Inner"] == "1")
        #expect(trace.steps.withLock { $0 } == ["outer", "inner"])
    }

    @Test("unknown path is 404 and wrong method is 405, both problem+json")
    func notFoundAndMethod() throws {
        let app = makeApplication()
        let missing = app.test(.GET, "/nope")
        #expect(missing.status == 404)
        #expect(missing.headers["Content-Type"] == "application/problem+json")
        let problem = try missing.decode(Problem.self)
        #expect(problem.instance == "/nope")
        #expect(problem.requestId == missing.headers["X-Request-Id"])
        #expect(app.test(.DELETE, "/items/1").status == 405)
    }

    @Test("request ids are kept when given and generated when absent or unsafe")
    func requestIds() {
        let app = makeApplication()
        #expect(app.test(.GET, "/items/1", headers: [("X-Request-Id", "abc-123")]).headers["X-Request-Id"] == "abc-123")
        let generated = app.test(.GET, "/items/1").headers["X-Request-Id"] ?? ""
        #expect(UUID(uuidString: generated) != nil)
        // Version 4, RFC 4122 variant, lower-case, and distinct across many requests.
        let many = (0..<1000).map { _ in HTTPApplication.newRequestId() }
        #expect(Set(many).count == many.count)
        for id in many.prefix(50) {
            let characters = Array(id)
            #expect(characters.count == 36 && UUID(uuidString: id) != nil && id == id.lowercased())
            #expect(characters[14] == "4" && "89ab".contains(characters[19]))
        }
        let unsafe = app.test(.GET, "/items/1", headers: [("X-Request-Id", "a b\u{7}")]).headers["X-Request-Id"] ?? ""
        #expect(unsafe != "a b\u{7}" && !unsafe.isEmpty)
    }

    @Test("malformed JSON is 400, wrong content type 415, bad fields 422 naming them")
    func bodyErrors() throws {
        let app = makeApplication()
        let malformed = app.test(
            .POST, "/api/v1/echo", headers: [("Content-Type", "application/json")], body: Array("{nope".utf8))
        #expect(malformed.status == 400)
        let wrongType = app.test(
            .POST, "/api/v1/echo", headers: [("Content-Type", "text/plain")], body: Array("{}".utf8))
        #expect(wrongType.status == 415)
        #expect(try wrongType.decode(Problem.self).errors.first?.pointer == "header:Content-Type")
        let mistyped = app.test(
            .POST, "/api/v1/echo", headers: [("Content-Type", "application/json")],
            body: Array(#"{"name": "x", "count": "many"}"#.utf8))
        #expect(mistyped.status == 422)
        #expect(try mistyped.decode(Problem.self).errors.first?.pointer == "/count")
        let missing = app.test(
            .POST, "/api/v1/echo", headers: [("Content-Type", "application/json; charset=utf-8")],
            body: Array(#"{"name": "x"}"#.utf8))
        #expect(try missing.decode(Problem.self).errors == [.init(pointer: "/count", message: "is required")])
    }

    @Test("an unexpected error is a 500 problem that leaks nothing")
    func internalError() throws {
        let response = makeApplication().test(.GET, "/boom")
        #expect(response.status == 500)
        let problem = try response.decode(Problem.self)
        #expect(!problem.detail.contains("NSCocoaErrorDomain") && !problem.detail.contains("fileNoSuchFile"))
    }

    @Test("errors that know their problem keep it (an unreachable database is 503)")
    func convertibleErrors() throws {
        struct DatabaseDown: ProblemConvertible {
            var problem: Problem? { .unavailable("down") }
        }
        let router = RouterBuilder()
        router.get("/x") { _, _ in throw DatabaseDown() }
        let response = HTTPApplication(router: router.build()).test(.GET, "/x")
        #expect(response.status == 503)
        #expect(try response.decode(Problem.self).instance == "/x")
    }

    @Test(
        "every response but the health probes carries the security headers; no-store unless the handler says otherwise")
    func securityHeaders() {
        let app = makeApplication()
        for response in [app.test(.GET, "/items/1"), app.test(.GET, "/nope")] {
            #expect(response.headers["X-Content-Type-Options"] == "nosniff")
            #expect(response.headers["X-Frame-Options"] == "DENY")
            #expect(response.headers["Referrer-Policy"] == "no-referrer")
            #expect(response.headers["Content-Security-Policy"]?.contains("frame-ancestors 'none'") == true)
            #expect(response.headers["Cache-Control"] == "no-store")
        }
    }

    @Test("a token bucket lets a burst through, then answers 429 with Retry-After until it refills")
    func rateLimit() throws {
        let limiter = RateLimiter(capacity: 3, perSecond: 0.5)
        for _ in 0..<3 { try limiter.take("10.0.0.1", now: 1000) }
        do {
            try limiter.take("10.0.0.1", now: 1000)
            Issue.record("not limited")
        } catch let problem as Problem {
            #expect(problem.status == 429)
            #expect(problem.retryAfter == 2)
            #expect(HTTPResponse.problem(problem).headers["Retry-After"] == "2")
        }
        try limiter.take("10.0.0.2", now: 1000)  // another client is not affected
        try limiter.take("10.0.0.1", now: 1002)  // refilled after two seconds
    }

    @Test("CORS: allowed origins get preflights and headers; others get nothing")
    func cors() {
        var limits = HTTPLimits()
        limits.corsOrigins = ["https://console.clinic.example"]
        let router = RouterBuilder()
        router.get("/x") { _, _ in HTTPResponse(status: 200) }
        let app = HTTPApplication(router: router.build(), limits: limits)
        let preflight = app.test(
            .OPTIONS, "/x",
            headers: [("Origin", "https://console.clinic.example"), ("Access-Control-Request-Method", "POST")])
        #expect(preflight.status == 204)
        #expect(preflight.headers["Access-Control-Allow-Origin"] == "https://console.clinic.example")
        #expect(preflight.headers["Access-Control-Allow-Headers"]?.contains("Authorization") == true)
        let refused = app.test(
            .OPTIONS, "/x", headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")])
        #expect(refused.status == 403 && refused.headers["Access-Control-Allow-Origin"] == nil)
        #expect(
            app.test(.GET, "/x", headers: [("Origin", "https://console.clinic.example")]).headers[
                "Access-Control-Allow-Origin"] == "https://console.clinic.example")
        #expect(
            app.test(.GET, "/x", headers: [("Origin", "https://evil.example")]).headers["Access-Control-Allow-Origin"]
                == nil)
    }

    @Test("an oversized body is 413 before any handler runs")
    func oversized() {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 10
        let router = RouterBuilder()
        router.post("/x") { _, _ in
            Issue.record("handler ran"); return HTTPResponse(status: 200)
        }
        let app = HTTPApplication(router: router.build(), limits: limits)
        #expect(app.test(.POST, "/x", body: Array(repeating: 65, count: 11)).status == 413)
    }
}

@Suite("In-process targets")
struct InProcessTargetTests {
    @Test("a target's query is decoded as Foundation's percent decoding would, + as a space in values")
    func queryDecoding() {
        let (path, query) = HTTPApplication.split(
            "/api/x?date=2026-12-04&q=J%C3%BCrgen+M%c3%bcller&plain=a+b&empty=&flag")
        #expect(path == "/api/x")
        #expect(query == ["date": "2026-12-04", "q": "Jürgen Müller", "plain": "a b", "empty": "", "flag": ""])
        #expect(HTTPApplication.split("/only/path") == ("/only/path", [:]))
        // A key that is not valid percent-encoding stays as written; such a value is empty.
        #expect(HTTPApplication.split("/p?%zz=%zz").1 == ["%zz": ""])
    }
}
