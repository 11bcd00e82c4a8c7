import Foundation
import RCMCore
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// How one service asks another. Embedded, the call stays in-process (no socket); distributed,
/// it goes over HTTP. Either way it carries the caller's request id and access token, so the
/// owner applies the caller's organization and permissions.
public protocol ServiceClient: Sendable {
    func send(_ request: HTTPRequest) throws -> HTTPResponse
}

extension ServiceClient {
    /// GETs a JSON resource's bytes as the owner wrote them; nil when it answers 404.
    public func getJSON(_ target: String, context: RequestContext) throws -> [UInt8]? {
        let (path, query) = HTTPApplication.split(target)
        let response = try send(HTTPRequest(method: .GET, path: path, query: query, headers: context.propagatedHeaders))
        switch response.status {
        case 200: return response.body
        case 404: return nil
        default: throw Problem.upstream("\(path) answered \(response.status).")
        }
    }

    /// GETs a JSON resource; nil when the owner answers 404.
    public func get<T: Decodable>(_ type: T.Type, _ target: String, context: RequestContext) throws -> T? {
        let (path, query) = HTTPApplication.split(target)
        let request = HTTPRequest(method: .GET, path: path, query: query, headers: context.propagatedHeaders)
        let response = try send(request)
        switch response.status {
        case 200: return try response.decode(type)
        case 404: return nil
        default: throw Problem.upstream("\(path) answered \(response.status).")
        }
    }
}

/// Calls the in-process application directly.
public struct InProcessServiceClient: ServiceClient {
    let application: HTTPApplication

    public init(application: HTTPApplication) { self.application = application }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        var request = request
        request.isInProcessCall = true
        return application.respond(to: request)
    }
}

/// Calls another process over HTTP — plain `http` through `KeepAliveHTTPClient` (pooled keep-alive
/// connections), `https` through `URLSession` — and the calling server thread waits for the
/// answer. GETs (safe to repeat) are retried once with jitter when the target is unreachable or
/// answers 502/503/504; a circuit breaker per target answers 503 at once after repeated failures.
public struct RemoteServiceClient: ServiceClient {
    let baseURL: URL
    let timeout: TimeInterval
    let breaker: CircuitBreaker

    public init(baseURL: URL, timeout: TimeInterval = 5, breaker: CircuitBreaker = RemoteServiceClient.breaker) {
        self.baseURL = baseURL
        self.timeout = timeout
        self.breaker = breaker
    }

    /// One breaker for the process, keyed by target.
    public static let breaker = CircuitBreaker(threshold: 5, openFor: 10)

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        let target = baseURL.absoluteString
        guard breaker.allow(target) else {
            var problem = Problem.unavailable(
                "\(baseURL.host ?? "the service") is failing; not called for a few seconds.")
            problem.retryAfter = 5
            throw problem
        }
        var components = URLComponents(
            url: baseURL.appendingPathComponent(request.path), resolvingAgainstBaseURL: false)
        if !request.query.isEmpty {
            components?.queryItems = request.query.sorted { $0.key < $1.key }.map {
                URLQueryItem(name: $0.key, value: $0.value)
            }
        }
        guard let url = components?.url else { throw Problem.upstream("bad URL for \(request.path)") }
        let attempts = request.method == .GET ? 2 : 1
        for attempt in 1...attempts {
            do {
                let headers = request.headers.map { ($0.name, $0.value) }
                let response: HTTPResponse
                if url.scheme == "http", let host = url.host {
                    var target = components?.percentEncodedPath ?? request.path
                    if let query = components?.percentEncodedQuery, !query.isEmpty { target += "?" + query }
                    response = try KeepAliveHTTPClient.shared.send(
                        method: request.method.rawValue, host: host, port: UInt16(url.port ?? 80), target: target,
                        headers: headers, body: request.body, timeout: timeout)
                } else {
                    response = try OutboundHTTP.send(
                        method: request.method.rawValue, url: url.absoluteString, headers: headers, body: request.body,
                        timeout: timeout)
                }
                if [502, 503, 504].contains(response.status) {
                    breaker.recordFailure(target)
                    if attempt < attempts {
                        Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.1))
                        continue
                    }
                } else {
                    breaker.recordSuccess(target)
                }
                return response
            } catch let failure as OutboundHTTP.Failure {
                breaker.recordFailure(target)
                if failure.kind == .unreachable, attempt < attempts {
                    Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.1))
                    continue
                }
                throw Problem.upstream("\(request.path) could not be reached (\(failure)).")
            }
        }
        throw Problem.upstream("\(request.path) could not be reached.")
    }
}
