/// Sets the request's organization. Until the identity issue brings tokens, an installation
/// serves the one organization it is configured with; the organization is never taken from a body.
public struct TenancyMiddleware: Middleware {
    let organizationId: String

    public init(organizationId: String) { self.organizationId = organizationId }

    public func handle(
        _ request: HTTPRequest, context: RequestContext,
        next: (HTTPRequest, RequestContext) throws -> HTTPResponse
    ) throws -> HTTPResponse {
        var context = context
        context.organizationId = organizationId
        return try next(request, context)
    }
}
