import Foundation

/// A segment found by the tokenizer: a byte range of the tokenizer's buffer, valid until the next call
/// to ``X12Tokenizer/next()``.
public struct X12RawSegment: Sendable {
    /// First byte of the segment in the tokenizer's buffer.
    public internal(set) var start: Int
    /// One past the last byte (the terminator is not included).
    public internal(set) var end: Int
    /// Byte offset of `start` in the input.
    public internal(set) var offset: Int
    /// 1-based index of the segment in the input.
    public internal(set) var index: Int
    /// False when the input ended before the segment terminator.
    public internal(set) var terminated: Bool
    /// True when this segment starts an interchange (its separators were just read).
    public internal(set) var isInterchangeHeader: Bool
}

/// Splits X12 bytes into segments without making strings: it reads the separators from each ISA
/// (element separator at byte 3, repetition separator ISA11, component separator ISA16 and the
/// segment terminator after it), tolerates CR/LF between segments, and reads a file in chunks so
/// memory is bounded by the chunk size and the longest segment.
public struct X12Tokenizer {
    /// The bytes read and not yet consumed (with files, only a window of the input).
    var buffer: [UInt8]
    /// Next unread byte of `buffer`.
    var cursor = 0
    /// Input offset of `buffer[0]`.
    var bufferOffset = 0
    let fileHandle: FileHandle?
    var inputEnded: Bool
    let chunkSize: Int
    /// Longest segment accepted; a longer one is reported and cut.
    public var maximumSegmentLength = 1 << 20 {
        didSet { maximumSegmentLength = max(maximumSegmentLength, 16) }
    }
    /// The separators in force (nil until the first ISA is read).
    public private(set) var separators: X12Separators?
    /// Issues found while tokenizing (bad ISA, truncation...), taken by ``takeIssues()``.
    var issues: [X12Issue] = []
    var segmentCount = 0
    /// Set when the input cannot be tokenized further (no ISA, unusable separators).
    public private(set) var halted = false
    var skipToTerminator = false

    /// Tokenizes bytes held in memory.
    public init(bytes: [UInt8]) {
        buffer = bytes
        fileHandle = nil
        inputEnded = true
        chunkSize = 0
    }

    /// Tokenizes a file, reading `chunkSize` bytes at a time.
    public init(fileHandle: FileHandle, chunkSize: Int = 1 << 20) {
        buffer = []
        self.fileHandle = fileHandle
        inputEnded = false
        self.chunkSize = max(chunkSize, 1)
    }

    /// Input offset of the next unread byte.
    public var position: Int { bufferOffset + cursor }

    /// Makes strings of a segment's elements, only when asked (the hot path never does).
    public func segment(_ raw: X12RawSegment) -> X12Segment {
        let separators = self.separators ?? .standard
        let fields = withBytes(of: raw) { bytes in
            bytes.split(separator: separators.element, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        return X12Segment(
            id: fields.first ?? "", elements: Array(fields.dropFirst()), position: raw.index, offset: raw.offset,
            separators: separators)
    }

    /// Reads one more chunk; false at the end of the input. Consumed bytes are dropped first.
    mutating func refill() -> Bool {
        guard !inputEnded, let fileHandle else { return false }
        if cursor > 0 {
            buffer.removeSubrange(0..<cursor)
            bufferOffset += cursor
            cursor = 0
        }
        let data: Data?
        do {
            data = try fileHandle.read(upToCount: chunkSize)
        } catch {
            issues.append(
                X12Issue(
                    segmentIndex: segmentCount, offset: position, segmentId: nil, code: X12IssueCode.truncated,
                    message: "reading the input failed: \(error)"))
            data = nil
        }
        guard let data, !data.isEmpty else {
            inputEnded = true
            return false
        }
        buffer.append(contentsOf: data)
        return true
    }

    /// Makes at least `count` bytes available from the cursor, if the input has them.
    mutating func ensure(_ count: Int) -> Bool {
        while buffer.count - cursor < count {
            if !refill() { return false }
        }
        return true
    }

    /// The next segment, or nil at the end of the input (or when tokenizing had to stop, with an
    /// issue in ``takeIssues()``). Read its bytes with ``withBytes(of:_:)`` before the next call.
    public mutating func next() -> X12RawSegment? {
        if halted { return nil }
        if skipToTerminator { skipPastTerminator() }
        // Line breaks (and other white space) between segments are tolerated.
        while true {
            if cursor >= buffer.count && !refill() { return nil }
            let byte = buffer[cursor]
            guard byte == 0x0A || byte == 0x0D else { break }
            cursor += 1
        }
        if ensure(3) && buffer[cursor] == 0x49 && buffer[cursor + 1] == 0x53 && buffer[cursor + 2] == 0x41 {
            // The ISA's terminator is the byte after ISA16, wherever the same byte occurs before it.
            guard let length = readSeparators() else {
                halted = true
                return nil
            }
            return finish(end: cursor + length, next: cursor + length + 1, terminated: true, isHeader: true)
        } else if separators == nil {
            if segmentCount == 0 && ensure(3) && buffer[cursor] == 0xEF && buffer[cursor + 1] == 0xBB
                && buffer[cursor + 2] == 0xBF
            {
                issues.append(
                    X12Issue(
                        severity: .warning, segmentIndex: 0, offset: position, segmentId: nil,
                        code: X12IssueCode.nonASCII, message: "the file starts with a UTF-8 byte order mark"))
                cursor += 3
                return next()
            }
            issues.append(
                X12Issue(
                    segmentIndex: 0, offset: position, segmentId: nil, code: X12IssueCode.notX12,
                    message: "the data does not start with an ISA segment; it is not an X12 interchange"))
            halted = true
            return nil
        }
        guard let terminator = separators?.segment else { return nil }
        var searched = cursor
        while true {
            let found = Self.find(terminator, in: buffer, from: searched)
            if let found, found - cursor <= maximumSegmentLength {
                return finish(end: found, next: found + 1, terminated: true, isHeader: false)
            }
            searched = buffer.count
            if found != nil || buffer.count - cursor > maximumSegmentLength {
                issues.append(
                    X12Issue(
                        segmentIndex: segmentCount + 1, offset: bufferOffset + cursor, segmentId: nil,
                        code: X12IssueCode.segmentTooLong,
                        message:
                            "no segment terminator \(X12Separators.show(terminator)) within \(maximumSegmentLength) bytes; the segment is cut there"
                    ))
                skipToTerminator = true
                let end = cursor + maximumSegmentLength
                return finish(end: end, next: end, terminated: false, isHeader: false)
            }
            let dropped = cursor
            if !refill() {
                // The input ends inside a segment.
                issues.append(
                    X12Issue(
                        segmentIndex: segmentCount + 1, offset: bufferOffset + cursor, segmentId: nil,
                        code: X12IssueCode.truncated,
                        message:
                            "the input ends without a segment terminator \(X12Separators.show(terminator)) after the last segment (truncated file?)"
                    ))
                return finish(end: buffer.count, next: buffer.count, terminated: false, isHeader: false)
            }
            // refill() dropped the consumed bytes before the cursor.
            searched -= dropped - cursor
        }
    }

    private mutating func finish(end: Int, next: Int, terminated: Bool, isHeader: Bool) -> X12RawSegment {
        segmentCount += 1
        let start = cursor
        cursor = next
        return X12RawSegment(
            start: start, end: end, offset: bufferOffset + start, index: segmentCount, terminated: terminated,
            isInterchangeHeader: isHeader)
    }

    /// After a segment that was too long: drops bytes up to and including the next terminator.
    private mutating func skipPastTerminator() {
        skipToTerminator = false
        guard let terminator = separators?.segment else { return }
        while true {
            if let found = Self.find(terminator, in: buffer, from: cursor) {
                cursor = found + 1
                return
            }
            cursor = buffer.count
            if !refill() { return }
        }
    }

    /// Index of the first `byte` at or after `from`, or nil.
    @inline(__always)
    static func find(_ byte: UInt8, in buffer: [UInt8], from: Int) -> Int? {
        guard from < buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { pointer -> Int? in
            guard let base = pointer.baseAddress else { return nil }
            guard let hit = memchr(base + from, Int32(byte), pointer.count - from) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Reads the separators from the ISA at the cursor; returns the ISA's length without its terminator,
    /// or nil (with an issue) when the separators cannot be read or used.
    private mutating func readSeparators() -> Int? {
        _ = ensure(200)
        let start = cursor
        let offset = bufferOffset + cursor
        let available = min(buffer.count - start, 200)
        let index = segmentCount + 1
        guard available > 4 else {
            issues.append(
                X12Issue(
                    segmentIndex: index, offset: offset, segmentId: "ISA", code: X12IssueCode.truncated,
                    message: "the input ends inside the ISA segment"))
            return nil
        }
        let element = buffer[start + 3]
        // Positions of the 16 element separators of the ISA.
        var separatorsAt: [Int] = []
        var at = start + 3
        while at < start + available && separatorsAt.count < 16 {
            if buffer[at] == element { separatorsAt.append(at - start) }
            at += 1
        }
        guard separatorsAt.count == 16, let last = separatorsAt.last, last + 2 < available else {
            let ended = available < 200 && separatorsAt.count < 16
            issues.append(
                X12Issue(
                    segmentIndex: index, offset: offset, segmentId: "ISA",
                    code: ended ? X12IssueCode.truncated : X12IssueCode.malformedISA,
                    message: ended
                        ? "the input ends inside the ISA segment"
                        : "the ISA segment does not have 16 elements separated by \(X12Separators.show(element)) (byte 4 of the file sets the element separator)"
                ))
            return nil
        }
        let component = buffer[start + last + 1]
        let terminator = buffer[start + last + 2]
        if last != 103 {
            issues.append(
                X12Issue(
                    segmentIndex: index, offset: offset + last, segmentId: "ISA", elementPosition: 16,
                    code: X12IssueCode.isaFieldWidth,
                    message:
                        "ISA16 is at byte \(last + 2) of the ISA instead of 105: the ISA must be 106 bytes with fixed-width fields"
                ))
        }
        // ISA11 (repetition separator from 00501 on) and ISA12 (version).
        let isa11 = Array(buffer[(start + separatorsAt[10] + 1)..<(start + separatorsAt[11])])
        let isa12 = String(decoding: buffer[(start + separatorsAt[11] + 1)..<(start + separatorsAt[12])], as: UTF8.self)
        var repetition: UInt8?
        if isa12 >= "00501" {
            if isa11.count == 1, !X12Separators.isDataCharacter(isa11[0]) {
                repetition = isa11[0]
            } else {
                issues.append(
                    X12Issue(
                        segmentIndex: index, offset: offset + separatorsAt[10] + 1, segmentId: "ISA",
                        elementPosition: 11, code: X12IssueCode.separators,
                        message:
                            "ISA11 must be the repetition separator (one character that is not a letter, digit or space) in version \(isa12)"
                    ))
            }
        }
        let found = X12Separators(element: element, repetition: repetition, component: component, segment: terminator)
        if let problem = found.problem {
            issues.append(
                X12Issue(
                    segmentIndex: index, offset: offset, segmentId: "ISA", code: X12IssueCode.separators,
                    message:
                        "unusable separators (element \(X12Separators.show(element)), component \(X12Separators.show(component)), segment \(X12Separators.show(terminator))): \(problem)"
                ))
            return nil
        }
        separators = found
        return last + 2
    }

    /// Takes the issues found so far.
    public mutating func takeIssues() -> [X12Issue] {
        defer { issues.removeAll() }
        return issues
    }

    /// Runs `body` with the bytes of `segment` (valid only during the call).
    public func withBytes<R>(of segment: X12RawSegment, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        buffer.withUnsafeBufferPointer { pointer in
            body(UnsafeBufferPointer(rebasing: pointer[segment.start..<segment.end]))
        }
    }
}

/// Counts from ``X12Tokenizer/scan(_:)``.
public struct X12ScanCounts: Sendable, Equatable {
    public var bytes = 0
    public var segments = 0
    public var elements = 0
    public var interchanges = 0
}

extension X12Tokenizer {
    /// Tokenizes the whole input without making strings: counts segments and data elements. This is the
    /// tokenizer's hot path, measured by `rcm x12 bench-tokenize`.
    public static func scan(_ tokenizer: inout X12Tokenizer) -> X12ScanCounts {
        var counts = X12ScanCounts()
        while let segment = tokenizer.next() {
            counts.segments += 1
            if segment.isInterchangeHeader { counts.interchanges += 1 }
            let element = tokenizer.separators?.element ?? 0
            counts.elements += tokenizer.withBytes(of: segment) { bytes in
                var count = 0
                for byte in bytes where byte == element { count += 1 }
                return count
            }
        }
        counts.bytes = tokenizer.position
        return counts
    }
}
