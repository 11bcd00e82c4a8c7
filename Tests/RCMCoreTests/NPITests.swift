import Testing

@testable import RCMCore

@Suite("NPI check digits")
struct NPITests {
    @Test("valid NPIs pass", arguments: ["1234567893", "1245319599", "1000000004", "2000000002"])
    func valid(_ text: String) {
        #expect(NPI.isValid(text))
        #expect(NPI(text)?.value == text)
    }

    @Test(
        "anything else fails",
        arguments: [
            "1234567890", "1234567894", "123456789", "12345678930", "3234567893", "0234567893", "12345678a3",
            "", " 1234567893", "１234567893",
        ])
    func invalid(_ text: String) {
        #expect(!NPI.isValid(text))
        #expect(NPI(text) == nil)
    }

    @Test("the check digit is the Luhn digit over 80840 and the first nine digits")
    func checkDigit() {
        #expect(NPI.checkDigit("123456789") == 3)
        #expect(NPI.checkDigit("124531959") == 9)
        #expect(NPI.checkDigit("12345678") == nil)
        #expect(NPI.checkDigit("12345678x") == nil)
        // Every single-digit change of a valid NPI is caught.
        let base = Array("1234567893")
        for index in 1..<10 {
            for digit in "0123456789" where digit != base[index] {
                var changed = base
                changed[index] = digit
                #expect(!NPI.isValid(String(changed)), "\(String(changed))")
            }
        }
    }
}
