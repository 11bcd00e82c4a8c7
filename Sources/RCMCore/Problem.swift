/// An RFC 9457 problem: what every error of every API turns into (`application/problem+json`).
///
/// `type` is stable and machine-readable; `detail` is for people; `errors` names the fields at fault
/// with JSON Pointers (RFC 6901) into the request body, or `query`/`header` names.
public struct Problem: Error, Sendable, Codable, Equatable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var instance: String?
    public var errors: [FieldError]
    /// The request id, so that a client can quote it.
    public var requestId: String?
    /// Seconds to wait before retrying (a 429 or 503 sends it as `Retry-After` too).
    public var retryAfter: Int?
    /// Existing records the request may duplicate (a 409 `possible-duplicate` lists them).
    public var candidates: [Candidate]?

    /// A record that may be the same as the one being created.
    public struct Candidate: Sendable, Codable, Equatable {
        public var id: String
        public var label: String
        /// Why it matched, e.g. `identifier` or `name and date of birth`.
        public var matchedOn: String

        public init(id: String, label: String, matchedOn: String) {
            self.id = id
            self.label = label
            self.matchedOn = matchedOn
        }
    }

    public init(type: String, title: String, status: Int, detail: String, errors: [FieldError] = []) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
    }

    /// One field at fault.
    public struct FieldError: Sendable, Codable, Equatable {
        public var pointer: String
        public var message: String
        public init(pointer: String, message: String) {
            self.pointer = pointer
            self.message = message
        }
    }

    static let base = "https://rcm.invalid/problems/"

    public static func malformed(_ detail: String, errors: [FieldError] = []) -> Problem {
        Problem(
            type: base + "malformed-request", title: "Malformed request", status: 400, detail: detail, errors: errors)
    }
    public static func invalid(_ errors: [FieldError], detail: String? = nil) -> Problem {
        Problem(
            type: base + "validation-error", title: "Invalid request", status: 422,
            detail: detail ?? errors.map { "\($0.pointer): \($0.message)" }.joined(separator: "; "), errors: errors)
    }
    public static func invalid(pointer: String, _ message: String) -> Problem {
        invalid([FieldError(pointer: pointer, message: message)])
    }
    public static func notFound(_ detail: String) -> Problem {
        Problem(type: base + "not-found", title: "Not found", status: 404, detail: detail)
    }
    public static func forbidden(_ detail: String, errors: [FieldError] = []) -> Problem {
        Problem(type: base + "forbidden", title: "Forbidden", status: 403, detail: detail, errors: errors)
    }
    public static func conflict(_ detail: String, type: String = "conflict") -> Problem {
        Problem(type: base + type, title: "Conflict", status: 409, detail: detail)
    }
    public static func unsupportedMediaType(_ detail: String) -> Problem {
        Problem(
            type: base + "unsupported-media-type", title: "Unsupported media type", status: 415, detail: detail,
            errors: [FieldError(pointer: "header:Content-Type", message: detail)])
    }
    public static func payloadTooLarge(limit: Int) -> Problem {
        Problem(
            type: base + "payload-too-large", title: "Payload too large", status: 413,
            detail: "The request body exceeds the limit of \(limit) bytes.",
            errors: [FieldError(pointer: "", message: "body larger than \(limit) bytes")])
    }
    public static func methodNotAllowed(_ detail: String) -> Problem {
        Problem(type: base + "method-not-allowed", title: "Method not allowed", status: 405, detail: detail)
    }
    public static func unavailable(_ detail: String) -> Problem {
        Problem(type: base + "unavailable", title: "Service unavailable", status: 503, detail: detail)
    }
    public static func upstream(_ detail: String) -> Problem {
        Problem(type: base + "upstream-error", title: "Bad gateway", status: 502, detail: detail)
    }
    /// An unexpected failure; the detail never carries the underlying error's text, which may hold data.
    public static let internalError = Problem(
        type: base + "internal-error", title: "Internal server error", status: 500,
        detail: "The server failed to complete the request; it has been logged with the request id.")
}

/// An error that knows which problem it is for a client (nil: an internal error).
public protocol ProblemConvertible: Error {
    var problem: Problem? { get }
}
