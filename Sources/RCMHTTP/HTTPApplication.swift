import Foundation
import RCMCore

/// The whole request path, with or without a socket: request id, global middleware, router,
/// and the mapping of every error to RFC 9457 problem+json.
public struct HTTPApplication: Sendable {
    public let router: Router
    /// The global middleware around the router, composed once.
    let handler: Handler
    public let limits: HTTPLimits
    let logger: Logger

    public init(
        router: Router, middleware: [any Middleware] = [], limits: HTTPLimits = HTTPLimits(),
        logger: Logger = Logger(label: "http")
    ) {
        self.router = router
        self.handler = chain(middleware, around: { request, context in try router.route(request, context: context) })
        self.limits = limits
        self.logger = logger
    }

    /// Answers a request; never throws.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let requestId = HTTPApplication.requestId(from: request.headers["X-Request-Id"])
        var context = RequestContext(requestId: requestId, logger: logger)
        context.logger.set("request.id", requestId)
        let started = Tracing.nowNanos()
        // Liveness and readiness probes carry no data and are hit by load balancers many times a
        // second: they are not traced (as tracing libraries exclude health checks by default) and
        // carry no browser security headers.
        let isProbe = request.path.hasPrefix("/health/")
        let trace = isProbe ? nil : TraceContext.incoming(request.headers["traceparent"], ratio: Tracing.sampleRatio)
        if let trace {
            context.trace = trace
            context.logger.set("trace.id", trace.traceId)
        }
        var response: HTTPResponse
        let origin = request.headers["Origin"]
        let allowedOrigin = origin.flatMap { limits.corsOrigins.contains($0) ? $0 : nil }
        if request.method == .OPTIONS, origin != nil, request.headers["Access-Control-Request-Method"] != nil {
            // A CORS preflight: answered here, before authentication, as browsers send no credentials.
            var preflight = HTTPResponse(status: allowedOrigin == nil ? 403 : 204)
            if let allowedOrigin {
                preflight.headers.add("Access-Control-Allow-Origin", allowedOrigin)
                preflight.headers.add("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
                preflight.headers.add(
                    "Access-Control-Allow-Headers",
                    "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id")
                preflight.headers.add("Access-Control-Max-Age", "600")
            }
            preflight.headers.add("Vary", "Origin")
            preflight.headers.set("X-Request-Id", requestId)
            return preflight
        }
        do {
            if request.body.count > limits.maxBodyBytes { throw Problem.payloadTooLarge(limit: limits.maxBodyBytes) }
            response = try handler(request, context)
        } catch var problem as Problem {
            problem.instance = request.path
            problem.requestId = requestId
            response = .problem(problem)
        } catch let convertible as any ProblemConvertible where convertible.problem != nil {
            var problem = convertible.problem ?? Problem.internalError
            problem.instance = request.path
            problem.requestId = requestId
            response = .problem(problem)
        } catch {
            context.logger.error(
                "unhandled error", ["error.type": String(describing: type(of: error)), "http.path": request.path])
            var problem = Problem.internalError
            problem.requestId = requestId
            response = .problem(problem)
        }
        response.headers.set("X-Request-Id", requestId)
        if let allowedOrigin {
            response.headers.add("Access-Control-Allow-Origin", allowedOrigin)
            response.headers.add("Access-Control-Expose-Headers", "X-Request-Id, ETag, Location, Retry-After")
            response.headers.add("Vary", "Origin")
        }
        // A call between services in this process never reaches a browser.
        if !request.isInProcessCall, !isProbe { HTTPApplication.addSecurityHeaders(&response) }
        if let trace, trace.sampled {
            Tracing.record(
                Tracing.Span(
                    name: "\(request.method.rawValue) \(Tracing.maskedPath(request.path))", context: trace, kind: 2,
                    startNanos: started, endNanos: Tracing.nowNanos(),
                    attributes: [
                        ("http.request.method", request.method.rawValue),
                        ("url.path", Tracing.maskedPath(request.path)),
                        ("http.response.status_code", String(response.status)), ("rcm.request_id", requestId),
                    ], error: response.status >= 500))
        }
        return response
    }

    /// Headers every response carries: no MIME sniffing, no framing, no referrer, a content
    /// security policy that allows nothing but same-origin resources, and no caching (responses
    /// carry patient data; a response that sets its own Cache-Control keeps it).
    static func addSecurityHeaders(_ response: inout HTTPResponse) {
        let hasCacheControl = response.headers["Cache-Control"] != nil
        for (name, value) in securityHeaders { response.headers.add(name, value) }
        if !hasCacheControl { response.headers.add("Cache-Control", "no-store") }
    }

    static let securityHeaders = [
        ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ]

    /// Keeps a caller's request id when it is short and printable; otherwise makes one.
    static func requestId(from header: String?) -> String {
        if let header, !header.isEmpty, header.utf8.count <= 128,
            header.utf8.allSatisfy({ $0 > 32 && $0 < 127 })
        {
            return header
        }
        return newRequestId()
    }

    /// A request id in the textual form of a version 4 UUID: the process's seed, then a word of
    /// `UniqueWords` (unique without a system call per request).
    public static func newRequestId() -> String {
        let high = (UniqueWords.processSeed & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (UniqueWords.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { text in
            // The 32 digits go to the end of the buffer, then move left around the dashes of
            // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx (a digit's source is never before its destination).
            Hex.write(high, into: text, at: 4)
            Hex.write(low, into: text, at: 20)
            var source = 4
            for out in 0..<36 {
                if out == 8 || out == 13 || out == 18 || out == 23 {
                    text[out] = 45
                } else {
                    text[out] = text[source]
                    source += 1
                }
            }
            return 36
        }
    }
}

/// Size and time limits for the server.
public struct HTTPLimits: Sendable {
    public var maxBodyBytes: Int = 1 << 20
    /// Bounds the per-connection buffer that holds the request line and headers. libmicrohttpd
    /// clears the whole buffer between the requests of a keep-alive connection, so it costs on
    /// every request: 16 KiB holds any sane header block (a bearer token is about 1 KiB).
    public var connectionMemoryBytes: Int = 16 << 10
    public var maxConnections: Int = 1024
    public var maxConnectionsPerIP: Int = 0
    public var connectionTimeoutSeconds: Int = 30
    public var threads: Int = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// Browser origins allowed to call the API (CORS); none by default.
    public var corsOrigins: Set<String> = []

    public init() {}
}
