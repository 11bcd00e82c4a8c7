/// The four delimiters of an interchange, as bytes. They are read from each ISA segment.
public struct X12Separators: Sendable, Equatable, Hashable {
    public var element: UInt8
    /// The repetition separator (ISA11 in 5010); nil in versions before 00501, where ISA11 is a code.
    public var repetition: UInt8?
    public var component: UInt8
    public var segment: UInt8

    public init(element: UInt8, repetition: UInt8?, component: UInt8, segment: UInt8) {
        self.element = element
        self.repetition = repetition
        self.component = component
        self.segment = segment
    }

    /// `*`, `^`, `:` and `~`: the separators most trading partners use.
    public static let standard = X12Separators(
        element: UInt8(ascii: "*"), repetition: UInt8(ascii: "^"), component: UInt8(ascii: ":"),
        segment: UInt8(ascii: "~"))

    /// Why these separators cannot be used, or nil when they can: they must be distinct, printable or
    /// control characters that are not letters, digits or space.
    public var problem: String? {
        var all = [element, component, segment]
        if let repetition { all.append(repetition) }
        if Set(all).count != all.count { return "separators are not distinct" }
        for byte in all where X12Separators.isDataCharacter(byte) {
            return "separator \(X12Separators.show(byte)) is a letter, digit or space"
        }
        return nil
    }

    /// Letters, digits and space cannot be separators.
    static func isDataCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == 0x20
    }

    /// A separator for messages: the character, or its code when it does not print.
    static func show(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "0x" + String(byte, radix: 16, uppercase: true)
    }

    /// True for the bytes of this set.
    func contains(_ byte: UInt8) -> Bool {
        byte == element || byte == component || byte == segment || byte == repetition
    }
}
