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

    /// Splits `/path?a=1&b=2` into the path and its decoded query (`+` is a space in values; a
    /// key that is not valid percent-encoding is kept as written, such a value is empty).
    public static func split(_ target: String) -> (String, [String: String]) {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target.utf8[target.utf8.index(after: mark)...].split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1)
            let key = PercentEncoding.decode(parts[0], plusIsSpace: false) ?? String(decoding: parts[0], as: UTF8.self)
            query[key] = parts.count > 1 ? (PercentEncoding.decode(parts[1], plusIsSpace: true) ?? "") : ""
        }
        return (String(target[..<mark]), query)
    }
}
