import RCMCore

/// A request handler: synchronous, called on a server thread (blocking storage calls are fine there).
public typealias Handler = @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse

/// One route of the table, as the OpenAPI document must describe it.
public struct RouteDescriptor: Sendable, Hashable {
    public let method: HTTPMethod
    public let pattern: String
}

/// An immutable routing table with path parameters (`/api/claims/{id}`), built by `RouterBuilder`.
public struct Router: Sendable {
    struct Route: Sendable {
        let descriptor: RouteDescriptor
        let segments: [Segment]
        let handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let routes: [Route]
    /// Routes without parameters, by exact path then method: one hash lookup for the common case.
    let literalRoutes: [String: [HTTPMethod: Route]]

    init(routes: [Route]) {
        self.routes = routes
        var literal: [String: [HTTPMethod: Route]] = [:]
        for route in routes
        where !route.segments.contains(where: { if case .parameter = $0 { true } else { false } }) {
            if literal[route.descriptor.pattern]?[route.descriptor.method] == nil {
                literal[route.descriptor.pattern, default: [:]][route.descriptor.method] = route
            }
        }
        self.literalRoutes = literal
    }

    public var descriptors: [RouteDescriptor] { routes.map(\.descriptor) }

    /// Finds the route for a request and runs it; 404 and 405 are problems like any other error.
    public func route(_ request: HTTPRequest, context: RequestContext) throws -> HTTPResponse {
        if let byMethod = literalRoutes[request.path], let route = byMethod[request.method] {
            var context = context
            context.route = route.descriptor.pattern
            return try route.handler(request, context)
        }
        let pathSegments = request.path.split(separator: "/", omittingEmptySubsequences: true)
        var pathMatched = false
        for route in routes where route.segments.count == pathSegments.count {
            var parameters: [String: String] = [:]
            var matched = true
            for (segment, part) in zip(route.segments, pathSegments) {
                switch segment {
                case .literal(let text):
                    if text != part { matched = false }
                case .parameter(let name):
                    parameters[name] = String(part)
                }
                if !matched { break }
            }
            guard matched else { continue }
            pathMatched = true
            guard route.descriptor.method == request.method else { continue }
            var context = context
            context.parameters = parameters
            context.route = route.descriptor.pattern
            return try route.handler(request, context)
        }
        if pathMatched {
            throw Problem.methodNotAllowed("\(request.method.rawValue) is not allowed on \(request.path).")
        }
        throw Problem.notFound("No route for \(request.method.rawValue) \(request.path).")
    }

    static func parse(_ pattern: String) -> [Segment] {
        pattern.split(separator: "/").map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
    }
}

/// Collects routes and route groups, each group with its own middleware, then freezes them.
public final class RouterBuilder {
    private var routes: [Router.Route] = []
    private let prefix: String
    private let middleware: [any Middleware]
    private let parent: RouterBuilder?

    public init() {
        self.prefix = ""
        self.middleware = []
        self.parent = nil
    }

    private init(prefix: String, middleware: [any Middleware], parent: RouterBuilder) {
        self.prefix = prefix
        self.middleware = middleware
        self.parent = parent
    }

    /// A group of routes under a common prefix whose handlers run inside `middleware`.
    @discardableResult
    public func group(_ prefix: String, middleware: [any Middleware] = [], _ build: (RouterBuilder) -> Void) -> Self {
        let child = RouterBuilder(prefix: self.prefix + prefix, middleware: self.middleware + middleware, parent: self)
        build(child)
        return self
    }

    public func on(_ method: HTTPMethod, _ path: String, _ handler: @escaping Handler) {
        let pattern = prefix + path
        let chained = chain(middleware, around: handler)
        let route = Router.Route(
            descriptor: RouteDescriptor(method: method, pattern: pattern), segments: Router.parse(pattern),
            handler: chained)
        root.routes.append(route)
    }

    public func get(_ path: String, _ handler: @escaping Handler) { on(.GET, path, handler) }
    public func post(_ path: String, _ handler: @escaping Handler) { on(.POST, path, handler) }
    public func put(_ path: String, _ handler: @escaping Handler) { on(.PUT, path, handler) }
    public func patch(_ path: String, _ handler: @escaping Handler) { on(.PATCH, path, handler) }
    public func delete(_ path: String, _ handler: @escaping Handler) { on(.DELETE, path, handler) }

    private var root: RouterBuilder { parent?.root ?? self }

    /// Freezes the routes. `wrapping` may put each handler inside a check that depends on the
    /// route itself (the permission matrix does).
    public func build(wrapping: (RouteDescriptor, @escaping Handler) -> Handler = { $1 }) -> Router {
        let wrapped = routes.map { route in
            Router.Route(
                descriptor: route.descriptor, segments: route.segments,
                handler: wrapping(route.descriptor, route.handler))
        }
        // Literal segments win over parameters at the same position: `/invoices/search` before `/invoices/{id}`.
        let sorted = wrapped.enumerated().sorted { lhs, rhs in
            let l = lhs.element.segments.map { if case .literal = $0 { 0 } else { 1 } }
            let r = rhs.element.segments.map { if case .literal = $0 { 0 } else { 1 } }
            return l == r ? lhs.offset < rhs.offset : l.lexicographicallyPrecedes(r)
        }.map(\.element)
        return Router(routes: sorted)
    }
}
