/// One segment: its id and its elements as they appear in the file (a composite or repeated element
/// keeps its component and repetition separators; split it with ``components(_:)`` and
/// ``repetitions(_:)``).
public struct X12Segment: Sendable, Equatable, Codable, CustomStringConvertible {
    /// "ISA", "NM1", ...
    public var id: String
    /// The data elements, without the id: `elements[0]` is element 01. Use ``subscript(_:)`` for
    /// 1-based access that never traps.
    public var elements: [String]
    /// 1-based index of the segment in the file.
    public var position: Int
    /// Byte offset of the segment's first byte from the start of the file.
    public var offset: Int
    /// The separators in force where the segment was read.
    public var separators: X12Separators

    public init(
        id: String, elements: [String], position: Int = 0, offset: Int = 0,
        separators: X12Separators = .standard
    ) {
        self.id = id
        self.elements = elements
        self.position = position
        self.offset = offset
        self.separators = separators
    }

    /// Element `position` (1-based, as in "NM103"); "" when absent.
    public subscript(_ position: Int) -> String {
        position >= 1 && position <= elements.count ? elements[position - 1] : ""
    }

    /// Element `position`, nil when absent or empty.
    public func value(_ position: Int) -> String? {
        let text = self[position]
        return text.isEmpty ? nil : text
    }

    /// The components of element `position` (first repetition only): "HC:99213:25" gives
    /// ["HC", "99213", "25"].
    public func components(_ position: Int) -> [String] {
        let first = repetitions(position).first ?? ""
        return X12Segment.split(first, on: separators.component)
    }

    /// Component `index` (1-based) of element `position`; "" when absent.
    public func component(_ position: Int, _ index: Int) -> String {
        let parts = components(position)
        return index >= 1 && index <= parts.count ? parts[index - 1] : ""
    }

    /// The repetitions of element `position`: "1^33^35" gives ["1", "33", "35"]; an empty element
    /// gives [].
    public func repetitions(_ position: Int) -> [String] {
        let text = self[position]
        if text.isEmpty { return [] }
        guard let repetition = separators.repetition else { return [text] }
        return X12Segment.split(text, on: repetition)
    }

    /// The segment as it would be written with its own separators (no terminator).
    public var description: String {
        var text = id
        let separator = String(Character(Unicode.Scalar(separators.element)))
        for element in elements { text += separator + element }
        return text
    }

    static func split(_ text: String, on byte: UInt8) -> [String] {
        text.utf8.split(separator: byte, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, elements, position, offset
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        elements = try container.decode([String].self, forKey: .elements)
        position = try container.decodeIfPresent(Int.self, forKey: .position) ?? 0
        offset = try container.decodeIfPresent(Int.self, forKey: .offset) ?? 0
        separators = .standard
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(elements, forKey: .elements)
        try container.encode(position, forKey: .position)
        try container.encode(offset, forKey: .offset)
    }
}
