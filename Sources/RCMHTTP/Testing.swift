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
            let key = percentDecoded(parts[0], plusIsSpace: false) ?? String(decoding: parts[0], as: UTF8.self)
            query[key] = parts.count > 1 ? (percentDecoded(parts[1], plusIsSpace: true) ?? "") : ""
        }
        return (String(target[..<mark]), query)
    }

    /// `%XX` sequences decoded (and `+` as a space when asked); nil when a `%` is not followed by
    /// two hex digits or the result is not UTF-8, as Foundation's `removingPercentEncoding`.
    static func percentDecoded(_ bytes: Substring.UTF8View.SubSequence, plusIsSpace: Bool) -> String? {
        if !bytes.contains(UInt8(ascii: "%")) && !(plusIsSpace && bytes.contains(UInt8(ascii: "+"))) {
            return String(decoding: bytes, as: UTF8.self)
        }
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                guard first < bytes.endIndex, bytes.index(after: first) < bytes.endIndex,
                    let high = hex(bytes[first]), let low = hex(bytes[bytes.index(after: first)])
                else { return nil }
                decoded.append(high << 4 | low)
                index = bytes.index(first, offsetBy: 2)
            } else {
                decoded.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = bytes.index(after: index)
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }
}
