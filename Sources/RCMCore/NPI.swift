/// A US National Provider Identifier: ten digits, the first 1 or 2, the last a check digit
/// computed with the Luhn formula over the card-issuer prefix `80840` followed by the first nine
/// digits (CMS, "Requirements for Check Digit Generation", 45 CFR 162.406).
public struct NPI: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The ten digits.
    public let value: String

    /// The NPI in `text`, or nil when it is not ten digits starting with 1 or 2 with a correct check digit.
    public init?(_ text: String) {
        guard NPI.isValid(text) else { return nil }
        value = text
    }

    public var description: String { value }

    /// True for ten ASCII digits, the first 1 or 2, whose last digit is the Luhn check digit.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }), bytes[0] == 49 || bytes[0] == 50,
            let check = checkDigit(String(decoding: bytes[0..<9], as: UTF8.self))
        else { return false }
        return Int(bytes[9] - 48) == check
    }

    /// The check digit for the first nine digits of an NPI, or nil when `firstNine` is not nine digits.
    public static func checkDigit(_ firstNine: String) -> Int? {
        let digits = firstNine.utf8.map { Int($0) - 48 }
        guard digits.count == 9, digits.allSatisfy({ (0...9).contains($0) }) else { return nil }
        // Luhn: from the rightmost payload digit leftwards, every other digit (starting with the
        // rightmost) is doubled and its digits summed; the check digit brings the total to a
        // multiple of ten.
        var sum = 0
        for (position, digit) in ([8, 0, 8, 4, 0] + digits).reversed().enumerated() {
            if position % 2 == 0 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return (10 - sum % 10) % 10
    }
}
