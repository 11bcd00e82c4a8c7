import Foundation
import Testing

@testable import RCMSecurity

@Suite("Base64url")
struct Base64URLTests {
    /// Foundation's standard alphabet, with the URL-safe substitutions and no padding.
    static func reference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test("encodes as Foundation does and decodes back, for every length up to 70 and random bytes")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let encoded = Base64URL.encode(bytes)
                #expect(encoded == Self.reference(bytes))
                #expect(Base64URL.decode(encoded) == bytes)
            }
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
    }

    @Test("refuses padding, the standard alphabet's + and /, impossible lengths and stray bits")
    func refusals() {
        #expect(Base64URL.decode("YQ==") == nil)
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.decode("YWJjZ") == nil)  // 5 characters: no byte ends there
        #expect(Base64URL.decode("YR") == nil)  // "a" is YQ; R leaves bits after the byte
        #expect(Base64URL.decode("YWI\u{00E9}") == nil)
        #expect(Base64URL.decode("") == [])
    }
}
