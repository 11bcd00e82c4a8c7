import Foundation
import RCMCore

/// Checks a claim before submission. Which rules run, how severe they are and what they say is data
/// (the `RuleCatalog`); how each rule checks the claim is code, here.
public struct Scrubber: Sendable {
    public let codeSets: any ScrubCodeSets
    public let catalog: RuleCatalog
    public let edits: NCCIEdits
    public let payers: PayerTable
    /// The date "future dates of service" are judged against; nil is today (UTC) at each scrub.
    public let today: CalendarDate?

    private let active: [String: ScrubRule]

    public init(
        codeSets: any ScrubCodeSets, catalog: RuleCatalog = .bundled, edits: NCCIEdits = .bundledSample,
        payers: PayerTable = .bundled, today: CalendarDate? = nil
    ) {
        self.codeSets = codeSets
        self.catalog = catalog
        self.edits = edits
        self.payers = payers
        self.today = today
        var active: [String: ScrubRule] = [:]
        for rule in catalog.rules where rule.enabled { active[rule.id] = rule }
        self.active = active
    }

    /// Rule ids the checks in code can report (each needs an entry in the catalog to be reported).
    public static let ruleIds = [
        "REQ-001", "NPI-001", "POS-001", "DATE-001", "DATE-002", "DX-EXISTS", "DX-BILLABLE", "DX-DATE", "PTR-001",
        "AGE-001", "SEX-001", "PROC-001", "MOD-001", "UNITS-001", "CHG-001", "NDC-001", "DUP-001", "NCCI-PTP",
        "NCCI-MUE", "PAYER-001", "PAYER-002", "PAYER-003", "TF-001",
    ]

    /// Modifiers that can bypass an NCCI PTP edit with modifier indicator 1 (NCCI Policy Manual,
    /// chapter I: anatomic, global surgery, and other NCCI-associated modifiers).
    public static let ncciAssociatedModifiers: Set<String> = [
        "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "LC", "LD", "LM", "LT",
        "RC", "RI", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "24", "25", "57", "58", "78",
        "79", "27", "59", "91", "XE", "XP", "XS", "XU",
    ]

    /// The anatomic modifiers among them: they separate services only on different sites.
    public static let anatomicModifiers: Set<String> = [
        "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "LC", "LD", "LM", "LT",
        "RC", "RI", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9",
    ]

    /// CMS place-of-service codes (the POS code set, as of 2026).
    public static let placesOfService: Set<String> = [
        "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18",
        "19", "20", "21", "22", "23", "24", "25", "26", "27", "31", "32", "33", "34", "41", "42", "49", "50", "51",
        "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "65", "66", "71", "72", "81", "99",
    ]

    /// Scrubs one claim.
    public func scrub(_ claim: ScrubClaim) -> ScrubResult {
        var run = Run(scrubber: self, claim: claim, today: today ?? CalendarDate.today())
        run.check()
        return ScrubResult(claimId: claim.claimId, findings: run.findings, rulesVersion: catalog.version)
    }

    /// Scrubs many claims.
    public func scrub(_ claims: [ScrubClaim]) -> [ScrubResult] { claims.map(scrub) }

    // MARK: One scrub

    private struct Run {
        let scrubber: Scrubber
        let claim: ScrubClaim
        let today: CalendarDate
        var findings: [ScrubFinding] = []

        init(scrubber: Scrubber, claim: ScrubClaim, today: CalendarDate) {
            self.scrubber = scrubber
            self.claim = claim
            self.today = today
        }

        mutating func emit(_ id: String, _ path: String, _ values: [String: String] = [:]) {
            guard let rule = scrubber.active[id] else { return }
            findings.append(
                ScrubFinding(
                    ruleId: rule.id, ruleVersion: rule.version, severity: rule.severity,
                    message: rule.render(values), fix: rule.fix, fieldPath: path))
        }

        func date(of line: ScrubClaim.Line) -> CalendarDate { line.serviceDate ?? claim.dateOfService }

        mutating func check() {
            checkRequired()
            checkNPIs()
            checkDates()
            checkDiagnoses()
            checkLines(diagnosisCount: claim.diagnoses.count)
            checkDuplicates()
            checkPTP()
            checkMUE()
            checkPayer()
        }

        // REQ-001, POS-001
        mutating func checkRequired() {
            func blank(_ text: String?) -> Bool { text.map { $0.trimmingSpaces.isEmpty } ?? true }
            if blank(claim.claimId) { emit("REQ-001", "/claimId", ["field": "claim id", "detail": ""]) }
            if blank(claim.payerId) { emit("REQ-001", "/payerId", ["field": "payer id", "detail": ""]) }
            if blank(claim.billingProviderNPI) {
                emit("REQ-001", "/billingProviderNPI", ["field": "billing provider NPI", "detail": ""])
            }
            if blank(claim.placeOfService) {
                emit("REQ-001", "/placeOfService", ["field": "place of service", "detail": ""])
            } else if let pos = claim.placeOfService, !Scrubber.placesOfService.contains(String(pos.trimmingSpaces)) {
                emit("POS-001", "/placeOfService", ["pos": pos])
            }
            if !["female", "male", "other", "unknown"].contains(claim.patient.sex) {
                emit(
                    "REQ-001", "/patient/sex",
                    [
                        "field": "patient sex",
                        "detail": " (female, male, other or unknown; got \"\(claim.patient.sex)\")",
                    ])
            }
            if claim.diagnoses.isEmpty {
                emit("REQ-001", "/diagnoses", ["field": "at least one diagnosis", "detail": ""])
            }
            if claim.lines.isEmpty { emit("REQ-001", "/lines", ["field": "at least one service line", "detail": ""]) }
            for (index, line) in claim.lines.enumerated() where blank(line.code) {
                emit("REQ-001", "/lines/\(index)/code", ["field": "line \(index + 1) procedure code", "detail": ""])
            }
        }

        // NPI-001
        mutating func checkNPIs() {
            let fields: [(String, String?, String)] = [
                ("/billingProviderNPI", claim.billingProviderNPI, "billing provider"),
                ("/renderingProviderNPI", claim.renderingProviderNPI, "rendering provider"),
                ("/referringProviderNPI", claim.referringProviderNPI, "referring provider"),
            ]
            for (path, value, role) in fields {
                guard let value, !value.trimmingSpaces.isEmpty else { continue }
                if !NPI.isValid(value) { emit("NPI-001", path, ["role": role, "npi": value]) }
            }
        }

        // DATE-001, DATE-002, TF-001
        mutating func checkDates() {
            let limit = min(claim.submissionDate, today)
            if limit < claim.dateOfService {
                emit(
                    "DATE-001", "/dateOfService",
                    ["date": claim.dateOfService.description, "limit": limit.description])
            }
            for (index, line) in claim.lines.enumerated() {
                if let date = line.serviceDate, limit < date {
                    emit(
                        "DATE-001", "/lines/\(index)/serviceDate",
                        ["date": date.description, "limit": limit.description])
                }
            }
            if claim.dateOfService < claim.patient.dateOfBirth {
                emit(
                    "DATE-002", "/patient/dateOfBirth",
                    ["dob": claim.patient.dateOfBirth.description, "date": claim.dateOfService.description])
            }
            var earliest = claim.dateOfService
            for line in claim.lines { if let date = line.serviceDate, date < earliest { earliest = date } }
            let days = earliest.days(to: claim.submissionDate)
            let allowed = scrubber.payers.timelyFilingDays(for: claim.payerId)
            if days > allowed {
                emit(
                    "TF-001", "/submissionDate",
                    [
                        "days": String(days), "limit": String(allowed),
                        "payer": claim.payerName ?? claim.payerId ?? "the payer",
                    ])
            }
        }

        // DX-EXISTS, DX-BILLABLE, DX-DATE, AGE-001, SEX-001
        mutating func checkDiagnoses() {
            let dos = claim.dateOfService
            let age = claim.patient.dateOfBirth <= dos ? claim.patient.dateOfBirth.age(on: dos) : nil
            for (index, code) in claim.diagnoses.enumerated() {
                let path = "/diagnoses/\(index)"
                guard ICD10.isWellFormed(code), let info = scrubber.codeSets.diagnosis(code, on: dos) else {
                    emit("DX-EXISTS", path, ["code": code])
                    continue
                }
                guard info.isEffective(on: dos) else {
                    let from = info.effectiveFrom?.description ?? "—"
                    let through = info.effectiveThrough?.description ?? "—"
                    emit("DX-DATE", path, ["code": code, "date": dos.description, "from": from, "through": through])
                    continue
                }
                if !info.billable { emit("DX-BILLABLE", path, ["code": code]) }
                if let range = info.ageRange, let age, !range.contains(age) {
                    emit(
                        "AGE-001", path,
                        [
                            "code": code, "age": String(age), "low": String(range.lowerBound),
                            "high": String(range.upperBound),
                        ])
                }
                if let edit = info.sexEdit {
                    let sex = claim.patient.sex
                    if (sex == "female" || sex == "male") && sex != edit.rawValue {
                        emit("SEX-001", path, ["code": code, "edit": edit.rawValue, "sex": sex])
                    }
                }
            }
        }

        // PTR-001, PROC-001, MOD-001, UNITS-001, CHG-001, NDC-001
        mutating func checkLines(diagnosisCount: Int) {
            for (index, line) in claim.lines.enumerated() {
                let base = "/lines/\(index)"
                let number = String(index + 1)
                if line.diagnosisPointers.isEmpty {
                    emit(
                        "PTR-001", "\(base)/diagnosisPointers", ["line": number, "detail": "has no diagnosis pointer"])
                }
                var seen = Set<Int>()
                for (position, pointer) in line.diagnosisPointers.enumerated() {
                    let path = "\(base)/diagnosisPointers/\(position)"
                    if position >= 4 {
                        emit("PTR-001", path, ["line": number, "detail": "has more than four diagnosis pointers"])
                        break
                    }
                    if pointer < 1 || pointer > diagnosisCount {
                        emit(
                            "PTR-001", path,
                            [
                                "line": number,
                                "detail": "points at diagnosis \(pointer), but the claim has \(diagnosisCount)",
                            ])
                    } else if !seen.insert(pointer).inserted {
                        emit("PTR-001", path, ["line": number, "detail": "points at diagnosis \(pointer) twice"])
                    }
                }
                checkProcedure(line, base: base, number: number)
                if line.modifiers.count > 4 {
                    emit(
                        "MOD-001", "\(base)/modifiers/4",
                        ["line": number, "modifier": line.modifiers[4], "detail": "a fifth modifier"])
                }
                for (position, modifier) in line.modifiers.prefix(4).enumerated()
                where !Self.isWellFormedModifier(modifier) {
                    emit(
                        "MOD-001", "\(base)/modifiers/\(position)",
                        ["line": number, "modifier": modifier, "detail": "not two letters or digits"])
                }
                if line.units <= 0 {
                    emit("UNITS-001", "\(base)/units", ["line": number, "units": String(line.units)])
                }
                if line.charge.minorUnits <= 0 {
                    emit("CHG-001", "\(base)/charge", ["line": number, "charge": line.charge.description])
                }
                if let ndc = line.ndc, !ndc.isEmpty {
                    let digits = ndc.filter { $0 != "-" }
                    if digits.count != 11 || !digits.allSatisfy(\.isASCII) || !digits.allSatisfy(\.isNumber) {
                        emit("NDC-001", "\(base)/ndc", ["line": number, "ndc": ndc])
                    }
                }
            }
        }

        static func isWellFormedModifier(_ modifier: String) -> Bool {
            let bytes = modifier.utf8
            return bytes.count == 2 && bytes.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) }
        }

        mutating func checkProcedure(_ line: ScrubClaim.Line, base: String, number: String) {
            let code = line.code.uppercased()
            guard !code.trimmingSpaces.isEmpty else { return }
            let system = line.codeSystem.lowercased()
            let wellFormed: Bool
            switch system {
            case "cpt":
                // Four digits then a digit (Category I), or A (vaccines), F (II), M, T (III), U (PLA).
                let bytes = Array(code.utf8)
                wellFormed =
                    bytes.count == 5 && bytes[0..<4].allSatisfy { $0 >= 48 && $0 <= 57 }
                    && (ICD10.isDigit(bytes[4]) || "AFMTU".utf8.contains(bytes[4]))
            case "hcpcs":
                // HCPCS Level II: a letter A–V then four digits.
                let bytes = Array(code.utf8)
                wellFormed =
                    bytes.count == 5 && bytes[0] >= 65 && bytes[0] <= 86
                    && bytes[1...].allSatisfy { $0 >= 48 && $0 <= 57 }
            case "local":
                return
            default:
                emit(
                    "PROC-001", "\(base)/codeSystem",
                    ["line": number, "code": line.code, "detail": "unknown code system \"\(line.codeSystem)\""])
                return
            }
            if !wellFormed {
                emit(
                    "PROC-001", "\(base)/code",
                    ["line": number, "code": line.code, "detail": "not a \(system.uppercased()) code"])
            } else if scrubber.codeSets.procedureExists(system: system, code: code, on: date(of: line)) == false {
                emit(
                    "PROC-001", "\(base)/code",
                    [
                        "line": number, "code": line.code,
                        "detail": "not in the \(system.uppercased()) code set on \(date(of: line))",
                    ])
            }
        }

        // DUP-001: same code (in the same code system), same modifiers (in any order), same date of service.
        mutating func checkDuplicates() {
            struct Key: Hashable {
                var system: String
                var code: String
                var modifiers: [String]
                var date: CalendarDate
            }
            guard claim.lines.count > 1 else { return }
            var first: [Key: Int] = [:]
            for (index, line) in claim.lines.enumerated() {
                let key = Key(
                    system: line.codeSystem.lowercased(), code: line.code.uppercased(),
                    modifiers: line.modifiers.map { $0.uppercased() }.sorted(),
                    date: date(of: line))
                if let earlier = first[key] {
                    emit(
                        "DUP-001", "/lines/\(index)",
                        ["line": String(index + 1), "other": String(earlier + 1), "code": line.code])
                } else {
                    first[key] = index
                }
            }
        }

        // NCCI-PTP: each ordered pair of lines on the same date.
        mutating func checkPTP() {
            let lines = claim.lines
            guard lines.count > 1 else { return }
            for (one, lineOne) in lines.enumerated() where Self.isNationalCode(lineOne) {
                for (two, lineTwo) in lines.enumerated() where two != one && Self.isNationalCode(lineTwo) {
                    let date = date(of: lineOne)
                    guard date == self.date(of: lineTwo),
                        let edit = scrubber.edits.ptpEdit(
                            column1: lineOne.code.uppercased(), column2: lineTwo.code.uppercased(), on: date)
                    else { continue }
                    let values = [
                        "column1": edit.column1, "column2": edit.column2, "line1": String(one + 1),
                        "line2": String(two + 1), "indicator": String(edit.modifierIndicator.rawValue),
                        "rationale": edit.rationale,
                    ]
                    switch edit.modifierIndicator {
                    case .notAllowed:
                        emit(
                            "NCCI-PTP", "/lines/\(two)/code",
                            values.merging(["detail": "no modifier allows the pair"]) { $1 })
                    case .allowed:
                        if !Self.bypasses(lineOne, lineTwo) {
                            emit(
                                "NCCI-PTP", "/lines/\(two)/code",
                                values.merging([
                                    "detail":
                                        "no NCCI-associated modifier (59, XE, XS, XP, XU, 25, 91, anatomic…) on either line"
                                ]) { $1 })
                        }
                    case .notApplicable:
                        break
                    }
                }
            }
        }

        /// Whether the pair's modifiers let an indicator-1 edit through: 59 or X{EPSU}, 24, 27, 58, 78,
        /// 79 or 91 on either line; 25 or 57 on an evaluation and management line (992xx–994xx); an
        /// anatomic modifier on one line that the other line does not carry (RT on both is one site).
        static func bypasses(_ one: ScrubClaim.Line, _ two: ScrubClaim.Line) -> Bool {
            let first = Set(one.modifiers.map { $0.uppercased() })
            let second = Set(two.modifiers.map { $0.uppercased() })
            for (modifiers, line, other) in [(first, one, second), (second, two, first)] {
                for modifier in modifiers where Scrubber.ncciAssociatedModifiers.contains(modifier) {
                    if Scrubber.anatomicModifiers.contains(modifier) {
                        if !other.contains(modifier) { return true }
                    } else if modifier == "25" || modifier == "57" {
                        if isEvaluationAndManagement(line.code) { return true }
                    } else {
                        return true
                    }
                }
            }
            return false
        }

        static func isEvaluationAndManagement(_ code: String) -> Bool {
            let bytes = Array(code.utf8)
            return bytes.count == 5 && bytes[0] == 57 && bytes[1] == 57 && (50...52).contains(bytes[2])
                && bytes[3...].allSatisfy { $0 >= 48 && $0 <= 57 }
        }

        static func isNationalCode(_ line: ScrubClaim.Line) -> Bool {
            let system = line.codeSystem.lowercased()
            return system == "cpt" || system == "hcpcs"
        }

        // NCCI-MUE: units per code per date (MAI 2, 3) or per line (MAI 1).
        mutating func checkMUE() {
            struct Key: Hashable {
                var code: String
                var date: CalendarDate
            }
            var totals: [Key: (units: Int, last: Int)] = [:]
            var order: [Key] = []
            for (index, line) in claim.lines.enumerated() where line.units > 0 && Self.isNationalCode(line) {
                let code = line.code.uppercased()
                guard let edit = scrubber.edits.mue[code] else { continue }
                if edit.adjudicationIndicator.sumsAcrossLines {
                    let key = Key(code: code, date: date(of: line))
                    if let total = totals[key] {
                        totals[key] = (total.units + line.units, index)
                    } else {
                        totals[key] = (line.units, index)
                        order.append(key)
                    }
                } else if line.units > edit.maxUnits {
                    emit(
                        "NCCI-MUE", "/lines/\(index)/units",
                        [
                            "code": code, "units": String(line.units), "max": String(edit.maxUnits),
                            "scope": "on line \(index + 1)", "mai": "1",
                        ])
                }
            }
            for key in order {
                guard let total = totals[key], let edit = scrubber.edits.mue[key.code], total.units > edit.maxUnits
                else { continue }
                emit(
                    "NCCI-MUE", "/lines/\(total.last)/units",
                    [
                        "code": key.code, "units": String(total.units), "max": String(edit.maxUnits),
                        "scope": "on \(key.date) (all lines)", "mai": String(edit.adjudicationIndicator.rawValue),
                    ])
            }
        }

        // PAYER-001, PAYER-002, PAYER-003
        mutating func checkPayer() {
            guard let payer = scrubber.payers.rules(for: claim.payerId) else { return }
            if payer.requiresReferringNPI, claim.referringProviderNPI.map({ $0.trimmingSpaces.isEmpty }) ?? true {
                emit("PAYER-001", "/referringProviderNPI", ["payer": payer.name])
            }
            if !payer.disallowedModifiers.isEmpty {
                let disallowed = Set(payer.disallowedModifiers.map { $0.uppercased() })
                for (index, line) in claim.lines.enumerated() {
                    for (position, modifier) in line.modifiers.enumerated()
                    where disallowed.contains(modifier.uppercased()) {
                        emit(
                            "PAYER-002", "/lines/\(index)/modifiers/\(position)",
                            ["payer": payer.name, "modifier": modifier, "line": String(index + 1)])
                    }
                }
            }
            if let max = payer.maxLinesPerClaim, claim.lines.count > max {
                emit(
                    "PAYER-003", "/lines/\(max)",
                    ["payer": payer.name, "count": String(claim.lines.count), "max": String(max)])
            }
        }
    }
}
