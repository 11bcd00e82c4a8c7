import Foundation

/// Why ``X12Writer`` refused to write something.
public struct X12WriterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// One data element to write: a simple value, a composite (components) or repeated values.
public struct X12Element: Sendable, Equatable, ExpressibleByStringLiteral {
    /// Repetitions, each a list of components; a simple value is `[[value]]`.
    public var repetitions: [[String]]

    public init(_ value: String) { repetitions = [[value]] }

    public init(stringLiteral value: String) { repetitions = [[value]] }

    /// A composite element: "HC", "99213" gives `HC:99213`.
    public init(components: [String]) { repetitions = [components] }

    /// A repeated element: ["1", "33"] gives `1^33`.
    public init(repeating values: [String]) { repetitions = values.map { [$0] } }

    public init(repetitions: [[String]]) { self.repetitions = repetitions }
}

/// The ISA values other than the separators and control number.
public struct X12InterchangeHeader: Sendable, Equatable {
    public var authorizationQualifier = "00"
    public var authorizationInformation = ""
    public var securityQualifier = "00"
    public var securityInformation = ""
    public var senderQualifier: String
    public var senderId: String
    public var receiverQualifier: String
    public var receiverId: String
    /// ISA09 YYMMDD and ISA10 HHMM.
    public var date: String
    public var time: String
    /// ISA12.
    public var version = "00501"
    /// ISA13 (at most 9 digits).
    public var controlNumber: Int
    /// ISA14: "0" or "1".
    public var acknowledgmentRequested = "0"
    /// ISA15: "P" production or "T" test.
    public var usageIndicator: String

    public init(
        senderQualifier: String, senderId: String, receiverQualifier: String, receiverId: String, date: String,
        time: String, controlNumber: Int, usageIndicator: String
    ) {
        self.senderQualifier = senderQualifier
        self.senderId = senderId
        self.receiverQualifier = receiverQualifier
        self.receiverId = receiverId
        self.date = date
        self.time = time
        self.controlNumber = controlNumber
        self.usageIndicator = usageIndicator
    }

    /// The values of a parsed ISA (padding removed).
    public init(_ isa: X12Segment) {
        func trimmed(_ position: Int) -> String {
            String(isa[position].reversed().drop { $0 == " " }.reversed())
        }
        authorizationQualifier = isa[1]
        authorizationInformation = trimmed(2)
        securityQualifier = isa[3]
        securityInformation = trimmed(4)
        senderQualifier = isa[5]
        senderId = trimmed(6)
        receiverQualifier = isa[7]
        receiverId = trimmed(8)
        date = isa[9]
        time = isa[10]
        version = isa[12]
        controlNumber = Int(isa[13]) ?? 0
        acknowledgmentRequested = isa[14]
        usageIndicator = isa[15]
    }
}

/// Writes interchanges: ISA with fixed-width fields, GS/GE, ST/SE with the counts and matching
/// control numbers worked out, segments with the chosen separators. Data containing a separator is
/// refused (X12 5010 has no escape), never altered.
///
/// ```swift
/// var writer = X12Writer()
/// try writer.beginInterchange(header)
/// try writer.beginGroup(functionalIdentifier: "HS", ...)
/// try writer.beginTransaction("270", controlNumber: "0001", implementationReference: "005010X279A1")
/// try writer.segment("BHT", ["0022", "13", "REF1", "20240101", "1200"])
/// try writer.endTransaction(); try writer.endGroup(); try writer.endInterchange()
/// let text = writer.text
/// ```
public struct X12Writer: Sendable {
    public let separators: X12Separators
    /// Written after each segment terminator ("\n" makes files readable; "" for one line).
    public let lineEnding: String
    public private(set) var bytes: [UInt8] = []

    private var interchangeControlNumber: String?
    private var groupCount = 0
    private var groupControlNumber: String?
    private var transactionCount = 0
    private var transactionControlNumber: String?
    private var segmentCount = 0

    public init(separators: X12Separators = .standard, lineEnding: String = "\n") throws {
        if let problem = separators.problem { throw X12WriterError("unusable separators: \(problem)") }
        if separators.repetition == nil { throw X12WriterError("5010 needs a repetition separator") }
        self.separators = separators
        self.lineEnding = lineEnding
    }

    /// What was written, as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Starts an interchange: writes the ISA, every field padded to its fixed width.
    public mutating func beginInterchange(_ header: X12InterchangeHeader) throws {
        guard interchangeControlNumber == nil else { throw X12WriterError("an interchange is already open") }
        guard header.controlNumber >= 0 && header.controlNumber <= 999_999_999 else {
            throw X12WriterError("ISA13 control number \(header.controlNumber) must be 0…999999999")
        }
        let control = Self.zeroPadded(header.controlNumber, 9)
        let values: [(String, Int)] = [
            (header.authorizationQualifier, 2), (header.authorizationInformation, 10), (header.securityQualifier, 2),
            (header.securityInformation, 10), (header.senderQualifier, 2), (header.senderId, 15),
            (header.receiverQualifier, 2), (header.receiverId, 15), (header.date, 6), (header.time, 4),
        ]
        var fields: [String] = []
        for (index, (value, width)) in values.enumerated() {
            guard value.utf8.count <= width else {
                throw X12WriterError(
                    "ISA\(Self.zeroPadded(index + 1, 2)) '\(value)' is longer than \(width) characters")
            }
            fields.append(value + String(repeating: " ", count: width - value.utf8.count))
        }
        guard header.version.utf8.count == 5, header.acknowledgmentRequested.utf8.count == 1,
            header.usageIndicator.utf8.count == 1
        else { throw X12WriterError("ISA12 must be 5 characters, ISA14 and ISA15 one character") }
        func digits(_ text: String, _ count: Int) -> Bool {
            text.utf8.count == count && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        }
        guard digits(header.date, 6), digits(header.time, 4) else {
            throw X12WriterError("ISA09 must be YYMMDD and ISA10 HHMM (digits), not '\(header.date)' '\(header.time)'")
        }
        guard ["P", "T"].contains(header.usageIndicator) else {
            throw X12WriterError("ISA15 usage indicator must be P or T, not '\(header.usageIndicator)'")
        }
        for (index, field) in fields.enumerated() { try check(field, "ISA", index + 1) }
        try check(header.version, "ISA", 12)
        try check(header.acknowledgmentRequested, "ISA", 14)
        try check(header.usageIndicator, "ISA", 15)
        // ISA11 and ISA16 are the separators themselves.
        let repetition = separators.repetition ?? UInt8(ascii: "^")
        let line =
            ["ISA"] + fields + [String(decoding: [repetition], as: UTF8.self), header.version, control]
            + [
                header.acknowledgmentRequested, header.usageIndicator,
                String(decoding: [separators.component], as: UTF8.self),
            ]
        emit(line)
        interchangeControlNumber = control
        groupCount = 0
    }

    /// Starts a functional group (GS). Dates are CCYYMMDD, times HHMM.
    public mutating func beginGroup(
        functionalIdentifier: String, applicationSender: String, applicationReceiver: String, date: String,
        time: String, controlNumber: Int, version: String
    ) throws {
        guard interchangeControlNumber != nil else { throw X12WriterError("GS needs an open interchange (ISA)") }
        guard groupControlNumber == nil else { throw X12WriterError("a functional group is already open") }
        guard controlNumber >= 1 && controlNumber <= 999_999_999 else {
            throw X12WriterError("GS06 control number \(controlNumber) must be 1…999999999")
        }
        let control = String(controlNumber)
        try writeChecked(
            "GS",
            [functionalIdentifier, applicationSender, applicationReceiver, date, time, control, "X", version].map {
                X12Element($0)
            })
        groupControlNumber = control
        groupCount += 1
        transactionCount = 0
    }

    /// Starts a transaction set (ST); ST02 is the control number (4–9 characters).
    public mutating func beginTransaction(
        _ id: String, controlNumber: String, implementationReference: String? = nil
    ) throws {
        guard groupControlNumber != nil else { throw X12WriterError("ST needs an open functional group (GS)") }
        guard transactionControlNumber == nil else { throw X12WriterError("a transaction set is already open") }
        guard (4...9).contains(controlNumber.utf8.count) else {
            throw X12WriterError("ST02 control number '\(controlNumber)' must be 4 to 9 characters")
        }
        var elements = [X12Element(id), X12Element(controlNumber)]
        if let implementationReference { elements.append(X12Element(implementationReference)) }
        segmentCount = 0
        try writeChecked("ST", elements)
        transactionControlNumber = controlNumber
        transactionCount += 1
    }

    /// Writes a segment inside a transaction set. Trailing empty elements are dropped.
    public mutating func segment(_ id: String, _ elements: [X12Element]) throws {
        guard transactionControlNumber != nil else {
            throw X12WriterError("segment \(id) must be inside a transaction set (ST … SE)")
        }
        guard !["ISA", "IEA", "GS", "GE", "ST", "SE"].contains(id) else {
            throw X12WriterError("\(id) is written by the writer itself")
        }
        try writeChecked(id, elements)
    }

    /// Writes a segment of simple values.
    public mutating func segment(_ id: String, _ values: String...) throws {
        try segment(id, values.map { X12Element($0) })
    }

    /// Writes a parsed segment (its composites and repetitions re-joined with this writer's separators).
    public mutating func segment(_ parsed: X12Segment) throws {
        let elements = parsed.elements.indices.map { index -> X12Element in
            let position = index + 1
            let repetitions = parsed.repetitions(position).map {
                X12Segment.split($0, on: parsed.separators.component)
            }
            return X12Element(repetitions: repetitions.isEmpty ? [[""]] : repetitions)
        }
        try segment(parsed.id, elements)
    }

    /// Ends the transaction set: SE01 counts ST to SE inclusive, SE02 repeats ST02.
    public mutating func endTransaction() throws {
        guard let control = transactionControlNumber else { throw X12WriterError("SE without an open ST") }
        emit(["SE", String(segmentCount + 1), control])
        transactionControlNumber = nil
    }

    /// Ends the group: GE01 is the number of transaction sets, GE02 repeats GS06.
    public mutating func endGroup() throws {
        guard transactionControlNumber == nil else { throw X12WriterError("GE while a transaction set is open") }
        guard let control = groupControlNumber else { throw X12WriterError("GE without an open GS") }
        emit(["GE", String(transactionCount), control])
        groupControlNumber = nil
    }

    /// Ends the interchange: IEA01 is the number of groups, IEA02 repeats ISA13.
    public mutating func endInterchange() throws {
        guard groupControlNumber == nil else { throw X12WriterError("IEA while a functional group is open") }
        guard let control = interchangeControlNumber else { throw X12WriterError("IEA without an open ISA") }
        emit(["IEA", String(groupCount), control])
        interchangeControlNumber = nil
    }

    /// Writes a whole parsed document again: envelope values are kept, trailers (counts and control
    /// numbers) are worked out anew.
    public static func write(
        _ document: X12Document, separators: X12Separators? = nil, lineEnding: String = "\n"
    )
        throws -> String
    {
        let chosen = separators ?? document.interchanges.first?.separators ?? .standard
        var writer = try X12Writer(separators: chosen, lineEnding: lineEnding)
        for interchange in document.interchanges {
            try writer.beginInterchange(X12InterchangeHeader(interchange.header))
            for group in interchange.groups {
                let gs = group.header
                try writer.beginGroup(
                    functionalIdentifier: gs[1], applicationSender: gs[2], applicationReceiver: gs[3], date: gs[4],
                    time: gs[5], controlNumber: Int(gs[6]) ?? 1, version: gs[8])
                for transaction in group.transactions {
                    guard let st = transaction.segments.first else { continue }
                    try writer.beginTransaction(st[1], controlNumber: st[2], implementationReference: st.value(3))
                    for segment in transaction.segments.dropFirst() where segment.id != "SE" {
                        try writer.segment(segment)
                    }
                    try writer.endTransaction()
                }
                try writer.endGroup()
            }
            try writer.endInterchange()
        }
        return writer.text
    }

    // MARK: - Internals

    private mutating func writeChecked(_ id: String, _ elements: [X12Element]) throws {
        guard X12Reader.isValidSegmentId(id) else { throw X12WriterError("'\(id)' is not a segment id") }
        var fields = [id]
        for (index, element) in elements.enumerated() {
            var repetitions: [String] = []
            for components in element.repetitions {
                for component in components { try check(component, id, index + 1) }
                var kept = components
                while kept.count > 1, kept.last?.isEmpty == true { kept.removeLast() }
                repetitions.append(kept.joined(separator: String(decoding: [separators.component], as: UTF8.self)))
            }
            while repetitions.count > 1, repetitions.last?.isEmpty == true { repetitions.removeLast() }
            let repetition = String(decoding: [separators.repetition ?? UInt8(ascii: "^")], as: UTF8.self)
            fields.append(repetitions.joined(separator: repetition))
        }
        while fields.count > 1, fields.last?.isEmpty == true { fields.removeLast() }
        emit(fields)
    }

    /// Refuses values that contain a separator, a line break or a control character.
    private func check(_ value: String, _ id: String, _ position: Int) throws {
        for byte in value.utf8 {
            if separators.contains(byte) {
                throw X12WriterError(
                    "\(id)\(Self.zeroPadded(position, 2)) value '\(value)' contains the separator \(X12Separators.show(byte)); X12 has no escape, so the data must be changed"
                )
            }
            if byte < 0x20 || byte == 0x7F {
                throw X12WriterError(
                    "\(id)\(Self.zeroPadded(position, 2)) value contains the control character \(X12Separators.show(byte))"
                )
            }
        }
    }

    private mutating func emit(_ fields: [String]) {
        var first = true
        for field in fields {
            if !first { bytes.append(separators.element) }
            first = false
            bytes.append(contentsOf: field.utf8)
        }
        bytes.append(separators.segment)
        bytes.append(contentsOf: lineEnding.utf8)
        segmentCount += 1
    }

    static func zeroPadded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
