import Foundation

/// The platform's JSON coders. One encoder and one decoder serve every thread: they are
/// configured once and never changed, and making them per call showed up in profiles.
public enum JSON {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    /// Encodes with the streaming encoder, or Foundation's for what that one does not support.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        do {
            return try JSONStreamEncoder.encode(value)
        } catch is JSONStreamEncoder.Unsupported {
            return Array(try encoder.encode(value))
        }
    }

    public static func encodeString<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }

    /// Decodes on the fast path (`JSONTreeDecoder`) when it can; otherwise, and for every error,
    /// Foundation's `JSONDecoder` answers.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let fast = bytes.withContiguousStorageIfAvailable { buffer in
            try? JSONTreeDecoder.decode(type, from: buffer)
        }
        if let fast, let value = fast { return value }
        return try decoder.decode(type, from: Data(bytes))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        var text = text
        let fast = text.withUTF8 { buffer in try? JSONTreeDecoder.decode(type, from: buffer) }
        if let fast { return fast }
        return try decoder.decode(type, from: Data(text.utf8))
    }

    /// A JSON Pointer (RFC 6901) for a decoding path: `/services/0/cost`.
    public static func pointer(_ path: [any CodingKey]) -> String {
        path.map { key in
            let token = key.intValue.map(String.init) ?? key.stringValue
            return "/" + token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        }.joined()
    }

    /// Turns a `DecodingError` into a problem naming the field: 400 for malformed JSON, 422 for
    /// missing, mistyped or invalid values.
    public static func problem(for error: DecodingError) -> Problem {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .malformed(
                "The body is not valid JSON.", errors: [.init(pointer: "", message: "malformed JSON")])
        case .dataCorrupted(let context):
            return .invalid(pointer: pointer(context.codingPath), context.debugDescription)
        case .keyNotFound(let key, let context):
            return .invalid(pointer: pointer(context.codingPath + [key]), "is required")
        case .typeMismatch(let type, let context):
            return .invalid(pointer: pointer(context.codingPath), "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return .invalid(pointer: pointer(context.codingPath), "must be \(describe(type)), not null")
        @unknown default:
            return .malformed("The body could not be read.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Decimal.Type, is Int.Type, is Int64.Type, is Double.Type, is Money.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}
