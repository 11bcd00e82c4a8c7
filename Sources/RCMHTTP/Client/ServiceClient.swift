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
        var headers = HTTPHeaders([("X-Request-Id", context.requestId)])
        if let authorization = context.authorization { headers.add("Authorization", authorization) }
        let response = try send(HTTPRequest(method: .GET, path: path, query: query, headers: headers))
        switch response.status {
        case 200: return response.body
        case 404: return nil
        default: throw Problem.upstream("\(path) answered \(response.status).")
        }
    }

    /// GETs a JSON resource; nil when the owner answers 404.
    public func get<T: Decodable>(_ type: T.Type, _ target: String, context: RequestContext) throws -> T? {
        let (path, query) = HTTPApplication.split(target)
        var headers = HTTPHeaders([("X-Request-Id", context.requestId)])
        if let authorization = context.authorization { headers.add("Authorization", authorization) }
        let request = HTTPRequest(method: .GET, path: path, query: query, headers: headers)
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

/// Calls another process over HTTP with `URLSession`; the calling server thread waits for the answer.
public struct RemoteServiceClient: ServiceClient {
    let baseURL: URL
    let timeout: TimeInterval

    public init(baseURL: URL, timeout: TimeInterval = 5) {
        self.baseURL = baseURL
        self.timeout = timeout
    }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        var components = URLComponents(
            url: baseURL.appendingPathComponent(request.path), resolvingAgainstBaseURL: false)
        if !request.query.isEmpty {
            components?.queryItems = request.query.sorted { $0.key < $1.key }.map {
                URLQueryItem(name: $0.key, value: $0.value)
            }
        }
        guard let url = components?.url else { throw Problem.upstream("bad URL for \(request.path)") }
        var urlRequest = URLRequest(url: url, timeoutInterval: timeout)
        urlRequest.httpMethod = request.method.rawValue
        for field in request.headers { urlRequest.addValue(field.value, forHTTPHeaderField: field.name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        let outcome = Mutex<Result<HTTPResponse, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: urlRequest) { data, response, error in
            let result: Result<HTTPResponse, any Error>
            if let http = response as? HTTPURLResponse {
                var headers = HTTPHeaders()
                for (key, value) in http.allHeaderFields {
                    headers.add(String(describing: key), String(describing: value))
                }
                result = .success(HTTPResponse(status: http.statusCode, headers: headers, body: Array(data ?? Data())))
            } else {
                result = .failure(error ?? Problem.upstream("no response from \(url.host ?? "service")"))
            }
            outcome.withLock { $0 = result }
            done.signal()
        }.resume()
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { throw Problem.upstream("no response") }
        switch result {
        case .success(let response): return response
        case .failure: throw Problem.upstream("\(request.path) could not be reached.")
        }
    }
}
