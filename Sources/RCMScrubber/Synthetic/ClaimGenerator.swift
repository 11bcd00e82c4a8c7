import RCMCore

/// A deterministic pseudo-random generator (`SplitMix64`) with the draws the claim generator
/// makes: the same seed gives the same claims on every platform and Swift version.
public struct SeededGenerator: Sendable {
    private var words: SplitMix64

    public init(seed: UInt64) { words = SplitMix64(seed: seed) }

    public mutating func next() -> UInt64 { words.next() }

    /// A number in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// True with probability `percent`/100.
    public mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// `count` distinct items (or all of them, when there are fewer).
    public mutating func sample<T>(_ items: [T], _ count: Int) -> [T] {
        var pool = items
        var result: [T] = []
        while result.count < count, !pool.isEmpty { result.append(pool.remove(at: int(0...(pool.count - 1)))) }
        return result
    }
}

/// One synthetic claim and the rule it was built to break (nil for a clean claim).
public struct LabelledClaim: Sendable, Codable, Hashable {
    public var claim: ScrubClaim
    public var label: String?
    /// How the error was injected, for reading failures.
    public var note: String

    public init(claim: ScrubClaim, label: String?, note: String) {
        self.claim = claim
        self.label = label
        self.note = note
    }
}

/// Builds synthetic encounters' claims: clean ones, and ones with one labelled error each.
///
/// Clean claims are built to pass every rule, including the traps a scrubber can fall into: NCCI
/// pairs billed with the right modifier, edits deleted or not yet effective on the date, MUE units
/// at the limit, sex- and age-specific codes on matching patients, codes whose validity changed.
public struct ClaimGenerator: Sendable {
    /// The rules the generator can break, one per injected claim.
    public static let injectableRules = [
        "REQ-001", "NPI-001", "POS-001", "DATE-001", "DATE-002", "DX-EXISTS", "DX-BILLABLE", "DX-DATE", "PTR-001",
        "AGE-001", "SEX-001", "PROC-001", "MOD-001", "UNITS-001", "CHG-001", "NDC-001", "DUP-001", "NCCI-PTP",
        "NCCI-MUE", "PAYER-001", "PAYER-002", "PAYER-003", "TF-001",
    ]

    /// The date claims are generated up to (the scrubber's "today" in the benchmark).
    public let today: CalendarDate
    private var rng: SeededGenerator
    private var serial = 0

    public init(seed: UInt64, today: CalendarDate = CalendarDate("2026-12-01")!) {
        rng = SeededGenerator(seed: seed)
        self.today = today
    }

    /// `clean` clean claims and `perRule` claims for each injectable rule, in a shuffled order.
    public mutating func generate(clean: Int, perRule: Int) -> [LabelledClaim] {
        var result: [LabelledClaim] = []
        for _ in 0..<clean { result.append(cleanClaim()) }
        for rule in Self.injectableRules {
            for _ in 0..<perRule { result.append(injected(rule)) }
        }
        // Fisher–Yates with the seeded generator.
        for index in stride(from: result.count - 1, to: 0, by: -1) {
            result.swapAt(index, rng.int(0...index))
        }
        return result
    }

    // MARK: Building blocks

    static let payers: [(id: String, name: String, limit: Int, referral: Bool)] = [
        ("MCR01", "Sample Medicare Part B", 365, false), ("MCD01", "Sample State Medicaid", 180, true),
        ("ACME1", "Sample Acme Commercial", 90, false), ("BLUE1", "Sample Blue Plan HMO", 180, true),
        ("WCOMP", "Sample Workers' Compensation", 60, false), ("OTHER9", "Unlisted payer", 365, false),
    ]

    mutating func npi() -> String {
        var digits = "1"
        for _ in 0..<8 { digits += String(rng.int(0...9)) }
        return digits + String(NPI.checkDigit(digits)!)
    }

    mutating func money() -> Money { Money(minorUnits: Int64(rng.int(20...450)) * 100 + Int64(rng.int(0...99))) }

    mutating func nextId() -> String {
        serial += 1
        return "SYN-\(serial)"
    }

    mutating func line(
        _ code: String, system: String = "cpt", modifiers: [String] = [], units: Int = 1, diagnoses: Int
    ) -> ScrubClaim.Line {
        let count = rng.int(1...min(4, diagnoses))
        let pointers = rng.sample(Array(1...diagnoses), count)
        var line = ScrubClaim.Line(
            codeSystem: system, code: code, modifiers: modifiers, units: units, diagnosisPointers: pointers,
            charge: money())
        if code.hasPrefix("J") { line.ndc = "00\(rng.int(100...999))\(rng.int(1000...9999))\(rng.int(10...99))" }
        return line
    }

    /// Encounter templates: lines that pass every rule together.
    mutating func encounterLines(
        age: Int, diagnoses: Int, payer: String, on dos: CalendarDate
    ) -> [ScrubClaim.Line] {
        let em = rng.pick(["99202", "99203", "99204", "99212", "99213", "99214", "99215"])
        let distinct = payer == "ACME1" ? "59" : rng.pick(["59", "XS", "XU"])
        switch rng.int(0...9) {
        case 0, 1:
            // Office visit with labs; 36415 only with an E/M it is not bundled into.
            var lines = [line(em, diagnoses: diagnoses)]
            let labs = rng.sample(
                ["85025", "80053", "80061", "83036", "84443", "81002", "87880", "93000"], rng.int(1...3))
            for lab in labs { lines.append(line(lab, diagnoses: diagnoses)) }
            if em != "99213" { lines.append(line("36415", units: rng.int(1...2), diagnoses: diagnoses)) }
            return lines
        case 2:
            // E/M with an injection: modifier 25 on the E/M satisfies 99214/96372 (indicator 1).
            return [
                line(em, modifiers: ["25"], diagnoses: diagnoses),
                line("96372", units: rng.int(1...2), diagnoses: diagnoses),
                line(rng.pick(["J1885", "J3301"]), system: "hcpcs", units: rng.int(1...4), diagnoses: diagnoses),
            ]
        case 3:
            // Preventive visit plus a problem visit (99396/99213, indicator 1, modifier 25) and a vaccine.
            let preventive = Self.preventive(age: age)
            var lines = [line(preventive, diagnoses: diagnoses)]
            if age >= 40 && age <= 64 { lines.append(line("99213", modifiers: ["25"], diagnoses: diagnoses)) }
            lines.append(line("90471", diagnoses: diagnoses))
            lines.append(line(rng.pick(["90686", "90715", "90732"]), diagnoses: diagnoses))
            return lines
        case 4:
            // Therapy: 97530 with 97140 is an edit in force during 2020 only (indicator 1): after it,
            // no modifier is needed; during it, 59 on 97140.
            let during = dos <= CalendarDate("2020-12-31")!
            return [
                line("97161", diagnoses: diagnoses),
                line("97110", modifiers: ["GP"], units: rng.int(1...4), diagnoses: diagnoses),
                line("97140", modifiers: during ? ["GP", "59"] : ["GP"], units: rng.int(1...3), diagnoses: diagnoses),
                line("97530", modifiers: ["GP"], units: rng.int(1...3), diagnoses: diagnoses),
            ]
        case 5:
            // Lesion destruction: 17000 with 17110 needs a distinct-service modifier (indicator 1).
            return [
                line(em, modifiers: ["25"], diagnoses: diagnoses), line("17000", diagnoses: diagnoses),
                line("17003", units: rng.int(1...13), diagnoses: diagnoses),
                line("17110", modifiers: [distinct], diagnoses: diagnoses),
            ]
        case 6:
            // Bilateral joint injections on two lines: MUE 2 is a line edit (MAI 1), RT and LT differ.
            return [
                line("20610", modifiers: ["RT"], units: rng.int(1...2), diagnoses: diagnoses),
                line("20610", modifiers: ["LT"], units: rng.int(1...2), diagnoses: diagnoses),
                line("J3301", system: "hcpcs", units: rng.int(1...8), diagnoses: diagnoses),
            ]
        case 7:
            // 99213 with 94760: an edit deleted retroactively (indicator 9); 99214 with 94760: an
            // edit not effective until 2027 (from then on, 99213 only).
            let em = dos < CalendarDate("2027-01-01")! ? rng.pick(["99213", "99214"]) : "99213"
            return [line(em, diagnoses: diagnoses), line("94760", diagnoses: diagnoses)]
        case 8:
            // Venipuncture at its MUE (2, summed over lines): one unit, then a repeat with 91.
            return [
                line("99212", diagnoses: diagnoses), line("36415", diagnoses: diagnoses),
                line("36415", modifiers: ["91"], diagnoses: diagnoses),
            ]
        default:
            // Wound care and a repair (12001/11042, indicator 1, with a distinct-service modifier).
            return [line("12001", diagnoses: diagnoses), line("11042", modifiers: [distinct], diagnoses: diagnoses)]
        }
    }

    static func preventive(age: Int) -> String {
        switch age {
        case ..<1: "99391"
        case 1...4: "99392"
        case 5...11: "99393"
        case 12...17: "99394"
        case 18...39: "99395"
        case 40...64: "99396"
        default: "99397"
        }
    }

    enum Population: CaseIterable {
        case adult, child, newborn, pregnant, male, female
    }

    /// A clean claim for services on `dateOfService`, submitted `lag` days later.
    mutating func baseClaim(
        dateOfService: CalendarDate? = nil, lag: Int? = nil, payer chosen: String? = nil,
        population: Population? = nil
    ) -> ScrubClaim {
        let dos = dateOfService ?? CalendarDate("2026-01-05")!.adding(days: rng.int(0...320))
        let payer = chosen.flatMap { id in Self.payers.first { $0.id == id } } ?? rng.pick(Self.payers)
        let submitted = dos.adding(days: lag ?? rng.int(1...min(30, payer.limit)))
        let population =
            population ?? rng.pick([.adult, .adult, .adult, .adult, .child, .newborn, .pregnant, .male, .female])
        var sex = rng.pick(["female", "male", "female", "male", "other", "unknown"])
        var ageYears = rng.int(18...88)
        var special: [String] = []
        switch population {
        case .adult:
            if rng.chance(20) { special = [rng.pick(["Z00.00", "Z00.01"])] }
        case .child:
            ageYears = rng.int(1...17)
            if rng.chance(50) { special = [rng.pick(["Z00.121", "Z00.129"])] }
        case .newborn:
            ageYears = 0
            special = [rng.pick(["P07.30", "P07.32", "P59.9", "Z38.00", "P05.9"])]
        case .pregnant:
            sex = "female"
            ageYears = rng.int(18...42)
            special = [rng.pick(["Z34.00", "Z34.01", "Z34.90", "O24.419", "O21.0", "O80", "Z33.1"])]
        case .male:
            sex = "male"
            ageYears = rng.int(45...85)
            special = [rng.pick(["N40.0", "N40.1", "C61", "Z12.5", "N52.9", "E29.1"])]
        case .female:
            sex = "female"
            ageYears = rng.int(20...80)
            special = [rng.pick(["N94.6", "Z12.4", "Z01.419", "N95.1", "C50.911", "E28.2", "D25.9"])]
        }
        // A patient with a recorded sex of other or unknown gets no sex edit (nothing to conflict with).
        let dob: CalendarDate
        if ageYears == 0 {
            dob = dos.adding(days: -rng.int(0...25))
        } else {
            dob = dos.adding(days: -(ageYears * 365 + ageYears / 4 + rng.int(1...360)))
        }
        let plain = SampleCodeSets.plainBillableCodes(on: dos)
        var diagnoses = special + rng.sample(plain, rng.int((special.isEmpty ? 1 : 0)...3))
        if rng.chance(15) { diagnoses = diagnoses.map { $0.replacingDots() } }
        let pos = rng.pick(["11", "11", "11", "11", "22", "02", "10", "19", "49", "72"])
        let lines = encounterLines(age: ageYears, diagnoses: diagnoses.count, payer: payer.id, on: dos)
        return ScrubClaim(
            claimId: nextId(), payerId: payer.id == "OTHER9" && rng.chance(30) ? "OTHER\(rng.int(10...99))" : payer.id,
            payerName: payer.name, patient: .init(sex: sex, dateOfBirth: dob), billingProviderNPI: npi(),
            renderingProviderNPI: rng.chance(70) ? npi() : nil,
            referringProviderNPI: payer.referral || rng.chance(30) ? npi() : nil, placeOfService: pos,
            dateOfService: dos, submissionDate: submitted, diagnoses: diagnoses, lines: lines)
    }

    public mutating func cleanClaim() -> LabelledClaim {
        LabelledClaim(claim: baseClaim(), label: nil, note: "clean")
    }

    /// Codes no edit in the sample tables touches (no PTP pair among them, no MUE below two units).
    static let neutralCodes = [
        "99213", "85025", "80053", "80061", "83036", "84443", "93000", "87880", "90686", "90471", "94010", "11102",
        "97110", "97140", "20552",
    ]

    /// A claim with one error of `rule`.
    public mutating func injected(_ rule: String) -> LabelledClaim {
        var claim = baseClaim()
        var note = ""
        let count = claim.diagnoses.count
        switch rule {
        case "REQ-001":
            switch rng.int(0...4) {
            case 0:
                claim.payerId = nil
                note = "no payer id"
            case 1:
                claim.billingProviderNPI = rng.chance(50) ? nil : " "
                note = "no billing NPI"
            case 2:
                claim.placeOfService = nil
                note = "no place of service"
            case 3:
                claim.claimId = ""
                note = "empty claim id"
            default:
                claim.lines[rng.int(0...(claim.lines.count - 1))].code = ""
                note = "a line without a code"
            }
        case "NPI-001":
            let which = rng.int(0...2)
            var value = which == 2 ? (claim.referringProviderNPI ?? npi()) : npi()
            var digits = Array(value)
            let position = rng.int(1...9)
            let digit = digits[position].wholeNumberValue!
            digits[position] = Character(String((digit + rng.int(1...9)) % 10))
            value = String(digits)
            switch which {
            case 0: claim.billingProviderNPI = value
            case 1: claim.renderingProviderNPI = value
            default: claim.referringProviderNPI = value
            }
            note = "NPI \(value): digit \(position + 1) changed"
        case "POS-001":
            claim.placeOfService = rng.pick(["00", "30", "48", "67", "98", "1A", "111", "O1"])
            note = "place of service \(claim.placeOfService!)"
        case "DATE-001":
            if rng.chance(50) {
                claim.submissionDate = claim.dateOfService.adding(days: -rng.int(1...20))
                note = "service after submission"
            } else {
                claim = baseClaim(dateOfService: today.adding(days: rng.int(1...60)), lag: -rng.int(1...20))
                note = "service in the future"
            }
        case "DATE-002":
            claim.patient.dateOfBirth = claim.dateOfService.adding(days: rng.int(1...400))
            note = "born after the service"
        case "DX-EXISTS":
            let bad = rng.pick([
                "E11.99", "I10.9", "Z00.02", "J45.999", "K21.2", "E78.7", "R10.99", "M17.99", "J06.8X", "Z23.1",
                "11.9", "E1", "EE11", "I10..", "Z0000000",
            ])
            claim.diagnoses[rng.int(0...(count - 1))] = bad
            note = "diagnosis \(bad)"
        case "DX-BILLABLE":
            let header = rng.pick([
                "E11", "E11.6", "E11.64", "I25", "I25.1", "J45", "E78", "M54", "R10", "R10.1", "N39", "K59.0", "J06",
                "F41", "I50", "R05", "R51", "E66", "J44", "M17", "K21.0", "M54.5",
            ])
            claim.diagnoses[rng.int(0...(count - 1))] = header
            note = "header \(header)"
        case "DX-DATE":
            let (code, from) = rng.pick([
                ("F32.A", "2021-10-01"), ("J12.82", "2021-10-01"), ("M54.50", "2021-10-01"), ("M79.10", "2022-10-01"),
                ("R05.9", "2021-10-01"), ("R51.9", "2020-10-01"), ("U07.1", "2020-04-01"), ("Z20.822", "2021-01-01"),
                ("N18.30", "2020-10-01"), ("K21.00", "2020-10-01"), ("M54.59", "2021-10-01"), ("R05.1", "2021-10-01"),
            ])
            let dos = CalendarDate(from)!.adding(days: -rng.int(10...300))
            claim = baseClaim(dateOfService: dos, population: .adult)
            claim.diagnoses[rng.int(0...(claim.diagnoses.count - 1))] = code
            note = "\(code) before \(from)"
        case "PTR-001":
            let index = rng.int(0...(claim.lines.count - 1))
            switch rng.int(0...3) {
            case 0:
                claim.lines[index].diagnosisPointers[0] = count + rng.int(1...3)
                note = "pointer past the last diagnosis"
            case 1:
                claim.lines[index].diagnosisPointers[0] = 0
                note = "pointer 0"
            case 2:
                claim.lines[index].diagnosisPointers = []
                note = "no pointers"
            default:
                claim.lines[index].diagnosisPointers = [1, 2, 3, 4, 1].map { min($0, count) }
                note = "five pointers"
            }
        case "AGE-001":
            switch rng.int(0...3) {
            case 0:
                claim = baseClaim(population: .adult)
                claim.diagnoses[0] = rng.pick(["P07.30", "P59.9", "Z38.00", "Z00.110"])
                note = "newborn code on an adult"
            case 1:
                claim = baseClaim(population: .adult)
                claim.diagnoses[0] = rng.pick(["Z00.121", "Z00.129"])
                note = "child exam on an adult"
            case 2:
                claim = baseClaim(population: .child)
                // Adult codes start at 15: make the child younger.
                claim.patient.dateOfBirth = claim.dateOfService.adding(
                    days: -(rng.int(2...13) * 365 + rng.int(5...300)))
                claim.diagnoses[0] = rng.pick(["Z00.00", "Z00.01"])
                note = "adult exam on a child"
            default:
                claim = baseClaim(population: .female)
                let age = claim.patient.dateOfBirth.age(on: claim.dateOfService)
                if age <= 55 {
                    claim.patient.dateOfBirth = claim.dateOfService.adding(days: -(rng.int(60...80) * 366))
                }
                claim.diagnoses[0] = rng.pick(["O80", "Z34.00", "O24.419", "Z33.1"])
                note = "maternity code over 55"
            }
        case "SEX-001":
            if rng.chance(50) {
                claim = baseClaim(population: .male)
                claim.diagnoses[0] = rng.pick(["N94.6", "Z12.4", "C56.9", "N95.1", "E28.2", "D25.9", "Z01.419"])
                note = "female-only code on a male"
            } else {
                claim = baseClaim(population: .female)
                claim.diagnoses[0] = rng.pick(["N40.0", "C61", "Z12.5", "N52.9", "E29.1", "N43.3"])
                note = "male-only code on a female"
            }
        case "PROC-001":
            let index = rng.int(0...(claim.lines.count - 1))
            let (system, code) = rng.pick([
                ("cpt", "99201"), ("cpt", "99220"), ("cpt", "99299"), ("cpt", "9921"), ("cpt", "992134"),
                ("cpt", "ABCDE"), ("hcpcs", "Z9999"), ("hcpcs", "G9"), ("icd", "99213"), ("cpt", "J1885"),
            ])
            claim.lines[index].codeSystem = system
            claim.lines[index].code = code
            note = "\(system) \(code)"
        case "MOD-001":
            let index = rng.int(0...(claim.lines.count - 1))
            if rng.chance(25) {
                for filler in ["KX", "Q5", "Q6", "76", "GP"] where claim.lines[index].modifiers.count < 5 {
                    if !claim.lines[index].modifiers.contains(filler) { claim.lines[index].modifiers.append(filler) }
                }
                note = "five modifiers"
            } else {
                let bad = rng.pick(["5", "259", "X-", "2 ", "", "gp", "XEU", "*"])
                claim.lines[index].modifiers.append(bad)
                if claim.lines[index].modifiers.count > 4 { claim.lines[index].modifiers.removeFirst() }
                note = "modifier \"\(bad)\""
            }
        case "UNITS-001":
            let index = rng.int(0...(claim.lines.count - 1))
            claim.lines[index].units = rng.pick([0, 0, 0, -1])
            note = "units \(claim.lines[index].units)"
        case "CHG-001":
            let index = rng.int(0...(claim.lines.count - 1))
            claim.lines[index].charge = Money(minorUnits: rng.chance(70) ? 0 : -Int64(rng.int(1...5000)))
            note = "charge \(claim.lines[index].charge)"
        case "NDC-001":
            let index = rng.int(0...(claim.lines.count - 1))
            claim.lines[index].ndc = rng.pick(["1234-5678", "0002-8215-1", "ABCDE123456", "000281501"])
            note = "NDC \(claim.lines[index].ndc!)"
        case "DUP-001":
            let code = rng.pick(["84443", "90686", "90732", "94010", "11102"])
            let repeated = line(code, diagnoses: count)
            claim.lines = Array(claim.lines.prefix(3)) + [repeated, repeated]
            note = "\(code) twice"
        case "NCCI-PTP":
            let (one, two, indicator) = rng.pick([
                ("80053", "82947", 0), ("93000", "93005", 0), ("93000", "93010", 0), ("85025", "85027", 0),
                ("81002", "81003", 0), ("99214", "99213", 0), ("99215", "99214", 0), ("11042", "97597", 0),
                ("36415", "36416", 0), ("69210", "69209", 0), ("G0439", "99397", 0), ("80061", "82465", 0),
                ("99214", "96372", 1), ("17000", "17110", 1), ("20610", "20604", 1), ("45380", "45378", 1),
                ("94640", "94664", 1), ("90471", "96372", 1), ("99396", "99213", 1), ("99213", "36415", 1),
                ("12001", "11042", 1),
            ])
            let bypass = claim.payerId == "ACME1" ? ["59", "25"] : ["59", "XU", "25"]
            let modifiers = indicator == 0 && rng.chance(50) ? [rng.pick(bypass)] : []
            var pair = [
                line(one, system: one.hasPrefix("G") ? "hcpcs" : "cpt", diagnoses: count),
                line(two, modifiers: modifiers, diagnoses: count),
            ]
            if rng.chance(50) { pair.reverse() }
            claim.lines = pair + (rng.chance(50) ? [line("84443", diagnoses: count)] : [])
            note = "\(one)/\(two) indicator \(indicator)\(modifiers.isEmpty ? "" : " with \(modifiers[0])")"
        case "NCCI-MUE":
            switch rng.int(0...4) {
            case 0:
                claim.lines = [line("99212", diagnoses: count), line("96372", units: rng.int(5...8), diagnoses: count)]
                note = "96372 over 4"
            case 1:
                claim.lines = [
                    line("97110", modifiers: ["GP"], units: rng.int(3...6), diagnoses: count),
                    line("97110", modifiers: ["GP", "59"], units: rng.int(4...6), diagnoses: count),
                ]
                note = "97110 over 6 across two lines"
            case 2:
                claim.lines = [
                    line("99212", diagnoses: count), line("36415", units: 2, diagnoses: count),
                    line("36415", modifiers: ["91"], diagnoses: count),
                ]
                note = "36415 3 units across lines"
            case 3:
                claim.lines = [line("20610", modifiers: ["RT"], units: rng.int(3...4), diagnoses: count)]
                note = "20610 over 2 on one line (MAI 1)"
            default:
                claim.lines = [line(rng.pick(["99213", "99203", "99396"]), units: 2, diagnoses: count)]
                note = "E/M 2 units"
            }
        case "PAYER-001":
            claim = baseClaim(payer: rng.pick(["MCD01", "BLUE1"]))
            claim.referringProviderNPI = nil
            note = "no referring NPI for \(claim.payerId!)"
        case "PAYER-002":
            let (payer, modifier) = rng.pick([
                ("ACME1", "GY"), ("ACME1", "XU"), ("ACME1", "GA"), ("MCD01", "GZ"), ("MCD01", "GY"), ("BLUE1", "GA"),
            ])
            claim = baseClaim(payer: payer)
            let index = rng.int(0...(claim.lines.count - 1))
            if claim.lines[index].modifiers.count >= 4 { claim.lines[index].modifiers.removeLast() }
            claim.lines[index].modifiers.append(modifier)
            note = "\(modifier) at \(payer)"
        case "PAYER-003":
            let (payer, max) = rng.pick([("ACME1", 12), ("WCOMP", 6), ("BLUE1", 24)])
            claim = baseClaim(payer: payer)
            let codes = rng.sample(Self.neutralCodes, min(Self.neutralCodes.count, max + 1))
            var lines = codes.map { line($0, diagnoses: claim.diagnoses.count) }
            while lines.count <= max {
                // More lines than distinct neutral codes: the same venipuncture-free lab on later days.
                var extra = line("84443", diagnoses: claim.diagnoses.count)
                extra.serviceDate = claim.dateOfService.adding(days: -lines.count)
                lines.append(extra)
            }
            claim.lines = lines
            note = "\(lines.count) lines at \(payer) (max \(max))"
        case "TF-001":
            let payer = rng.pick(Self.payers.filter { $0.id != "OTHER9" })
            let late = payer.limit + rng.int(1...120)
            let dos = today.adding(days: -(late + rng.int(0...30)))
            claim = baseClaim(dateOfService: dos, lag: late, payer: payer.id)
            note = "\(late) days at \(payer.id) (limit \(payer.limit))"
        default:
            note = "unknown rule"
        }
        return LabelledClaim(claim: claim, label: rule, note: note)
    }
}

extension String {
    fileprivate func replacingDots() -> String { String(filter { $0 != "." }) }
}
