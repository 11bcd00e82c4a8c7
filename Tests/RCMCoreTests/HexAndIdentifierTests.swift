import Foundation
import Testing

@testable import RCMCore

@Suite("Hex text, identifiers and logger metadata")
struct HexAndIdentifierTests {
    @Test("hex of bytes and of 64-bit words")
    func hex() {
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.encode(Array(0...255).map(UInt8.init)).count == 512)
        func word(_ value: UInt64) -> String {
            String(unsafeUninitializedCapacity: 18) { text in
                text[0] = UInt8(ascii: "<")
                Hex.write(value, into: text, at: 1)
                text[17] = UInt8(ascii: ">")
                return 18
            }
        }
        #expect(word(0x0123_4567_89ab_cdef) == "<0123456789abcdef>")
        #expect(word(UInt64.max) == "<ffffffffffffffff>")
        #expect(word(0) == "<0000000000000000>")
        #expect(
            Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Contiguous or not, from a string's bytes or an array's: the same digest.
        #expect(Digest.sha256Hex("abc".utf8) == Digest.sha256Hex(Array("abc".utf8)))
        #expect(Digest.sha256Hex(Array("cba".utf8).reversed()) == Digest.sha256Hex(Array("abc".utf8)))
        #expect(Digest.sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // FIPS 180-2's long example: a million "a".
        #expect(
            Digest.sha256Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("identifiers are prefixed, 26 Crockford characters, ordered by time and distinct")
    func identifiers() {
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        let ids = (0..<2000).map { _ in Identifier.make("inv") }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            #expect(id.hasPrefix("inv_") && id.count == 30 && id.dropFirst(4).allSatisfy(alphabet.contains))
        }
        let earlier = Identifier.make("x", at: Date(timeIntervalSince1970: 1_700_000_000))
        let later = Identifier.make("x", at: Date(timeIntervalSince1970: 1_700_000_001))
        #expect(earlier < later)
    }

    @Test("logger metadata keeps the order set and replaces a key set twice")
    func loggerMetadata() {
        var logger = Logger(label: "test", metadata: ["b": "2", "a": "1"])
        logger.set("request.id", "r1")
        logger.set("a", "one")
        #expect(logger.metadata.map(\.key) == ["a", "b", "request.id"])
        #expect(logger.metadata.first { $0.key == "a" }?.value == "one")
    }
}
