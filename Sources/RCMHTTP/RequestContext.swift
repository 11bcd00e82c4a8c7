import RCMCore

/// What travels with one request through middleware and handlers.
public struct RequestContext: Sendable {
    /// `X-Request-Id`: taken from the request when it is sane, generated otherwise.
    public var requestId: String
    /// The tenant. Set by the tenancy middleware; until identity lands (issue 3) it is the
    /// configured organization of this installation, never read from a request body.
    public var organizationId: String
    /// Values of `{name}` segments of the matched route.
    public var parameters: [String: String]
    /// The route pattern that matched, such as `/api/claims/{id}` (for logs and metrics).
    public var route: String
    public var logger: Logger

    public init(requestId: String, organizationId: String = "", logger: Logger = Logger(label: "http")) {
        self.requestId = requestId
        self.organizationId = organizationId
        self.parameters = [:]
        self.route = ""
        self.logger = logger
    }

    /// A path parameter the route declares.
    public func parameter(_ name: String) -> String { parameters[name] ?? "" }
}
