import Foundation
import Testing

@testable import RCMCore

@Suite("Money is exact")
struct MoneyTests {
    struct Holder: Decodable { let amount: Money }

    @Test("JSON numbers decode exactly, through Decimal, into minor units")
    func decodesExactly() throws {
        #expect(try JSON.decode(Holder.self, from: #"{"amount": 400}"#).amount == Money(minorUnits: 40000))
        #expect(try JSON.decode(Holder.self, from: #"{"amount": 0.1}"#).amount == Money(minorUnits: 10))
        #expect(
            try JSON.decode(Holder.self, from: #"{"amount": 1234567890123.45}"#).amount.minorUnits
                == 123_456_789_012_345)
        #expect(try JSON.decode(Holder.self, from: #"{"amount": -2.5}"#).amount == Money(minorUnits: -250))
    }

    @Test("more than two decimal places is rejected, naming the field", arguments: ["250.125", "0.001", "1e-3"])
    func rejectsThirdDecimal(text: String) {
        #expect(throws: DecodingError.self) { try JSON.decode(Holder.self, from: #"{"amount": \#(text)}"#) }
        do {
            _ = try JSON.decode(Holder.self, from: #"{"amount": \#(text)}"#)
        } catch let error as DecodingError {
            let problem = JSON.problem(for: error)
            #expect(problem.status == 422)
            #expect(problem.errors.first?.pointer == "/amount")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("plain literals read in integers agree with Decimal on every one")
    func plainLiteralsAgreeWithDecimal() throws {
        var random = SplitMix64(seed: 20_261_204)
        var literals = [
            "0", "-0", "0.5", "0.05", "0.50", "650", "650.00", "1.5", "-2.25", "99999999999999.99",
            "999999999999999.99", "12345678901234567", "1.234", "1.", ".5", "-", "1e2", "1E-2", "+1", "1.2.3",
            "12a", "",
        ]
        for _ in 0..<5_000 {
            let whole = String(random.next() % (random.next() % 2 == 0 ? 1_000 : 100_000_000_000_000))
            let decimals = ["", ".0", ".5", ".25", ".125", ".07", ".999"][Int(random.next() % 7)]
            literals.append((random.next() % 4 == 0 ? "-" : "") + whole + decimals)
        }
        for literal in literals {
            let throughDecimal = Decimal(string: literal, locale: nil).flatMap { Money(exactly: $0) }
            if let plain = Money(plainLiteral: literal) {
                // Whatever the integer path reads, Decimal reads the same (the rest it leaves to Decimal).
                #expect(plain == throughDecimal, "\(literal)")
            }
            // And decoding JSON gives Decimal's answer either way.
            if Decimal(string: literal, locale: nil) != nil,
                let number = try? JSON.decode(Holder.self, from: #"{"amount": \#(literal)}"#)
            {
                #expect(number.amount == throughDecimal, "\(literal)")
            }
        }
        #expect(Money(plainLiteral: "650") == Money(minorUnits: 65000))
        #expect(Money(plainLiteral: "-0.05") == Money(minorUnits: -5))
        #expect(Money(plainLiteral: "1.234") == nil)
        #expect(Money(plainLiteral: "1e2") == nil)
        #expect(Money(plainLiteral: "123456789012345678") == nil)
    }

    @Test("percentages in integers agree with Decimal, half-to-even")
    func percentagesAgreeWithDecimal() {
        var random = SplitMix64(seed: 4_12_2026)
        var percents = ["0", "10", "12.5", "20", "33.33", "50", "100", "0.01", "7.125", "150", "-5", "12.3456789"]
        for _ in 0..<200 { percents.append(String(random.next() % 10_000) + "." + String(random.next() % 100)) }
        for text in percents {
            let percent = Decimal(string: text)!
            for minorUnits: Int64 in [0, 1, 5, 15, 25, 35, 50, 65000, -65000, 12345, -12345, 999_999_999_999] {
                let amount = Money(minorUnits: minorUnits)
                #expect(
                    amount.percentage(percent) == amount.percentageThroughDecimal(percent), "\(minorUnits) × \(text)%")
            }
            for _ in 0..<50 {
                let amount = Money(minorUnits: Int64(random.next() % 2_000_000_000) - 1_000_000_000)
                #expect(amount.percentage(percent) == amount.percentageThroughDecimal(percent), "\(amount) × \(text)%")
            }
        }
        // Half a minor unit goes to the even neighbour: 12.5% of 0.20 is 2.5 paise, 12.5% of 0.60 is 7.5.
        #expect(Money(minorUnits: 20).percentage(12.5) == Money(minorUnits: 2))
        #expect(Money(minorUnits: 60).percentage(12.5) == Money(minorUnits: 8))
        #expect(Money(minorUnits: -20).percentage(12.5) == Money(minorUnits: -2))
    }

    @Test("a string is not an amount")
    func rejectsString() {
        do {
            _ = try JSON.decode(Holder.self, from: #"{"amount": "12"}"#)
            Issue.record("decoded a string")
        } catch let error as DecodingError {
            #expect(JSON.problem(for: error).errors == [.init(pointer: "/amount", message: "must be a number")])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("percentages round half to even at the minor unit")
    func bankersRounding() {
        // 0.25 × 10% = 0.025 → 0.02 (even); 0.35 × 10% = 0.035 → 0.04 (even); 1.00 × 12.5% = 0.125 → 0.12
        #expect(Money(minorUnits: 25).percentage(10) == Money(minorUnits: 2))
        #expect(Money(minorUnits: 35).percentage(10) == Money(minorUnits: 4))
        #expect(Money(minorUnits: 100).percentage(Decimal(string: "12.5")!) == Money(minorUnits: 12))
        #expect(Money(minorUnits: 300).percentage(Decimal(string: "12.5")!) == Money(minorUnits: 38))
        // 0.1 + 0.2 is exactly 0.3.
        #expect(Money(minorUnits: 10) + Money(minorUnits: 20) == Money(minorUnits: 30))
    }

    @Test("encodes as a plain decimal number and prints two places")
    func encodes() throws {
        #expect(try JSON.encodeString(["a": Money(minorUnits: 65000)]) == #"{"a":650}"#)
        #expect(try JSON.encodeString(["a": Money(minorUnits: 1250)]) == #"{"a":12.5}"#)
        #expect(Money(minorUnits: -5).description == "-0.05")
        #expect(Money(minorUnits: 65000).description == "650.00")
    }
}

@Suite("Dates, times and identifiers")
struct CalendarTests {
    @Test func calendarDates() {
        #expect(CalendarDate("2024-02-29") != nil)
        #expect(CalendarDate("2023-02-29") == nil)
        #expect(CalendarDate("2023-13-01") == nil)
        #expect(CalendarDate("2023-1-01") == nil)
        #expect(CalendarDate("2023-01-31")! < CalendarDate("2023-02-01")!)
    }

    @Test func timestampsRoundTrip() {
        let date = Date(timeIntervalSince1970: 1_780_000_000.125)
        let text = Timestamp.format(date)
        #expect(text == "2026-05-28T20:26:40.125000Z")
        #expect(Timestamp.parse(text).map { abs($0.timeIntervalSince(date)) < 0.001 } == true)
    }

    @Test func identifiersAreUniqueAndTimeOrdered() {
        let early = Identifier.make("inv", at: Date(timeIntervalSince1970: 1_700_000_000))
        let late = Identifier.make("inv", at: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(early.hasPrefix("inv_") && early.count == 30)
        #expect(early < late)
        #expect(Set((0..<1000).map { _ in Identifier.make("x") }).count == 1000)
    }

    @Test func sha256() {
        #expect(
            Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
