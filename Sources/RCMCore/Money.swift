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

    /// `percent` of this amount, rounded half-to-even to a whole minor unit.
    public func percentage(_ percent: Decimal) -> Money {
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
