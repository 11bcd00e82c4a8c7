import RCMCore

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> HTTPResponse {
        HTTPResponse(
            status: status, headers: HTTPHeaders([("Content-Type", "application/json")]), body: try JSON.encode(value))
    }

    /// An RFC 9457 problem response.
    public static func problem(_ problem: Problem) -> HTTPResponse {
        let body = (try? JSON.encode(problem)) ?? Array(#"{"title":"Internal server error","status":500}"#.utf8)
        var headers = HTTPHeaders([("Content-Type", "application/problem+json")])
        if let seconds = problem.retryAfter { headers.add("Retry-After", String(seconds)) }
        return HTTPResponse(status: problem.status, headers: headers, body: body)
    }

    /// Decodes a JSON body (for clients and tests).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSON.decode(type, from: body) }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
