import Foundation

/// An exact amount of money in minor units (cents, paise) of a currency with two decimal places.
///
/// Money is never held in binary floating point. In JSON an amount is a plain decimal number
/// (`650`, `12.5`), decoded exactly through `Decimal`; more than two decimal places is an error.
public struct Money: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The amount in minor units: 650.00 is 65000.
    public var minorUnits: Int64

    public init(minorUnits: Int64) { self.minorUnits = minorUnits }

    public static let zero = Money(minorUnits: 0)

    /// Minor units per major unit. Every currency the platform bills in (INR, USD, EUR, GBP) has two.
    public static let scale: Int64 = 100

    /// Converts an exact decimal, failing when it has more than two decimal places or is out of range.
    public init?(exactly decimal: Decimal) {
        var scaled = decimal * Decimal(Money.scale)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        guard rounded == scaled, rounded.magnitude < Decimal(Int64.max / 2) else { return nil }
        self.minorUnits = NSDecimalNumber(decimal: rounded).int64Value
    }

    /// The amount as an exact decimal in major units.
    public var decimal: Decimal {
        // Built from its parts: a division here showed up in profiles of every JSON response.
        Decimal(sign: minorUnits < 0 ? .minus : .plus, exponent: -2, significand: Decimal(minorUnits.magnitude))
    }

    /// The amount a JSON number's literal names, read exactly in integers: a plain literal
    /// (`650`, `-12.5`, `0.05`) with at most two decimals and 17 digits. Nil for anything else (an
    /// exponent, more decimals, more digits), which `init(exactly:)` then decides through `Decimal`
    /// (several times slower: this runs for every amount of every request, reply and event).
    public init?(plainLiteral text: String) {
        // At most 17 digits in minor units: well inside `init(exactly:)`'s bound of `Int64.max / 2`.
        guard let parts = Money.plainDecimal(text), parts.scale <= 2, parts.count + 2 - parts.scale <= 17
        else { return nil }
        self.minorUnits = parts.scale == 2 ? parts.digits : parts.digits * (parts.scale == 1 ? 10 : 100)
    }

    /// `-?digits(.digits)?` as an integer, its count of decimals and of digits; nil for anything
    /// else or past 17 digits (so that any result times 100 still fits, below `Int64.max / 2`).
    static func plainDecimal(_ text: String) -> (digits: Int64, scale: Int, count: Int)? {
        var utf8 = text.utf8[...]
        let negative = utf8.first == UInt8(ascii: "-")
        if negative { utf8 = utf8.dropFirst() }
        var digits: Int64 = 0
        var count = 0
        var scale: Int?
        for byte in utf8 {
            if byte == UInt8(ascii: "."), scale == nil, count > 0 {
                scale = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            count += 1
            guard count <= 17 else { return nil }
            digits = digits * 10 + Int64(byte - UInt8(ascii: "0"))
            if let decimals = scale { scale = decimals + 1 }
        }
        guard count > 0, scale != 0 else { return nil }
        return (negative ? -digits : digits, scale ?? 0, count)
    }

    /// `percent` of this amount, rounded half-to-even to a whole minor unit. Computed in integers
    /// when the percentage is a plain decimal (as every coverage's is); through `Decimal` otherwise.
    public func percentage(_ percent: Decimal) -> Money {
        if let parts = Money.plainDecimal(percent.description), let exact = percentage(parts.digits, scale: parts.scale)
        {
            return exact
        }
        return percentageThroughDecimal(percent)
    }

    /// `minorUnits × digits / (100 × 10^scale)`, rounded half-to-even; nil on overflow.
    private func percentage(_ digits: Int64, scale: Int) -> Money? {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: digits)
        guard !overflow, scale <= 16 else { return nil }
        var divisor: Int64 = 100
        for _ in 0..<scale { divisor *= 10 }
        var quotient = product / divisor
        let twiceRemainder = (product % divisor).magnitude * 2
        if twiceRemainder > divisor.magnitude || (twiceRemainder == divisor.magnitude && quotient % 2 != 0) {
            quotient += product < 0 ? -1 : 1
        }
        return Money(minorUnits: quotient)
    }

    /// The `Decimal` computation `percentage` falls back on (and is tested against).
    func percentageThroughDecimal(_ percent: Decimal) -> Money {
        var exact = Decimal(minorUnits) * percent / 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &exact, 0, .bankers)
        return Money(minorUnits: NSDecimalNumber(decimal: rounded).int64Value)
    }

    public static func + (lhs: Money, rhs: Money) -> Money { Money(minorUnits: lhs.minorUnits + rhs.minorUnits) }
    public static func - (lhs: Money, rhs: Money) -> Money { Money(minorUnits: lhs.minorUnits - rhs.minorUnits) }
    public static func * (lhs: Money, rhs: Int64) -> Money { Money(minorUnits: lhs.minorUnits * rhs) }
    public static func += (lhs: inout Money, rhs: Money) { lhs.minorUnits += rhs.minorUnits }
    public static func -= (lhs: inout Money, rhs: Money) { lhs.minorUnits -= rhs.minorUnits }
    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.minorUnits < rhs.minorUnits }
    public static func min(_ a: Money, _ b: Money) -> Money { a < b ? a : b }
    public static func max(_ a: Money, _ b: Money) -> Money { a < b ? b : a }

    public var isNegative: Bool { minorUnits < 0 }

    public var description: String {
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let fraction = magnitude % UInt64(Money.scale)
        return "\(sign)\(magnitude / UInt64(Money.scale)).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let decimal = try container.decode(Decimal.self)
        guard let money = Money(exactly: decimal) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "must be an amount with at most two decimal places")
        }
        self = money
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(decimal)
    }
}

extension Sequence where Element == Money {
    public func sum() -> Money { reduce(.zero, +) }
}
