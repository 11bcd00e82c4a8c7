import Foundation

/// A fast path for decoding JSON: the bytes are parsed into a small tree in one pass, and the value
/// is decoded from the tree by a `Decoder` without Foundation's per-call machinery (Foundation's
/// `JSONDecoder` was about a tenth of the CPU of a billed invoice: request bodies, service replies
/// and event payloads).
///
/// It is strict: anything it is not sure to read exactly as Foundation's `JSONDecoder` does — any
/// error, a duplicate key, a number that does not fit, `Date`, `Data`, a super-decoder — makes it
/// give up, and `JSON.decode` then asks Foundation, whose answer (value or error, with its coding
/// path for the problem's JSON pointer) is the one returned. So it can only be faster, never
/// different.
enum JSONTreeDecoder {
    /// Decodes `type`, or throws `GiveUp` for Foundation to decide.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeBufferPointer<UInt8>) throws -> T {
        var parser = JSONTreeParser(bytes: bytes)
        let root = try parser.document()
        return try TreeDecoder.unbox(root, as: type)
    }

    /// Not decoded on the fast path; Foundation decides.
    struct GiveUp: Error {}
}

/// One parsed JSON value. Numbers keep their text, so that each is read into the type asked for
/// (`Decimal` exactly, integers without passing through `Double`).
enum JSONNode {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([(key: String, value: JSONNode)])
}

/// RFC 8259 parser over UTF-8 bytes.
struct JSONTreeParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    /// Foundation's limit too: deeper documents are refused rather than overflow the stack.
    static let maxDepth = 512

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws -> JSONNode {
        skipWhitespace()
        let value = try self.value()
        skipWhitespace()
        guard index == bytes.count else { throw JSONTreeDecoder.GiveUp() }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func value() throws -> JSONNode {
        guard index < bytes.count else { throw JSONTreeDecoder.GiveUp() }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw JSONTreeDecoder.GiveUp()
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw JSONTreeDecoder.GiveUp() }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw JSONTreeDecoder.GiveUp() }
        index += count
    }

    private mutating func object() throws -> JSONNode {
        var members: [(key: String, value: JSONNode)] = []
        try elements(closing: UInt8(ascii: "}")) { parser in
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
                throw JSONTreeDecoder.GiveUp()
            }
            let key = try parser.string()
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else {
                throw JSONTreeDecoder.GiveUp()
            }
            parser.index += 1
            parser.skipWhitespace()
            members.append((key, try parser.value()))
        }
        return .object(members)
    }

    private mutating func array() throws -> JSONNode {
        var elements: [JSONNode] = []
        try self.elements(closing: UInt8(ascii: "]")) { parser in elements.append(try parser.value()) }
        return .array(elements)
    }

    /// The members of an object or the elements of an array, from the opening bracket: `element`
    /// reads one; the commas, the closing bracket and the depth limit are handled here.
    private mutating func elements(closing: UInt8, _ element: (inout JSONTreeParser) throws -> Void) throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw JSONTreeDecoder.GiveUp() }
        defer { depth -= 1 }
        index += 1  // the opening bracket
        skipWhitespace()
        if index < bytes.count, bytes[index] == closing {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard index < bytes.count else { throw JSONTreeDecoder.GiveUp() }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == closing else { throw JSONTreeDecoder.GiveUp() }
            index += 1
            return
        }
    }

    /// A string from its opening quote; UTF-8 is validated (invalid text is not repaired here).
    private mutating func string() throws -> String {
        index += 1  // "
        let start = index
        var ascii = true
        // Fast path: no escapes. ASCII text needs no UTF-8 validation.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let range = UnsafeBufferPointer(rebasing: bytes[start..<index])
                let text = ascii ? String(decoding: range, as: UTF8.self) : String(validating: range, as: UTF8.self)
                guard let text else { throw JSONTreeDecoder.GiveUp() }
                index += 1
                return text
            }
            ascii = ascii && byte < 0x80
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw JSONTreeDecoder.GiveUp() }
            index += 1
        }
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: buffer, as: UTF8.self) else { throw JSONTreeDecoder.GiveUp() }
                index += 1
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw JSONTreeDecoder.GiveUp() }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escaped)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw JSONTreeDecoder.GiveUp() }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw JSONTreeDecoder.GiveUp() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw JSONTreeDecoder.GiveUp() }
                    buffer.append(contentsOf: UTF8.encode(unicode).map { Array($0) } ?? [])
                default: throw JSONTreeDecoder.GiveUp()
                }
            default:
                guard byte >= 0x20 else { throw JSONTreeDecoder.GiveUp() }
                buffer.append(byte)
                index += 1
            }
        }
        throw JSONTreeDecoder.GiveUp()
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw JSONTreeDecoder.GiveUp() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONTreeDecoder.GiveUp()
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as text.
    private mutating func number() throws -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw JSONTreeDecoder.GiveUp() }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { throw JSONTreeDecoder.GiveUp() }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw JSONTreeDecoder.GiveUp() }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { throw JSONTreeDecoder.GiveUp() }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }
}

/// Decodes `Decodable` values from a parsed tree. Every failure is `GiveUp`. Coding paths are
/// left empty: they only ever serve error messages, and errors are Foundation's to report
/// (building a path per value cost more than the rest of the decoding).
struct TreeDecoder: Decoder, SingleValueDecodingContainer {
    let node: JSONNode
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func unbox<T: Decodable>(_ node: JSONNode, as type: T.Type) throws -> T {
        // Amounts without Decimal when their literal is plain (Money.init(from:) decides the rest).
        if T.self == Money.self, case .number(let text) = node, let money = Money(plainLiteral: text) {
            return unsafeBitCast(money, to: T.self)
        }
        if T.self == Decimal.self {
            guard case .number(let text) = node, let decimal = Decimal(string: text, locale: nil) else {
                throw JSONTreeDecoder.GiveUp()
            }
            return unsafeBitCast(decimal, to: T.self)
        }
        // Foundation's strategies decide these (dates, base64 data, URLs).
        if T.self == Date.self || T.self == Data.self || T.self == URL.self { throw JSONTreeDecoder.GiveUp() }
        return try T(from: TreeDecoder(node: node))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else { throw JSONTreeDecoder.GiveUp() }
        return KeyedDecodingContainer(try TreeKeyedContainer<Key>(members: members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else { throw JSONTreeDecoder.GiveUp() }
        return TreeUnkeyedContainer(elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Single value

    func decodeNil() -> Bool {
        if case .null = node { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let value) = node else { throw JSONTreeDecoder.GiveUp() }
        return value
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let value) = node else { throw JSONTreeDecoder.GiveUp() }
        return value
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let text) = node, let value = Double(text), value.isFinite else {
            throw JSONTreeDecoder.GiveUp()
        }
        return value
    }

    func decode(_ type: Float.Type) throws -> Float {
        guard case .number(let text) = node, let value = Float(text), value.isFinite else {
            throw JSONTreeDecoder.GiveUp()
        }
        return value
    }

    func decode(_ type: Int.Type) throws -> Int { try integer() }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try TreeDecoder.unbox(node, as: type) }

    /// Plain integer text only (`1.0` and `1e2` are left to Foundation).
    private func integer<T: FixedWidthInteger>() throws -> T {
        guard case .number(let text) = node, let value = T(text, radix: 10) else { throw JSONTreeDecoder.GiveUp() }
        return value
    }
}

struct TreeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(key: String, value: JSONNode)]
    var codingPath: [any CodingKey] { [] }
    /// For large objects; small ones are searched in order.
    let index: [String: Int]?

    init(members: [(key: String, value: JSONNode)]) throws {
        self.members = members
        if members.count > 16 {
            var index: [String: Int] = [:]
            index.reserveCapacity(members.count)
            for (position, member) in members.enumerated() {
                // A key given twice: which one wins is Foundation's call.
                guard index.updateValue(position, forKey: member.key) == nil else { throw JSONTreeDecoder.GiveUp() }
            }
            self.index = index
        } else {
            for first in members.indices {
                for second in members.indices where second > first && members[first].key == members[second].key {
                    throw JSONTreeDecoder.GiveUp()
                }
            }
            self.index = nil
        }
    }

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    private func node(_ key: Key) -> JSONNode? {
        if let index { return index[key.stringValue].map { members[$0].value } }
        let name = key.stringValue
        for member in members where member.key == name { return member.value }
        return nil
    }

    private func required(_ key: Key) throws -> TreeDecoder {
        guard let node = node(key) else { throw JSONTreeDecoder.GiveUp() }
        return TreeDecoder(node: node)
    }

    func contains(_ key: Key) -> Bool { node(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try required(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try required(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try required(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try required(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try required(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try required(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try required(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try required(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try required(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try required(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try required(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try required(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try required(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try required(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try required(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try required(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try required(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try required(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { throw JSONTreeDecoder.GiveUp() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw JSONTreeDecoder.GiveUp() }
}

struct TreeUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONNode]
    var codingPath: [any CodingKey] { [] }
    var currentIndex = 0

    init(elements: [JSONNode]) { self.elements = elements }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The next element, moving past it.
    private mutating func next() throws -> TreeDecoder {
        guard currentIndex < elements.count else { throw JSONTreeDecoder.GiveUp() }
        defer { currentIndex += 1 }
        return TreeDecoder(node: elements[currentIndex])
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elements.count else { throw JSONTreeDecoder.GiveUp() }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next().decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decode(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { throw JSONTreeDecoder.GiveUp() }
}
