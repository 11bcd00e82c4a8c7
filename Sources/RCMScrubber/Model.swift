import Foundation
import RCMCore

/// One professional claim built from an encounter, as the scrubber sees it before submission.
///
/// Field names are the JSON keys; a finding's `fieldPath` is a JSON pointer into this shape
/// (`/lines/2/modifiers/0`, `/diagnoses/1`, `/patient/dateOfBirth`).
public struct ScrubClaim: Sendable, Codable, Hashable {
    public var claimId: String
    public var payerId: String?
    public var payerName: String?
    public var patient: Patient
    public var billingProviderNPI: String?
    public var renderingProviderNPI: String?
    public var referringProviderNPI: String?
    /// CMS two-digit place-of-service code ("11" office).
    public var placeOfService: String?
    public var dateOfService: CalendarDate
    public var submissionDate: CalendarDate
    /// ICD-10-CM codes, in order, the first the principal diagnosis; with or without the dot.
    public var diagnoses: [String]
    public var lines: [Line]

    public init(
        claimId: String, payerId: String?, payerName: String? = nil, patient: Patient,
        billingProviderNPI: String?, renderingProviderNPI: String? = nil, referringProviderNPI: String? = nil,
        placeOfService: String?, dateOfService: CalendarDate, submissionDate: CalendarDate, diagnoses: [String],
        lines: [Line]
    ) {
        self.claimId = claimId
        self.payerId = payerId
        self.payerName = payerName
        self.patient = patient
        self.billingProviderNPI = billingProviderNPI
        self.renderingProviderNPI = renderingProviderNPI
        self.referringProviderNPI = referringProviderNPI
        self.placeOfService = placeOfService
        self.dateOfService = dateOfService
        self.submissionDate = submissionDate
        self.diagnoses = diagnoses
        self.lines = lines
    }

    public struct Patient: Sendable, Codable, Hashable {
        /// "female", "male", "other" or "unknown".
        public var sex: String
        public var dateOfBirth: CalendarDate

        public init(sex: String, dateOfBirth: CalendarDate) {
            self.sex = sex
            self.dateOfBirth = dateOfBirth
        }
    }

    /// One service line.
    public struct Line: Sendable, Codable, Hashable {
        /// "cpt", "hcpcs" or "local".
        public var codeSystem: String
        public var code: String
        /// At most four, each two letters or digits ("25", "59", "RT").
        public var modifiers: [String]
        public var units: Int
        /// 1-based positions in `diagnoses`, at most four.
        public var diagnosisPointers: [Int]
        public var charge: Money
        /// National Drug Code for drug lines (11 digits), when billed.
        public var ndc: String?
        /// The line's own date of service, when it differs from the claim's (837P DTP*472).
        public var serviceDate: CalendarDate?

        public init(
            codeSystem: String = "cpt", code: String, modifiers: [String] = [], units: Int = 1,
            diagnosisPointers: [Int] = [1], charge: Money, ndc: String? = nil, serviceDate: CalendarDate? = nil
        ) {
            self.codeSystem = codeSystem
            self.code = code
            self.modifiers = modifiers
            self.units = units
            self.diagnosisPointers = diagnosisPointers
            self.charge = charge
            self.ndc = ndc
            self.serviceDate = serviceDate
        }
    }
}

/// What a code set knows about one ICD-10-CM code as of a date.
public struct DiagnosisInfo: Sendable, Codable, Hashable {
    /// Sex a code is limited to (the CMS Medicare Code Editor's sex edits).
    public enum SexEdit: String, Sendable, Codable, Hashable {
        case female, male
    }

    /// The code without its dot, upper case ("E119").
    public var code: String
    /// False for a header (category or subcategory with children), which cannot be billed.
    public var billable: Bool
    public var sexEdit: SexEdit?
    /// Ages in whole years at the date of service the code is consistent with (newborn 0...0,
    /// pediatric 0...17, maternity 12...55, adult 15...124 in the Medicare Code Editor).
    public var ageRange: ClosedRange<Int>?
    /// First and last dates of service this version of the code is valid for; nil is open.
    public var effectiveFrom: CalendarDate?
    public var effectiveThrough: CalendarDate?
    public var description: String?

    public init(
        code: String, billable: Bool, sexEdit: SexEdit? = nil, ageRange: ClosedRange<Int>? = nil,
        effectiveFrom: CalendarDate? = nil, effectiveThrough: CalendarDate? = nil, description: String? = nil
    ) {
        self.code = code
        self.billable = billable
        self.sexEdit = sexEdit
        self.ageRange = ageRange
        self.effectiveFrom = effectiveFrom
        self.effectiveThrough = effectiveThrough
        self.description = description
    }

    /// True when `date` falls within the effective dates.
    public func isEffective(on date: CalendarDate) -> Bool {
        if let from = effectiveFrom, date < from { return false }
        if let through = effectiveThrough, through < date { return false }
        return true
    }
}

/// The code sets the scrubber consults; the code-sets module implements it.
public protocol ScrubCodeSets: Sendable {
    /// The ICD-10-CM code (with or without the dot) as of `date`: the version in effect then, or,
    /// when the code exists but not on that date, the version nearest to it (the scrubber reports
    /// it as not valid on the date of service). Nil when the code is not in the code set at all.
    func diagnosis(_ code: String, on date: CalendarDate) -> DiagnosisInfo?

    /// Whether a procedure code exists in `system` ("cpt", "hcpcs") on `date`; nil when the system
    /// is unknown or not loaded, in which case the scrubber does not check it.
    func procedureExists(system: String, code: String, on date: CalendarDate) -> Bool?
}

/// An in-memory code set: for tests, the benchmark, and small deployments.
public struct InMemoryCodeSets: ScrubCodeSets {
    /// Versions of each diagnosis code (key without dot, upper case), in date order.
    public var diagnoses: [String: [DiagnosisInfo]]
    /// Procedure codes per system; a system absent here answers nil.
    public var procedures: [String: Set<String>]

    public init(diagnoses: [DiagnosisInfo], procedures: [String: Set<String>]) {
        var table: [String: [DiagnosisInfo]] = [:]
        for info in diagnoses {
            var info = info
            info.code = ICD10.normalize(info.code)
            table[info.code, default: []].append(info)
        }
        self.diagnoses = table.mapValues { versions in
            versions.sorted { ($0.effectiveFrom ?? .distantPast) < ($1.effectiveFrom ?? .distantPast) }
        }
        self.procedures = procedures
    }

    public func diagnosis(_ code: String, on date: CalendarDate) -> DiagnosisInfo? {
        guard let versions = diagnoses[ICD10.normalize(code)], !versions.isEmpty else { return nil }
        if let current = versions.first(where: { $0.isEffective(on: date) }) { return current }
        // Not in effect on the date: the nearest version (the first when the date is before every
        // version, else the last that ended before it).
        if let first = versions.first, let from = first.effectiveFrom, date < from { return first }
        return versions.last { ($0.effectiveThrough ?? date) < date } ?? versions.last
    }

    public func procedureExists(system: String, code: String, on date: CalendarDate) -> Bool? {
        guard let codes = procedures[system.lowercased()] else { return nil }
        return codes.contains(code.uppercased())
    }
}

/// ICD-10-CM code text helpers.
public enum ICD10 {
    /// Upper case, without the dot and surrounding spaces: " e11.9" → "E119".
    public static func normalize(_ code: String) -> String {
        String(code.trimmingSpaces.uppercased().filter { $0 != "." })
    }

    /// True for the shape of an ICD-10-CM code: a letter, a digit, a letter or digit, then up to
    /// four letters or digits, with an optional dot after the third character.
    public static func isWellFormed(_ code: String) -> Bool {
        let text = code.trimmingSpaces.uppercased()
        var bytes = Array(text.utf8)
        if bytes.count > 3, bytes[3] == UInt8(ascii: ".") {
            bytes.remove(at: 3)
            guard bytes.count > 3 else { return false }
        }
        guard (3...7).contains(bytes.count), isLetter(bytes[0]), isDigit(bytes[1]) else { return false }
        return bytes.dropFirst(2).allSatisfy { isLetter($0) || isDigit($0) }
    }

    static func isLetter(_ byte: UInt8) -> Bool { byte >= 65 && byte <= 90 }
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
}

extension String {
    var trimmingSpaces: Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }
}

extension CalendarDate {
    static let distantPast = CalendarDate("0001-01-01")!

    /// Whole days from `self` to `other` (negative when `other` is earlier).
    func days(to other: CalendarDate) -> Int {
        Int(((other.startOfDay.timeIntervalSince1970 - startOfDay.timeIntervalSince1970) / 86_400).rounded())
    }

    /// Age in completed years on `date` of someone born on `self`.
    func age(on date: CalendarDate) -> Int {
        var years = date.year - year
        if (date.month, date.day) < (month, day) { years -= 1 }
        return years
    }
}
