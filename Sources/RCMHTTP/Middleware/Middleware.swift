/// Code that runs around a handler: it may change the request or context, answer by itself, or
/// transform the response. Errors thrown anywhere become problem+json in `HTTPApplication`.
public protocol Middleware: Sendable {
    func handle(
        _ request: HTTPRequest, context: RequestContext,
        next: (HTTPRequest, RequestContext) throws -> HTTPResponse
    ) throws -> HTTPResponse
}

/// A middleware from a closure.
public struct MiddlewareFunction: Middleware {
    let body:
        @Sendable (HTTPRequest, RequestContext, (HTTPRequest, RequestContext) throws -> HTTPResponse) throws ->
            HTTPResponse

    public init(
        _ body:
            @escaping @Sendable (
                HTTPRequest, RequestContext, (HTTPRequest, RequestContext) throws -> HTTPResponse
            ) throws -> HTTPResponse
    ) {
        self.body = body
    }

    public func handle(
        _ request: HTTPRequest, context: RequestContext,
        next: (HTTPRequest, RequestContext) throws -> HTTPResponse
    ) throws -> HTTPResponse {
        try body(request, context, next)
    }
}

/// `handler` inside `middleware`, the first one outermost.
func chain(_ middleware: [any Middleware], around handler: @escaping Handler) -> Handler {
    middleware.reversed().reduce(handler) { next, middleware in
        { request, context in try middleware.handle(request, context: context, next: next) }
    }
}
