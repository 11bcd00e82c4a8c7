import Foundation
import RCMCore

/// HTTP method names as they appear on the wire.
// swift-format-ignore: AlwaysUseLowerCamelCase
public enum HTTPMethod: String, Sendable, CaseIterable {
    case GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS
}

/// Header fields in arrival order; names compare case-insensitively.
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(String, String)] = []) { self.fields = fields.map { (name: $0.0, value: $0.1) } }

    /// Fields already in their stored form (no copy).
    init(fields: [(name: String, value: String)]) { self.fields = fields }

    public subscript(name: String) -> String? {
        for field in fields where field.name.caseInsensitiveEquals(name) { return field.value }
        return nil
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    public mutating func set(_ name: String, _ value: String) {
        if fields.contains(where: { $0.name.caseInsensitiveEquals(name) }) {
            fields.removeAll { $0.name.caseInsensitiveEquals(name) }
        }
        // Room for the few headers added after a handler answers (request id, CORS, security).
        if fields.capacity < fields.count + 1 { fields.reserveCapacity(fields.count + 6) }
        fields.append((name, value))
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x | 0x20 != y | 0x20 { return false }
        return true
    }
}

/// A request as the router sees it, whether it came over a socket or from an in-process call.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query string, percent-decoded.
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var remoteAddress: String
    /// True for a call one service makes to another inside this process while serving a request;
    /// never true for anything that came over a socket.
    public var isInProcessCall = false

    public init(
        method: HTTPMethod, path: String, query: [String: String] = [:], headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [], remoteAddress: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// Decodes a JSON body. A content type other than JSON is 415; malformed JSON is 400; missing,
    /// mistyped or invalid fields are 422 naming each field with a JSON Pointer.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let contentType = headers["Content-Type"]?.lowercased() ?? ""
        // The media type before any parameters, without the optional white space (spaces, tabs)
        // that RFC 9110 allows around it.
        var media = contentType.split(separator: ";", omittingEmptySubsequences: false).first ?? ""
        while media.first == " " || media.first == "\t" { media.removeFirst() }
        while media.last == " " || media.last == "\t" { media.removeLast() }
        let mediaType = String(media)
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
        else {
            throw Problem.unsupportedMediaType("Content-Type must be application/json, not '\(contentType)'.")
        }
        do {
            return try JSON.decode(type, from: body)
        } catch let error as DecodingError {
            throw JSON.problem(for: error)
        }
    }

    /// A required query parameter, or a 422 naming it.
    public func requiredQuery(_ name: String) throws -> String {
        guard let value = query[name], !value.isEmpty else {
            throw Problem.invalid(pointer: "query:\(name)", "is required")
        }
        return value
    }

    /// An optional calendar-date query parameter, or a 422 naming it when malformed.
    public func dateQuery(_ name: String) throws -> CalendarDate? {
        guard let text = query[name], !text.isEmpty else { return nil }
        guard let date = CalendarDate(text) else {
            throw Problem.invalid(pointer: "query:\(name)", "must be YYYY-MM-DD")
        }
        return date
    }
}
