import RCMCore

/// What travels with one request through middleware and handlers.
public struct RequestContext: Sendable {
    /// `X-Request-Id`: taken from the request when it is sane, generated otherwise.
    public var requestId: String
    /// The tenant: always the organization of the verified access token, never a request body's.
    public var organizationId: String
    /// The verified caller; nil only on public routes (health, login, JWKS).
    public var principal: Principal?
    /// The caller's `Authorization` header, forwarded when this service asks another.
    public var authorization: String?
    /// Values of `{name}` segments of the matched route.
    public var parameters: [String: String]
    /// The route pattern that matched, such as `/api/claims/{id}` (for logs and metrics).
    public var route: String
    public var logger: Logger
    /// W3C trace context: propagated to the services this request calls.
    public var trace: TraceContext?

    public init(requestId: String, organizationId: String = "", logger: Logger = Logger(label: "http")) {
        self.requestId = requestId
        self.organizationId = organizationId
        self.principal = nil
        self.authorization = nil
        self.parameters = [:]
        self.route = ""
        self.logger = logger
        self.trace = nil
    }

    /// Headers that carry this request's identity to a service it calls: request id, trace
    /// context and the caller's token.
    public var propagatedHeaders: HTTPHeaders {
        var headers = HTTPHeaders([("X-Request-Id", requestId)])
        if let trace { headers.add("traceparent", trace.traceparent) }
        if let authorization { headers.add("Authorization", authorization) }
        return headers
    }

    /// A path parameter the route declares.
    public func parameter(_ name: String) -> String { parameters[name] ?? "" }
}
