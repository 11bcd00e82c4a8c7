import Foundation
import RCMCore

extension HTTPApplication {
    /// Calls a route in-process without a socket: the test helper, and how services call each
    /// other in the embedded topology.
    public func test(
        _ method: HTTPMethod, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) -> HTTPResponse {
        let (path, query) = HTTPApplication.split(target)
        return respond(
            to: HTTPRequest(method: method, path: path, query: query, headers: HTTPHeaders(headers), body: body))
    }

    /// Sends a JSON body.
    public func test<Body: Encodable>(
        _ method: HTTPMethod, _ target: String, json: Body, headers: [(String, String)] = []
    ) throws -> HTTPResponse {
        test(method, target, headers: [("Content-Type", "application/json")] + headers, body: try JSON.encode(json))
    }

    /// Splits `/path?a=1&b=2` into the path and its decoded query.
    public static func split(_ target: String) -> (String, [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value =
                parts.count > 1
                ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
            query[key] = value
        }
        return (String(target[..<mark]), query)
    }
}
