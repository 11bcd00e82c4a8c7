import Foundation

/// One problem found while reading or validating X12 data. Issues are collected, never thrown one
/// at a time, so a validator can report everything wrong with a file in one pass.
public struct X12Issue: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    /// 1-based index of the segment in the file (0 when the issue is about the file as a whole).
    public var segmentIndex: Int
    /// Byte offset of the segment (or of the problem) from the start of the file.
    public var offset: Int
    /// The segment id ("ISA", "SE", ...), or nil when the issue is not about one segment.
    public var segmentId: String?
    /// 1-based element position in the segment, when the issue is about one element.
    public var elementPosition: Int?
    /// A stable machine-readable code such as `control-number-mismatch` (see ``X12IssueCode``).
    public var code: String
    public var message: String

    public init(
        severity: Severity = .error, segmentIndex: Int, offset: Int, segmentId: String?, elementPosition: Int? = nil,
        code: String, message: String
    ) {
        self.severity = severity
        self.segmentIndex = segmentIndex
        self.offset = offset
        self.segmentId = segmentId
        self.elementPosition = elementPosition
        self.code = code
        self.message = message
    }

    /// `error segment 12 (SE01, byte 345): segment-count: ...`
    public var description: String {
        var place = "segment \(segmentIndex)"
        if let segmentId {
            place += " (\(segmentId)"
            if let elementPosition { place += String(format: "%02d", elementPosition) }
            place += ", byte \(offset))"
        } else {
            place += " (byte \(offset))"
        }
        return "\(severity.rawValue) \(place): \(code): \(message)"
    }
}

/// The issue codes this module reports.
public enum X12IssueCode {
    public static let notX12 = "not-x12"
    public static let malformedISA = "malformed-isa"
    public static let isaFieldWidth = "isa-field-width"
    public static let separators = "invalid-separators"
    public static let truncated = "truncated"
    public static let segmentTooLong = "segment-too-long"
    public static let invalidCharacter = "invalid-character"
    public static let nonASCII = "non-ascii"
    public static let invalidSegmentId = "invalid-segment-id"
    public static let unexpectedSegment = "unexpected-segment"
    public static let missingSegment = "missing-segment"
    public static let controlNumberMismatch = "control-number-mismatch"
    public static let countMismatch = "count-mismatch"
    public static let unsupportedVersion = "unsupported-version"
    public static let transactionMismatch = "transaction-mismatch"
    public static let tooManyIssues = "too-many-issues"
    public static let invalidValue = "invalid-value"
}

/// Thrown when X12 text cannot be used for what was asked (e.g. it is not a valid 271); carries
/// every issue found.
public struct X12Error: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var issues: [X12Issue]

    public init(_ message: String, issues: [X12Issue] = []) {
        self.message = message
        self.issues = issues
    }

    public var description: String {
        ([message] + issues.map(\.description)).joined(separator: "\n")
    }
}
