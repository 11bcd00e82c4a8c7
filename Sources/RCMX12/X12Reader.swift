import Foundation

/// What ``X12Reader/next()`` yields, in file order.
public enum X12Event: Sendable {
    case interchangeStart(X12Segment)
    case groupStart(X12Segment)
    case transaction(X12TransactionSet)
    case groupEnd(X12Segment)
    case interchangeEnd(X12Segment)
}

/// Reads X12 one transaction set at a time, checking the envelopes as it goes: memory is bounded by
/// the largest transaction set (and the read chunk), not by the file. Never traps on bad input;
/// everything wrong is collected in ``issues``.
///
/// ```swift
/// let reader = try X12Reader(path: "remits.835")
/// while let transaction = reader.nextTransaction() { ... }
/// let problems = reader.issues
/// ```
public final class X12Reader {
    var tokenizer: X12Tokenizer
    /// Every issue found so far (capped at ``maximumIssues``, then one `too-many-issues`).
    public private(set) var issues: [X12Issue] = []
    /// Stop recording issues after this many.
    public var maximumIssues = 1000
    /// Longest segment accepted (default 1 MiB); a longer one is reported and cut.
    public var maximumSegmentLength: Int {
        get { tokenizer.maximumSegmentLength }
        set { tokenizer.maximumSegmentLength = newValue }
    }
    /// Build the loop tree of each transaction set (on by default).
    public var buildsLoops = true
    private var suppressedIssues = 0
    private var fileHandle: FileHandle?

    // Envelope state.
    private var interchange: X12Segment?
    private var groupsInInterchange = 0
    private var group: X12Segment?
    private var transactionsInGroup = 0
    private var transaction: [X12Segment]?
    private var loopBuilder: X12LoopBuilder?
    /// HL01 values of the open transaction set, and the last one.
    private var hierarchicalIds: Set<String> = []
    private var lastHierarchicalId = 0
    /// Control numbers seen in the open interchange (GS06) and group (ST02), to report duplicates.
    private var groupControlNumbers: Set<String> = []
    private var transactionControlNumbers: Set<String> = []
    private var versionChecked = false
    private var pending: [X12Event] = []
    private var finished = false

    /// Reads bytes held in memory.
    public init(bytes: [UInt8]) {
        tokenizer = X12Tokenizer(bytes: bytes)
    }

    /// Reads from a file handle in chunks.
    public init(fileHandle: FileHandle, chunkSize: Int = 1 << 20) {
        tokenizer = X12Tokenizer(fileHandle: fileHandle, chunkSize: chunkSize)
    }

    /// Opens and reads a file in chunks.
    public convenience init(path: String, chunkSize: Int = 1 << 20) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw X12Error("cannot open \(path)")
        }
        self.init(fileHandle: handle, chunkSize: chunkSize)
        fileHandle = handle
    }

    deinit { try? fileHandle?.close() }

    /// True when any issue is an error.
    public var hasErrors: Bool { issues.contains { $0.severity == .error } }

    /// The next transaction set, or nil at the end of the input; envelope events are checked and
    /// skipped.
    public func nextTransaction() -> X12TransactionSet? {
        while let event = next() {
            if case .transaction(let transaction) = event { return transaction }
        }
        return nil
    }

    /// The next envelope event or transaction set, or nil at the end of the input.
    public func next() -> X12Event? {
        while pending.isEmpty {
            if finished { return nil }
            guard let raw = tokenizer.next() else {
                record(tokenizer.takeIssues())
                finish()
                finished = true
                continue
            }
            let segment = materialize(raw)
            record(tokenizer.takeIssues())
            handle(segment)
        }
        return pending.removeFirst()
    }

    /// Reads everything and returns the issues (validation without keeping anything).
    public func validate() -> [X12Issue] {
        buildsLoops = false
        while next() != nil {}
        return issues
    }

    // MARK: - Segments

    /// Splits a raw segment into strings and checks its characters and id.
    private func materialize(_ raw: X12RawSegment) -> X12Segment {
        let separators = tokenizer.separators ?? .standard
        var badByte: (offset: Int, byte: UInt8)?
        var nonASCII: Int?
        let fields: [String] = tokenizer.withBytes(of: raw) { bytes in
            var fields: [String] = []
            fields.reserveCapacity(16)
            var start = 0
            var index = 0
            let count = bytes.count
            while index < count {
                let byte = bytes[index]
                if byte == separators.element {
                    fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                    start = index + 1
                } else if byte < 0x20 || byte == 0x7F {
                    if badByte == nil { badByte = (index, byte) }
                } else if byte >= 0x80 {
                    if nonASCII == nil { nonASCII = index }
                }
                index += 1
            }
            fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<count]), as: UTF8.self))
            return fields
        }
        let id = fields.first ?? ""
        let segment = X12Segment(
            id: id, elements: Array(fields.dropFirst()), position: raw.index, offset: raw.offset, separators: separators
        )
        if let badByte {
            issue(
                segment, nil, X12IssueCode.invalidCharacter,
                "control or binary byte 0x\(String(badByte.byte, radix: 16, uppercase: true)) at byte \(raw.offset + badByte.offset)"
            )
        }
        if let nonASCII {
            issue(
                segment, nil, X12IssueCode.nonASCII,
                "byte outside ASCII at byte \(raw.offset + nonASCII) (X12 uses the basic and extended character sets)",
                severity: .warning)
        }
        if !X12Reader.isValidSegmentId(id) {
            issue(segment, nil, X12IssueCode.invalidSegmentId, "'\(printable(id))' is not a segment id")
        }
        return segment
    }

    /// Two or three upper-case letters or digits, starting with a letter.
    static func isValidSegmentId(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == 2 || bytes.count == 3, let first = bytes.first, first >= 0x41 && first <= 0x5A else {
            return false
        }
        return bytes.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    private func printable(_ text: String) -> String {
        let shown = String(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return shown.count > 20 ? String(shown.prefix(20)) + "…" : shown
    }

    // MARK: - Envelopes

    private func handle(_ segment: X12Segment) {
        switch segment.id {
        case "ISA": startInterchange(segment)
        case "GS": startGroup(segment)
        case "ST": startTransaction(segment)
        case "SE": endTransaction(segment)
        case "GE": endGroup(segment)
        case "IEA": endInterchange(segment)
        default:
            if transaction != nil {
                append(segment)
            } else {
                let place =
                    group != nil
                    ? "between GS and ST" : interchange != nil ? "between ISA and GS" : "outside any interchange"
                issue(segment, nil, X12IssueCode.unexpectedSegment, "\(printable(segment.id)) \(place)")
            }
        }
    }

    private func append(_ segment: X12Segment) {
        if segment.id == "HL" { checkHL(segment) }
        transaction?.append(segment)
        loopBuilder?.add(segment)
    }

    private func startInterchange(_ isa: X12Segment) {
        if interchange != nil {
            closeOpen(at: isa, reason: "a new ISA")
            issue(isa, nil, X12IssueCode.missingSegment, "IEA missing before this ISA")
        }
        interchange = isa
        groupsInInterchange = 0
        groupControlNumbers = []
        versionChecked = false
        checkISA(isa)
        pending.append(.interchangeStart(isa))
    }

    /// Fixed widths of ISA01–ISA16.
    static let isaWidths = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1]

    private func checkISA(_ isa: X12Segment) {
        if isa.elements.count != 16 {
            issue(isa, nil, X12IssueCode.malformedISA, "ISA has \(isa.elements.count) elements instead of 16")
        }
        for (index, width) in X12Reader.isaWidths.enumerated() where index < isa.elements.count {
            let value = isa.elements[index]
            if value.utf8.count != width {
                issue(
                    isa, index + 1, X12IssueCode.isaFieldWidth,
                    "ISA\(String(format: "%02d", index + 1)) is \(value.utf8.count) characters; it must be \(width)")
            }
        }
        if !isa[13].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            issue(isa, 13, X12IssueCode.invalidValue, "ISA13 control number must be 9 digits, not '\(isa[13])'")
        }
        if isa[12] != "00501" {
            issue(
                isa, 12, X12IssueCode.unsupportedVersion,
                "unsupported version: ISA12 is '\(printable(isa[12]))'; only 00501 (X12 5010) is supported")
            versionChecked = true
        }
        if !["P", "T"].contains(isa[15]) {
            issue(isa, 15, X12IssueCode.invalidValue, "ISA15 usage indicator must be P or T, not '\(isa[15])'")
        }
    }

    private func startGroup(_ gs: X12Segment) {
        if interchange == nil {
            issue(gs, nil, X12IssueCode.unexpectedSegment, "GS outside an interchange (no ISA before it)")
            return
        }
        if group != nil {
            closeOpen(at: gs, reason: "a new GS", groupOnly: true)
            issue(gs, nil, X12IssueCode.missingSegment, "GE missing before this GS")
        }
        group = gs
        transactionsInGroup = 0
        groupsInInterchange += 1
        transactionControlNumbers = []
        if gs[6].isEmpty || gs[6].utf8.count > 9 || !gs[6].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            issue(
                gs, 6, X12IssueCode.invalidValue, "GS06 control number must be 1 to 9 digits, not '\(printable(gs[6]))'"
            )
        }
        if !groupControlNumbers.insert(gs[6]).inserted {
            issue(
                gs, 6, X12IssueCode.controlNumberMismatch,
                "GS06 '\(printable(gs[6]))' is used by another functional group of this interchange", severity: .warning
            )
        }
        if gs.elements.count < 8 {
            issue(gs, nil, X12IssueCode.missingSegment, "GS has \(gs.elements.count) elements; it needs 8")
        }
        if !gs[8].hasPrefix("005010") && !versionChecked {
            issue(
                gs, 8, X12IssueCode.unsupportedVersion,
                "unsupported version: GS08 is '\(printable(gs[8]))'; only 005010 implementation guides are supported")
        }
        pending.append(.groupStart(gs))
    }

    private func startTransaction(_ st: X12Segment) {
        if transaction != nil {
            issue(st, nil, X12IssueCode.missingSegment, "SE missing before this ST")
            emitTransaction(trailer: nil)
        }
        if group == nil {
            issue(st, nil, X12IssueCode.unexpectedSegment, "ST outside a functional group (no GS before it)")
        }
        transactionsInGroup += 1
        transaction = [st]
        hierarchicalIds = []
        lastHierarchicalId = 0
        if !(4...9).contains(st[2].utf8.count) {
            issue(
                st, 2, X12IssueCode.invalidValue,
                "ST02 control number must be 4 to 9 characters, not '\(printable(st[2]))'")
        }
        if !transactionControlNumbers.insert(st[2]).inserted {
            issue(
                st, 2, X12IssueCode.controlNumberMismatch,
                "ST02 '\(printable(st[2]))' is used by another transaction set of this group", severity: .warning)
        }
        let version = group?[8].isEmpty == false ? group?[8] ?? "" : st[3]
        if let group {
            let expected = X12Reader.functionalIdentifiers[st[1]]
            if let expected, expected != group[1] {
                issue(
                    st, 1, X12IssueCode.transactionMismatch,
                    "transaction set \(st[1]) belongs in a functional group \(expected), not \(group[1])",
                    severity: .warning)
            }
            if !st[3].isEmpty && !group[8].isEmpty && st[3] != group[8] {
                issue(
                    st, 3, X12IssueCode.transactionMismatch, "ST03 '\(st[3])' differs from GS08 '\(group[8])'",
                    severity: .warning)
            }
        }
        loopBuilder =
            buildsLoops ? X12LoopBuilder(table: X12LoopTable.table(for: st[1], version: version)) : nil
        loopBuilder?.add(st)
    }

    /// HL01 numbers its levels 1, 2, 3… in order; HL02 names an earlier HL01.
    private func checkHL(_ hl: X12Segment) {
        let id = hl[1]
        if Int(id) != lastHierarchicalId + 1 {
            issue(
                hl, 1, X12IssueCode.invalidValue,
                "HL01 '\(printable(id))' should be \(lastHierarchicalId + 1) (levels are numbered in order)")
        }
        if let number = Int(id), number > 0, number < 1_000_000_000 {
            lastHierarchicalId = number
        } else {
            lastHierarchicalId = min(lastHierarchicalId + 1, 1_000_000_000)
        }
        if let parent = hl.value(2), !hierarchicalIds.contains(parent) {
            issue(hl, 2, X12IssueCode.invalidValue, "HL02 parent '\(printable(parent))' is not an earlier HL01")
        }
        if hl[3].isEmpty { issue(hl, 3, X12IssueCode.missingSegment, "HL03 hierarchical level code is missing") }
        hierarchicalIds.insert(id)
    }

    /// GS01 for each transaction set.
    static let functionalIdentifiers = [
        "270": "HS", "271": "HB", "276": "HR", "277": "HN", "278": "HI", "834": "BE", "835": "HP", "837": "HC",
        "999": "FA", "997": "FA", "820": "RA", "275": "PI",
    ]

    private func endTransaction(_ se: X12Segment) {
        guard let segments = transaction, let st = segments.first else {
            issue(se, nil, X12IssueCode.unexpectedSegment, "SE without ST")
            return
        }
        checkTrailer(
            se, count: segments.count + 1, counted: "the transaction set has", unit: "segments (ST to SE)", header: st,
            controlElement: 2)
        append(se)
        emitTransaction(trailer: se)
    }

    private func emitTransaction(trailer: X12Segment?) {
        guard let segments = transaction, let st = segments.first else { return }
        let version = group?[8].isEmpty == false ? group?[8] ?? "" : st[3]
        let root = loopBuilder?.finish() ?? X12Loop(id: X12Loop.transactionRoot, segments: segments)
        pending.append(
            .transaction(
                X12TransactionSet(
                    id: st[1], controlNumber: st[2], version: version,
                    interchangeControlNumber: interchange?[13] ?? "", groupControlNumber: group?[6] ?? "",
                    segments: segments, root: root)))
        transaction = nil
        loopBuilder = nil
    }

    private func endGroup(_ ge: X12Segment) {
        guard let gs = group else {
            issue(ge, nil, X12IssueCode.unexpectedSegment, "GE without GS")
            return
        }
        if transaction != nil {
            issue(ge, nil, X12IssueCode.missingSegment, "SE missing before GE")
            emitTransaction(trailer: nil)
        }
        checkTrailer(
            ge, count: transactionsInGroup, counted: "the group has", unit: "transaction sets", header: gs,
            controlElement: 6)
        group = nil
        pending.append(.groupEnd(ge))
    }

    private func endInterchange(_ iea: X12Segment) {
        guard let isa = interchange else {
            issue(iea, nil, X12IssueCode.unexpectedSegment, "IEA without ISA")
            return
        }
        if group != nil {
            closeOpen(at: iea, reason: "IEA", groupOnly: true)
            issue(iea, nil, X12IssueCode.missingSegment, "GE missing before IEA")
        }
        checkTrailer(
            iea, count: groupsInInterchange, counted: "the interchange has", unit: "functional groups", header: isa,
            controlElement: 13)
        interchange = nil
        pending.append(.interchangeEnd(iea))
    }

    /// A trailer (SE, GE, IEA) carries in element 1 the count of what it closes and in element 2
    /// the control number of its header (ST02, GS06, ISA13): each mismatch is one issue.
    private func checkTrailer(
        _ trailer: X12Segment, count: Int, counted: String, unit: String, header: X12Segment, controlElement: Int
    ) {
        let name = trailer.id
        if trailer[1] != String(count) {
            issue(
                trailer, 1, X12IssueCode.countMismatch,
                "\(name)01 is '\(printable(trailer[1]))' but \(counted) \(count) \(unit)")
        }
        if trailer[2] != header[controlElement] {
            let headerElement = header.id + (controlElement < 10 ? "0" : "") + String(controlElement)
            issue(
                trailer, 2, X12IssueCode.controlNumberMismatch,
                "\(name)02 '\(printable(trailer[2]))' does not match \(headerElement) '\(printable(header[controlElement]))'"
            )
        }
    }

    /// Closes an open transaction set (and group) without its trailer.
    private func closeOpen(at segment: X12Segment, reason: String, groupOnly: Bool = false) {
        if transaction != nil {
            issue(segment, nil, X12IssueCode.missingSegment, "SE missing before \(reason)")
            emitTransaction(trailer: nil)
        }
        if !groupOnly, group != nil {
            issue(segment, nil, X12IssueCode.missingSegment, "GE missing before \(reason)")
        }
        group = nil
    }

    /// At the end of the input: whatever is still open was cut off.
    private func finish() {
        let end = tokenizer.position
        let index = tokenizer.segmentCount
        if transaction != nil {
            record([
                X12Issue(
                    segmentIndex: index, offset: end, segmentId: "SE", code: X12IssueCode.truncated,
                    message: "the input ends inside a transaction set (no SE)")
            ])
            emitTransaction(trailer: nil)
        }
        if group != nil {
            record([
                X12Issue(
                    segmentIndex: index, offset: end, segmentId: "GE", code: X12IssueCode.truncated,
                    message: "the input ends inside a functional group (no GE)")
            ])
        }
        if interchange != nil {
            record([
                X12Issue(
                    segmentIndex: index, offset: end, segmentId: "IEA", code: X12IssueCode.truncated,
                    message: "the input ends inside an interchange (no IEA)")
            ])
        }
        if index == 0 && issues.isEmpty {
            record([
                X12Issue(
                    segmentIndex: 0, offset: 0, segmentId: nil, code: X12IssueCode.notX12,
                    message: "the input is empty")
            ])
        }
    }

    // MARK: - Issues

    private func issue(
        _ segment: X12Segment, _ element: Int?, _ code: String, _ message: String,
        severity: X12Issue.Severity = .error
    ) {
        record([
            X12Issue(
                severity: severity, segmentIndex: segment.position, offset: segment.offset,
                segmentId: X12Reader.isValidSegmentId(segment.id) ? segment.id : nil, elementPosition: element,
                code: code, message: message)
        ])
    }

    private func record(_ found: [X12Issue]) {
        for issue in found {
            if issues.count < maximumIssues {
                issues.append(issue)
            } else {
                suppressedIssues += 1
                if suppressedIssues == 1 {
                    issues.append(
                        X12Issue(
                            segmentIndex: issue.segmentIndex, offset: issue.offset, segmentId: nil,
                            code: X12IssueCode.tooManyIssues,
                            message: "more than \(maximumIssues) issues; the rest are not listed"))
                }
            }
        }
    }
}
