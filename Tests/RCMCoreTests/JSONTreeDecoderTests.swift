import Foundation
import Testing

@testable import RCMCore

/// The fast decoding path must read every document exactly as Foundation's `JSONDecoder` does, or
/// give up and let Foundation answer: checked value by value, and over mutated documents.
@Suite("JSON fast decoding path")
struct JSONTreeDecoderTests {
    struct Line: Codable, Equatable {
        var code: String
        var description: String?
        var cost: Money?
        var quantity: Int?
        var modifiers: [String]?
    }

    struct Body: Codable, Equatable {
        enum Kind: String, Codable { case opd, lab }
        var patientId: String?
        var services: [Line]?
        var kind: Kind?
        var ratio: Double?
        var flags: [String: Bool]?
        var nested: [[Int]]?
        var when: CalendarDate?
        var percent: Decimal?
        var optionals: [Int?]?
    }

    /// The fast path's own answer (nil when it gives up).
    func fast<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        Array(text.utf8).withUnsafeBufferPointer { try? JSONTreeDecoder.decode(type, from: $0) }
    }

    /// A value, or the error's description.
    enum Outcome<T: Equatable>: Equatable {
        case value(T)
        case error(String)
    }

    func foundation<T: Decodable & Equatable>(_ type: T.Type, _ text: String) -> Outcome<T> {
        do {
            return .value(try JSONDecoder().decode(type, from: Data(text.utf8)))
        } catch {
            return .error(String(describing: error))
        }
    }

    static let documents = [
        #"{"patientId":"P10001","services":[{"code":"OPD001","description":"Doctor Consultation","cost":400},{"code":"LAB025","description":"Blood Test","cost":250}]}"#,
        #"{"patientId":"P\u00e9\ud83d\ude00\n\"x\"\\/","services":[{"code":"A","cost":12.5,"quantity":3,"modifiers":["26","TC"]}],"kind":"lab"}"#,
        #" { "ratio" : -1.25e-3 , "flags" : { "a" : true , "b" : false } , "nested" : [ [ 1 , 2 ] , [ ] ] , "when" : "2026-12-04" } "#,
        #"{"percent":12.345,"optionals":[1,null,3],"services":[]}"#,
        #"{"services":[{"code":"A","cost":0.1},{"code":"B","cost":-0},{"code":"C","cost":1E2}]}"#,
        #"{"services":null,"patientId":null,"unknown":{"deep":[1,2,{"x":null}]}}"#,
        "{}",
    ]

    @Test("valid documents decode to the same values as with Foundation", arguments: documents)
    func sameValues(_ text: String) throws {
        let expected = try JSONDecoder().decode(Body.self, from: Data(text.utf8))
        let decoded = try #require(fast(Body.self, text))
        #expect(decoded == expected)
        #expect(try JSON.decode(Body.self, from: Array(text.utf8)) == expected)
        #expect(try JSON.decode(Body.self, from: text) == expected)
    }

    @Test("money is exact: 0.1 + 0.2 amounts, more than two decimals refused as Foundation refuses them")
    func exactMoney() throws {
        let lines = try JSON.decode([Line].self, from: #"[{"code":"A","cost":0.1},{"code":"B","cost":0.2}]"#)
        #expect(lines.compactMap(\.cost).sum() == Money(minorUnits: 30))
        #expect(fast([Line].self, #"[{"code":"A","cost":0.105}]"#) == nil)
        let error = #expect(throws: DecodingError.self) {
            try JSON.decode([Line].self, from: #"[{"code":"A","cost":0.105}]"#)
        }
        if let error { #expect(JSON.pointer(Self.path(of: error)) == "/0/cost") }
    }

    static func path(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.codingPath
        case .keyNotFound(let key, let context): return context.codingPath + [key]
        @unknown default: return []
        }
    }

    static let refused = [
        "", " ", "{", #"{"a":1,}"#, "[1,]", "01", "1.", ".5", "-", "+1", "1e", "NaN", "Infinity", "tru", "nul",
        #"{"patientId":"a"}x"#, #"{"patientId":'a'}"#, "{\"patientId\":\"a\u{01}\"}", #"{"patientId":"\x"}"#,
        #"{"patientId":"\ud800"}"#, #"{"patientId":"\udc00x"}"#, #"{"patientId":"a","patientId":"b"}"#,
        #"{"services":[{"code":"A","quantity":1.0}]}"#, #"{"services":[{"code":"A","quantity":99999999999999999999}]}"#,
        #"{"ratio":1e999}"#, #"{"patientId":5}"#, #"{"services":[{"cost":"400"}]}"#, #"{"kind":"xray"}"#,
        "\u{FEFF}{}",
    ]

    @Test("documents the fast path does not read exactly are left to Foundation", arguments: refused)
    func leftToFoundation(_ text: String) {
        #expect(fast(Body.self, text) == nil)
        // Whatever Foundation answers (a value or an error) is what JSON.decode answers.
        let viaJSON: Outcome<Body>
        do {
            viaJSON = .value(try JSON.decode(Body.self, from: Array(text.utf8)))
        } catch {
            viaJSON = .error(String(describing: error))
        }
        #expect(viaJSON == foundation(Body.self, text))
    }

    @Test("text that is not UTF-8 is left to Foundation; non-ASCII UTF-8 is read")
    func utf8() throws {
        let invalid: [UInt8] = Array(#"{"patientId":"P"#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        #expect(invalid.withUnsafeBufferPointer { try? JSONTreeDecoder.decode(Body.self, from: $0) } == nil)
        let accented = Array(#"{"patientId":"Zoë Ñúñez 山田"}"#.utf8)
        let decoded = accented.withUnsafeBufferPointer { try? JSONTreeDecoder.decode(Body.self, from: $0) }
        #expect(decoded?.patientId == "Zoë Ñúñez 山田")
    }

    @Test("mutated documents: the fast path either agrees with Foundation or gives up")
    func mutations() {
        var generator = SplitMix64(seed: 20_261_204)
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \ntrufalsnl"#.utf8)
        var agreed = 0
        var gaveUp = 0
        for round in 0..<3000 {
            var bytes = Array(Self.documents[round % Self.documents.count].utf8)
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                switch generator.next() % 3 {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                default:
                    if position < bytes.count {
                        bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                    }
                }
            }
            let fastValue = bytes.withUnsafeBufferPointer { try? JSONTreeDecoder.decode(Body.self, from: $0) }
            let expected = try? JSONDecoder().decode(Body.self, from: Data(bytes))
            if let fastValue {
                #expect(fastValue == expected, "\(String(decoding: bytes, as: UTF8.self))")
                agreed += 1
            } else {
                gaveUp += 1
            }
        }
        #expect(agreed > 100 && gaveUp > 100)
    }
}
