import Foundation

/// A JSON encoder that writes bytes as `encode(to:)` runs, instead of building a tree first as
/// Foundation's `JSONEncoder` does. Profiles of `POST /api/billing/generate` showed encoding as the
/// largest single cost; this writes the same JSON (keys in encoding order, `/` not escaped,
/// `Decimal` and `Money` as plain numbers, nil optionals left out) several times faster.
///
/// It supports what synthesized `Codable` conformances, arrays, dictionaries and single values
/// use. A type that asks for something else (nested containers, super encoders, floating point)
/// makes it throw `Unsupported`, and `JSON.encode` falls back to Foundation's encoder.
enum JSONStreamEncoder {
    struct Unsupported: Error {}

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let sink = Sink()
        try write(value, to: sink)
        return sink.bytes
    }

    final class Sink {
        var bytes: [UInt8] = []
        init() { bytes.reserveCapacity(1024) }

        func append(_ byte: UInt8) { bytes.append(byte) }
        func append(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        func string(_ text: String) {
            bytes.append(34)
            var text = text
            text.withUTF8 { utf8 in
                var start = 0
                for index in 0..<utf8.count {
                    let byte = utf8[index]
                    guard byte < 0x20 || byte == 34 || byte == 92 else { continue }
                    if start < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index])) }
                    switch byte {
                    case 34: append("\\\"")
                    case 92: append("\\\\")
                    case 10: append("\\n")
                    case 13: append("\\r")
                    case 9: append("\\t")
                    case 8: append("\\b")
                    case 12: append("\\f")
                    default:
                        let hex = Array("0123456789abcdef".utf8)
                        append("\\u00")
                        bytes.append(hex[Int(byte >> 4)])
                        bytes.append(hex[Int(byte & 15)])
                    }
                    start = index + 1
                }
                if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
            }
            bytes.append(34)
        }

        func integer<I: BinaryInteger>(_ value: I) { bytes.append(contentsOf: String(value).utf8) }

        /// Minor units as a decimal number, trailing zeros dropped as `Decimal` prints them: 650, 12.5, 0.05.
        func money(_ money: Money) {
            let magnitude = money.minorUnits.magnitude
            if money.minorUnits < 0 { bytes.append(45) }
            integer(magnitude / 100)
            let fraction = magnitude % 100
            guard fraction != 0 else { return }
            bytes.append(46)
            bytes.append(UInt8(48 + fraction / 10))
            if fraction % 10 != 0 { bytes.append(UInt8(48 + fraction % 10)) }
        }
    }

    /// What one `encode(to:)` call opened, so the caller can close it.
    final class State {
        enum Opened { case nothing, object, array, single }
        var opened = Opened.nothing
        var count = 0
    }

    /// Writes one value, closing whatever container its `encode(to:)` opened.
    static func write<T: Encodable>(_ value: T, to sink: Sink) throws {
        switch value {
        case let text as String: sink.string(text)
        case let money as Money: sink.money(money)
        case let number as Int: sink.integer(number)
        case let number as Int64: sink.integer(number)
        case let flag as Bool: sink.append(flag ? "true" : "false")
        case let decimal as Decimal: sink.bytes.append(contentsOf: decimal.description.utf8)
        case is Double, is Float: throw Unsupported()
        default:
            let state = State()
            try value.encode(to: Encoder(sink: sink, state: state))
            switch state.opened {
            case .object: sink.append(125)
            case .array: sink.append(93)
            case .nothing: sink.append("{}")
            case .single: if state.count == 0 { sink.append("null") }
            }
        }
    }

    struct Encoder: Swift.Encoder {
        let sink: Sink
        let state: State
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if state.opened == .nothing {
                state.opened = .object
                sink.append(123)
            }
            return KeyedEncodingContainer(Keyed<Key>(sink: sink, state: state, valid: state.opened == .object))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            if state.opened == .nothing {
                state.opened = .array
                sink.append(91)
            }
            return Unkeyed(sink: sink, state: state, valid: state.opened == .array)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            if state.opened == .nothing { state.opened = .single }
            return Single(sink: sink, state: state, valid: state.opened == .single)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let sink: Sink
        let state: State
        /// False when the type asked for a second, different container: unsupported.
        let valid: Bool
        var codingPath: [any CodingKey] { [] }

        private func key(_ key: Key) throws {
            guard valid else { throw Unsupported() }
            if state.count > 0 { sink.append(44) }
            state.count += 1
            sink.string(key.stringValue)
            sink.append(58)
        }

        mutating func encodeNil(forKey key: Key) throws {
            try self.key(key)
            sink.append("null")
        }
        mutating func encode(_ value: String, forKey key: Key) throws {
            try self.key(key)
            sink.string(value)
        }
        mutating func encode(_ value: Bool, forKey key: Key) throws {
            try self.key(key)
            sink.append(value ? "true" : "false")
        }
        mutating func encode(_ value: Int, forKey key: Key) throws {
            try self.key(key)
            sink.integer(value)
        }
        mutating func encode(_ value: Int64, forKey key: Key) throws {
            try self.key(key)
            sink.integer(value)
        }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try self.key(key)
            try JSONStreamEncoder.write(value, to: sink)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type, forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Keyed<NestedKey>(sink: sink, state: state, valid: false))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            Unkeyed(sink: sink, state: state, valid: false)
        }
        mutating func superEncoder() -> any Swift.Encoder { Encoder(sink: sink, state: State.unsupported) }
        mutating func superEncoder(forKey key: Key) -> any Swift.Encoder {
            Encoder(sink: sink, state: State.unsupported)
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let sink: Sink
        let state: State
        let valid: Bool
        var codingPath: [any CodingKey] { [] }
        var count: Int { state.count }

        private func separator() throws {
            guard valid else { throw Unsupported() }
            if state.count > 0 { sink.append(44) }
            state.count += 1
        }

        mutating func encodeNil() throws {
            try separator()
            sink.append("null")
        }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try separator()
            try JSONStreamEncoder.write(value, to: sink)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type
        )
            -> KeyedEncodingContainer<NestedKey>
        {
            KeyedEncodingContainer(Keyed<NestedKey>(sink: sink, state: state, valid: false))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            Unkeyed(sink: sink, state: state, valid: false)
        }
        mutating func superEncoder() -> any Swift.Encoder { Encoder(sink: sink, state: State.unsupported) }
    }

    struct Single: SingleValueEncodingContainer {
        let sink: Sink
        let state: State
        let valid: Bool
        var codingPath: [any CodingKey] { [] }

        private func claim() throws {
            guard valid, state.count == 0 else { throw Unsupported() }
            state.count = 1
        }

        mutating func encodeNil() throws {
            try claim()
            sink.append("null")
        }
        mutating func encode(_ value: String) throws {
            try claim()
            sink.string(value)
        }
        mutating func encode(_ value: Bool) throws {
            try claim()
            sink.append(value ? "true" : "false")
        }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try claim()
            try JSONStreamEncoder.write(value, to: sink)
        }
    }
}

extension JSONStreamEncoder.State {
    /// A state that refuses every container: for super encoders, which this encoder does not support.
    static var unsupported: JSONStreamEncoder.State {
        let state = JSONStreamEncoder.State()
        state.opened = .single
        state.count = 1
        return state
    }
}
