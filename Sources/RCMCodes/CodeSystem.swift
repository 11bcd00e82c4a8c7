import RCMCore

/// The code systems the platform searches and checks.
public enum CodeSystem: String, Sendable, Codable, CaseIterable {
    /// ICD-10-CM diagnoses (CMS/CDC, public domain), shipped in full.
    case icd10cm
    /// HCPCS Level II (CMS, public domain): a sample ships; the clinic imports CMS's file.
    case hcpcs
    /// CPT (AMA, licensed): format checks only; descriptions come from the clinic's licensed file.
    case cpt
    /// The clinic's own codes, from its charge master.
    case local
}

/// Administrative sex, as a code's sex edit names it.
public enum Sex: String, Sendable, Codable {
    case male
    case female
}

/// What the platform knows of one code: what a claim scrubber checks.
public struct CodeInfo: Sendable, Hashable, Codable {
    public var system: CodeSystem
    /// The code as claims carry it: upper case, ICD-10-CM without its dot (`E119`).
    public var code: String
    public var description: String
    /// A complete code that may go on a claim; `false` for an ICD-10-CM category or subcategory
    /// that has more specific codes below it.
    public var billable: Bool
    public var effectiveFrom: CalendarDate?
    public var effectiveTo: CalendarDate?
    /// The only sex the code is valid for, if any.
    public var sexEdit: Sex?
    /// The ages (in years) the code is valid for, if limited.
    public var ageRange: ClosedRange<Int>?

    public init(
        system: CodeSystem, code: String, description: String, billable: Bool, effectiveFrom: CalendarDate? = nil,
        effectiveTo: CalendarDate? = nil, sexEdit: Sex? = nil, ageRange: ClosedRange<Int>? = nil
    ) {
        self.system = system
        self.code = code
        self.description = description
        self.billable = billable
        self.effectiveFrom = effectiveFrom
        self.effectiveTo = effectiveTo
        self.sexEdit = sexEdit
        self.ageRange = ageRange
    }

    /// The form people read: ICD-10-CM with a dot after the third character (`E11.9`).
    public var display: String { system == .icd10cm ? ICD10CM.dotted(code) : code }

    /// Whether the code is in force on `date` (always, when `date` is nil).
    public func isEffective(on date: CalendarDate?) -> Bool {
        guard let date else { return true }
        if let effectiveFrom, date < effectiveFrom { return false }
        if let effectiveTo, date > effectiveTo { return false }
        return true
    }
}

/// One search result.
public struct CodeMatch: Sendable, Hashable {
    /// How the query matched, best first.
    public enum Kind: Int, Sendable, Comparable {
        case exactCode
        case codePrefix
        case description

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var info: CodeInfo
    public var kind: Kind

    public init(info: CodeInfo, kind: Kind) {
        self.info = info
        self.kind = kind
    }
}

/// What a claim scrubber needs of the code sets.
public protocol CodeLookup: Sendable {
    /// The code in `system` (with or without the ICD-10-CM dot, any case), if it exists and is in
    /// force on `date`; nil otherwise.
    func lookup(system: CodeSystem, code: String, on date: CalendarDate?) -> CodeInfo?
}
