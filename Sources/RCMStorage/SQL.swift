import RCMCore

/// A value bound to a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// A Swift value that binds as a statement parameter.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Substring: SQLBindable { public var sqlValue: SQLValue { .text(String(self)) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension Money: SQLBindable { public var sqlValue: SQLValue { .integer(minorUnits) } }
extension CalendarDate: SQLBindable { public var sqlValue: SQLValue { .text(description) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// SQL text with its bind values. Built by string interpolation in which every interpolated value
/// becomes a bind parameter, so a value can never be spliced into the SQL text:
///
///     try connection.query("SELECT * FROM invoices WHERE id = \(id) AND organization_id = \(org)")
///
/// Identifiers that are not values (never user input) go in with `\(unsafeRaw: name)`.
public struct SQL: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    enum Part: Sendable {
        case text(String)
        case bind(Int)
    }

    var parts: [Part]
    public private(set) var binds: [SQLValue]

    public init(stringLiteral value: String) {
        parts = [.text(value)]
        binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.parts
        binds = stringInterpolation.binds
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []
        var binds: [SQLValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            parts.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }

        public mutating func appendInterpolation(_ value: some SQLBindable) {
            parts.append(.bind(binds.count))
            binds.append(value.sqlValue)
        }

        public mutating func appendInterpolation<Value: SQLBindable>(_ value: Value?) {
            parts.append(.bind(binds.count))
            binds.append(value?.sqlValue ?? .null)
        }

        /// Text that is part of the statement itself (a table or column name chosen by code).
        public mutating func appendInterpolation(unsafeRaw text: String) { parts.append(.text(text)) }

        /// A fragment with its own binds.
        public mutating func appendInterpolation(_ fragment: SQL) {
            for part in fragment.parts {
                switch part {
                case .text(let text): parts.append(.text(text))
                case .bind(let index):
                    parts.append(.bind(binds.count))
                    binds.append(fragment.binds[index])
                }
            }
        }
    }

    /// The statement text with placeholders in the dialect's style (`?` or `$1`).
    public func text(for dialect: SQLDialect) -> String {
        // Built as bytes in one buffer (this runs for every statement executed; appending
        // Strings part by part showed in profiles).
        var length = 0
        for part in parts {
            if case .text(let literal) = part { length += literal.utf8.count } else { length += 6 }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for part in parts {
            switch part {
            case .text(let literal): bytes.append(contentsOf: literal.utf8)
            case .bind(let index):
                switch dialect {
                case .sqlite: bytes.append(UInt8(ascii: "?"))
                case .postgres:
                    bytes.append(UInt8(ascii: "$"))
                    bytes.append(contentsOf: String(index + 1).utf8)
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The statement text only: bind values are never printed, so logs hold no data.
    public var description: String { text(for: .sqlite) }

    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var result = lhs
        for part in rhs.parts {
            switch part {
            case .text(let text): result.parts.append(.text(text))
            case .bind(let index):
                result.parts.append(.bind(result.binds.count))
                result.binds.append(rhs.binds[index])
            }
        }
        return result
    }
}

public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

extension SQL {
    /// `(?, ?, …)` for an `IN` list, one bind per value.
    public static func list<Value: SQLBindable>(_ values: [Value]) -> SQL {
        var sql: SQL = "("
        for (index, value) in values.enumerated() {
            sql = sql + (index == 0 ? "\(value)" : ", \(value)")
        }
        return sql + ")"
    }
}
