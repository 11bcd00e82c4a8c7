import RCMCore

/// Search and lookup across the code sets a clinic uses: ICD-10-CM (shipped in full), HCPCS
/// Level II (CMS's file, or the bundled sample), CPT (the clinic's licensed file, or format
/// checks only) and the clinic's local codes.
public struct CodeSearch: CodeLookup {
    public var hcpcs: CodeIndex
    /// The clinic's licensed CPT descriptions; nil when it has supplied none.
    public var cpt: CodeIndex?
    public var local: LocalCodeSet

    public init(hcpcs: CodeIndex = HCPCS.sample, cpt: CodeIndex? = nil, local: LocalCodeSet = .empty) {
        self.hcpcs = hcpcs
        self.cpt = cpt
        self.local = local
    }

    public var icd10cm: CodeIndex { ICD10CM.shared }

    /// The index behind `system`, if there is one (CPT without a licensed file has none).
    public func index(_ system: CodeSystem) -> CodeIndex? {
        switch system {
        case .icd10cm: icd10cm
        case .hcpcs: hcpcs
        case .cpt: cpt
        case .local: local.index
        }
    }

    /// Codes matching `query` by code prefix (with or without the ICD-10-CM dot, any case) or by
    /// description words (each query word must start some word of the description; case and
    /// accents ignored); exact code first, then code prefixes, then description matches, each
    /// group billable first and shorter codes first. Only codes in force on `date`, when given.
    public func search(system: CodeSystem, query: String, limit: Int, on date: CalendarDate? = nil) -> [CodeMatch] {
        index(system)?.search(query, limit: limit, on: date) ?? []
    }

    /// The code if it exists and is in force on `date`. A CPT code without a licensed file is
    /// only checked for its format: a well-formed code comes back billable, without description.
    public func lookup(system: CodeSystem, code: String, on date: CalendarDate? = nil) -> CodeInfo? {
        if system == .cpt, cpt == nil {
            let key = CodeIndex.key(code, system: .cpt)
            return CPT.isValidFormat(key) ? CodeInfo(system: .cpt, code: key, description: "", billable: true) : nil
        }
        return index(system)?.lookup(code, on: date)
    }
}
