import Foundation

/// One transaction set (ST … SE) with the envelope values it was read under and its loop tree.
public struct X12TransactionSet: Sendable, Codable {
    /// ST01: "270", "835", ...
    public var id: String
    /// ST02.
    public var controlNumber: String
    /// The implementation guide version: GS08 (e.g. "005010X279A1"), or ST03 when GS08 is absent.
    public var version: String
    /// ISA13 and GS06 of the enclosing envelopes ("" when missing).
    public var interchangeControlNumber: String
    public var groupControlNumber: String
    /// Every segment from ST to SE inclusive (SE is absent when the file was truncated).
    public var segments: [X12Segment]
    /// The loops of the transaction set: the root (id ``X12Loop/transactionRoot``) holds the header
    /// and trailer segments and the top-level loops.
    public var root: X12Loop

    public init(
        id: String, controlNumber: String, version: String, interchangeControlNumber: String,
        groupControlNumber: String, segments: [X12Segment], root: X12Loop
    ) {
        self.id = id
        self.controlNumber = controlNumber
        self.version = version
        self.interchangeControlNumber = interchangeControlNumber
        self.groupControlNumber = groupControlNumber
        self.segments = segments
        self.root = root
    }

    /// SE01 as written ("" when SE is missing).
    public var declaredSegmentCount: String { segments.last?.id == "SE" ? segments.last?[1] ?? "" : "" }

    enum CodingKeys: String, CodingKey {
        case id, controlNumber, version, segmentCount, loops
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        controlNumber = try container.decode(String.self, forKey: .controlNumber)
        version = try container.decode(String.self, forKey: .version)
        root = try container.decode(X12Loop.self, forKey: .loops)
        segments = root.allSegments
        interchangeControlNumber = ""
        groupControlNumber = ""
    }

    /// Encodes the loop tree only (the flat segment list would repeat it).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(controlNumber, forKey: .controlNumber)
        try container.encode(version, forKey: .version)
        try container.encode(segments.count, forKey: .segmentCount)
        try container.encode(root, forKey: .loops)
    }
}

/// GS … GE.
public struct X12FunctionalGroup: Sendable, Codable {
    public var header: X12Segment
    public var transactions: [X12TransactionSet]
    /// GE; nil when missing.
    public var trailer: X12Segment?

    public init(header: X12Segment, transactions: [X12TransactionSet] = [], trailer: X12Segment? = nil) {
        self.header = header
        self.transactions = transactions
        self.trailer = trailer
    }

    /// GS01: "HS", "HB", "HP", ...
    public var functionalIdentifier: String { header[1] }
    /// GS06.
    public var controlNumber: String { header[6] }
    /// GS08, e.g. "005010X279A1".
    public var version: String { header[8] }
}

/// ISA … IEA.
public struct X12Interchange: Sendable, Codable {
    public var header: X12Segment
    public var groups: [X12FunctionalGroup]
    /// IEA; nil when missing.
    public var trailer: X12Segment?

    public init(header: X12Segment, groups: [X12FunctionalGroup] = [], trailer: X12Segment? = nil) {
        self.header = header
        self.groups = groups
        self.trailer = trailer
    }

    /// ISA13.
    public var controlNumber: String { header[13] }
    /// ISA12, e.g. "00501".
    public var version: String { header[12] }
    public var separators: X12Separators { header.separators }
}

/// A whole file: its interchanges and every issue found. For large files prefer ``X12Reader``, which
/// holds one transaction set at a time.
public struct X12Document: Sendable, Codable {
    public var interchanges: [X12Interchange]
    public var issues: [X12Issue]

    public init(interchanges: [X12Interchange] = [], issues: [X12Issue] = []) {
        self.interchanges = interchanges
        self.issues = issues
    }

    /// The issues of severity error.
    public var errors: [X12Issue] { issues.filter { $0.severity == .error } }

    /// Every transaction set of every group of every interchange, in file order.
    public var transactions: [X12TransactionSet] {
        interchanges.flatMap { $0.groups.flatMap(\.transactions) }
    }

    /// Every segment read, envelopes included, in file order.
    public var allSegments: [X12Segment] {
        var all: [X12Segment] = []
        for interchange in interchanges {
            all.append(interchange.header)
            for group in interchange.groups {
                all.append(group.header)
                for transaction in group.transactions { all.append(contentsOf: transaction.segments) }
                if let trailer = group.trailer { all.append(trailer) }
            }
            if let trailer = interchange.trailer { all.append(trailer) }
        }
        return all
    }

    /// Parses bytes held in memory. Never traps: problems become ``issues``.
    public static func parse(_ bytes: [UInt8]) -> X12Document {
        build(X12Reader(bytes: bytes))
    }

    /// Parses data held in memory.
    public static func parse(_ data: Data) -> X12Document {
        parse([UInt8](data))
    }

    /// Parses text (its UTF-8 bytes).
    public static func parse(_ text: String) -> X12Document {
        parse(Array(text.utf8))
    }

    /// Reads and parses a file.
    public static func parse(contentsOfFile path: String) throws -> X12Document {
        build(try X12Reader(path: path))
    }

    static func build(_ reader: X12Reader) -> X12Document {
        var document = X12Document()
        while let event = reader.next() {
            switch event {
            case .interchangeStart(let isa):
                document.interchanges.append(X12Interchange(header: isa))
            case .groupStart(let gs):
                if document.interchanges.isEmpty { continue }
                document.interchanges[document.interchanges.count - 1].groups.append(X12FunctionalGroup(header: gs))
            case .transaction(let transaction):
                guard let last = document.interchanges.indices.last,
                    let group = document.interchanges[last].groups.indices.last
                else { continue }
                document.interchanges[last].groups[group].transactions.append(transaction)
            case .groupEnd(let ge):
                guard let last = document.interchanges.indices.last,
                    let group = document.interchanges[last].groups.indices.last
                else { continue }
                document.interchanges[last].groups[group].trailer = ge
            case .interchangeEnd(let iea):
                guard let last = document.interchanges.indices.last else { continue }
                document.interchanges[last].trailer = iea
            }
        }
        document.issues = reader.issues
        return document
    }
}
