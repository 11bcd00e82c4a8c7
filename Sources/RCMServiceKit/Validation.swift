import Foundation
import RCMCore

/// Collects field errors so that a request reports every bad field at once.
public struct Validation {
    public private(set) var errors: [Problem.FieldError] = []

    public init() {}

    public mutating func require(_ condition: Bool, _ pointer: String, _ message: String) {
        if !condition { errors.append(Problem.FieldError(pointer: pointer, message: message)) }
    }

    public mutating func fail(_ pointer: String, _ message: String) {
        errors.append(Problem.FieldError(pointer: pointer, message: message))
    }

    /// Requires a non-empty string of at most `maxLength` characters.
    public mutating func text(_ value: String?, _ pointer: String, maxLength: Int = 200, required: Bool = true) {
        guard let value else {
            if required { fail(pointer, "is required") }
            return
        }
        // Blank: only White_Space scalars, the set `CharacterSet.whitespacesAndNewlines` names
        // (without bridging the string to NSString for a trim, which showed in profiles).
        if required && value.unicodeScalars.allSatisfy(\.properties.isWhitespace) { fail(pointer, "must not be empty") }
        // Never more characters than UTF-8 bytes: count them only when the bytes exceed the limit.
        if value.utf8.count > maxLength && value.count > maxLength {
            fail(pointer, "must be at most \(maxLength) characters")
        }
    }

    /// Throws 422 with every collected error, if any.
    public func check() throws {
        if !errors.isEmpty { throw Problem.invalid(errors) }
    }
}
