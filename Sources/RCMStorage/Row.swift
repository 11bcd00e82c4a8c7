import RCMCore

/// One result row; columns are read by name.
public struct Row: Sendable {
    final class Columns: Sendable {
        let names: [String]
        let index: [String: Int]
        init(_ names: [String]) {
            self.names = names
            var index: [String: Int] = [:]
            for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
            self.index = index
        }
    }

    let columns: Columns
    public let values: [SQLValue]

    init(columns: Columns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(name: String) -> SQLValue {
        guard let position = columns.index[name] else { return .null }
        return values[position]
    }

    public func string(_ name: String) throws -> String {
        switch self[name] {
        case .text(let text): return text
        case .integer(let value): return String(value)
        default: throw DatabaseError.decoding(column: name)
        }
    }

    public func optionalString(_ name: String) -> String? {
        switch self[name] {
        case .text(let text): return text
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    public func int64(_ name: String) throws -> Int64 {
        switch self[name] {
        case .integer(let value): return value
        case .text(let text):
            guard let value = Int64(text) else { throw DatabaseError.decoding(column: name) }
            return value
        default: throw DatabaseError.decoding(column: name)
        }
    }

    public func optionalInt64(_ name: String) -> Int64? { try? int64(name) }

    public func int(_ name: String) throws -> Int { Int(try int64(name)) }

    public func bool(_ name: String) throws -> Bool { try int64(name) != 0 }

    public func money(_ name: String) throws -> Money { Money(minorUnits: try int64(name)) }

    public func optionalMoney(_ name: String) -> Money? { optionalInt64(name).map(Money.init(minorUnits:)) }

    public func date(_ name: String) throws -> CalendarDate {
        guard let date = CalendarDate(try string(name)) else { throw DatabaseError.decoding(column: name) }
        return date
    }

    public func optionalDate(_ name: String) -> CalendarDate? { optionalString(name).flatMap(CalendarDate.init) }
}
