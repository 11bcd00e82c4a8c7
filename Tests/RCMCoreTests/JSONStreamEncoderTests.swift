import Foundation
import Testing

@testable import RCMCore

@Suite("Streaming JSON encoder writes what Foundation's encoder writes")
struct JSONStreamEncoderTests {
    enum Kind: String, Codable { case first, second }

    struct Line: Codable, Equatable {
        var code: String
        var amount: Money
        var note: String?
    }

    struct Sample: Codable, Equatable {
        var id: String
        var count: Int
        var big: Int64
        var flag: Bool
        var kind: Kind
        var total: Money
        var percent: Decimal
        var date: CalendarDate
        var lines: [Line]
        var tags: [String: Int]
        var missing: String?
        var present: Money?
        var nested: [[Int]]
        var empty: [String]
    }

    static let sample = Sample(
        id: "inv_1 \"quoted\" back\\slash /slash\n\t\u{1} ünï ✓ 🏥", count: -42, big: Int64.max, flag: true,
        kind: .second,
        total: Money(minorUnits: 65000), percent: Decimal(string: "12.5")!, date: CalendarDate("2026-12-04")!,
        lines: [
            Line(code: "OPD001", amount: Money(minorUnits: 1250), note: nil),
            Line(code: "LAB025", amount: Money(minorUnits: -5), note: "x"),
        ],
        tags: ["a": 1, "b": 2], missing: nil, present: Money(minorUnits: 1), nested: [[1, 2], []], empty: [])

    func foundation<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    func object(_ data: some Collection<UInt8>) throws -> NSObject {
        try JSONSerialization.jsonObject(with: Data(data), options: [.fragmentsAllowed]) as! NSObject
    }

    @Test("the same document, and it decodes back to the same value")
    func sameDocument() throws {
        let streamed = try JSONStreamEncoder.encode(Self.sample)
        #expect(try object(streamed) == object(try foundation(Self.sample)))
        #expect(try JSONDecoder().decode(Sample.self, from: Data(streamed)) == Self.sample)
    }

    @Test("byte for byte for single values and arrays; objects keep declaration order")
    func sameBytes() throws {
        // Foundation's encoder does not promise an order of keys; this one writes them as encoded.
        let line = Line(code: "a\"b", amount: Money(minorUnits: 1205), note: nil)
        #expect(try JSONStreamEncoder.encode(line) == Array(#"{"code":"a\"b","amount":12.05}"#.utf8))
        #expect(try object(JSONStreamEncoder.encode(line)) == object(try foundation(line)))
        for money in [0, 5, 50, 1250, 65000, -1, -12345, Int64.max / 2].map(Money.init(minorUnits:)) {
            #expect(try JSONStreamEncoder.encode(money) == Array(try foundation(money)), "\(money)")
        }
        #expect(try JSONStreamEncoder.encode(["x"]) == Array(#"["x"]"#.utf8))
        #expect(try JSONStreamEncoder.encode(Kind.first) == Array(#""first""#.utf8))
        #expect(try JSONStreamEncoder.encode([String: Int]()) == Array("{}".utf8))
    }

    @Test("optionals, and values typed only as Encodable, written as Foundation writes them")
    func optionalsAndExistentials() throws {
        let optionals: [String?] = ["a", nil]
        #expect(try JSONStreamEncoder.encode(optionals) == Array(try foundation(optionals)))
        let amounts: [Money?] = [Money(minorUnits: 5), nil]
        #expect(try JSONStreamEncoder.encode(amounts) == Array(try foundation(amounts)))
        let flags: [Bool?] = [true, nil, false]
        #expect(try JSONStreamEncoder.encode(flags) == Array(try foundation(flags)))
        let numbers: [Int64?] = [Int64.min, nil]
        #expect(try JSONStreamEncoder.encode(numbers) == Array(try foundation(numbers)))
        let rate: Decimal? = Decimal(string: "7.25")
        #expect(try JSONStreamEncoder.encode(rate) == Array(try foundation(rate)))
        let nothing: String? = nil
        #expect(try JSONStreamEncoder.encode(nothing) == Array("null".utf8))
        // An existential opened at the call: the concrete type's path.
        let anything: any Encodable = Self.sample
        #expect(try object(JSONStreamEncoder.encode(anything)) == object(try foundation(Self.sample)))
        let text: any Encodable = "plain"
        #expect(try JSONStreamEncoder.encode(text) == Array(#""plain""#.utf8))
        let ratio: Double? = 0.5
        #expect(throws: JSONStreamEncoder.Unsupported.self) { try JSONStreamEncoder.encode(ratio) }
    }

    @Test("floating point falls back to Foundation through JSON.encode")
    func fallback() throws {
        struct Measured: Encodable { let ratio: Double }
        #expect(throws: JSONStreamEncoder.Unsupported.self) { try JSONStreamEncoder.encode(Measured(ratio: 0.5)) }
        #expect(try JSON.encode(Measured(ratio: 0.5)) == Array(#"{"ratio":0.5}"#.utf8))
    }
}
