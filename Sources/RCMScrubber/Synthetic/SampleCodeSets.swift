import RCMCore

/// A small in-memory code set of real ICD-10-CM codes (about three hundred, billable codes and
/// their headers, with Medicare Code Editor-style sex and age edits and a few codes whose validity
/// changed with a fiscal-year update) and the CPT/HCPCS codes the benchmark bills. It stands in for
/// the full code sets in tests and the benchmark; it is not a complete or authoritative code set.
public enum SampleCodeSets {
    /// The code set.
    public static let codeSets = InMemoryCodeSets(diagnoses: diagnoses, procedures: procedures)

    /// Newborn, pediatric, maternity and adult age ranges (years), as in the Medicare Code Editor.
    static let newborn = 0...0
    static let pediatric = 0...17
    static let maternity = 12...55
    static let adult = 15...124

    /// One entry a line: `code kind [f|m] [N|P|O|A] [>from] [<through]`, kind `b` billable, `h` header.
    static let table = """
        A08.4 b
        A09 b
        A41.9 b
        A49.9 b
        A63.0 b
        A69.20 b
        B00.9 b
        B02.9 b
        B07.9 b
        B18.2 b
        B19.20 b
        B20 b
        B34.9 b
        B35.1 b
        B35.3 b
        B97.89 b
        C18.9 b
        C34.90 b
        C43.9 b
        C44.91 b
        C50.911 b f
        C50.912 b f
        C53.9 b f
        C56.9 b f
        C61 b m
        C62.90 b m
        C67.9 b
        C79.51 b
        D18.01 b
        D22.9 b
        D23.9 b
        D25.9 b f
        D48.5 b
        D50.9 b
        D51.0 b
        D64.9 b
        D69.6 b
        D72.829 b
        D75.1 b
        E03.9 b
        E05.90 b
        E10 h
        E10.65 b
        E10.9 b
        E11 h
        E11.2 h
        E11.21 b
        E11.22 b
        E11.3 h
        E11.31 h
        E11.319 b
        E11.4 h
        E11.40 b
        E11.42 b
        E11.5 h
        E11.51 b
        E11.6 h
        E11.64 h
        E11.649 b
        E11.65 b
        E11.69 b
        E11.8 b
        E11.9 b
        E13.9 b
        E28.2 b f
        E29.1 b m
        E55.9 b
        E66 h
        E66.01 b
        E66.3 b
        E66.9 b
        E78 h
        E78.0 h
        E78.00 b
        E78.1 b
        E78.2 b
        E78.49 b
        E78.5 b
        E86.0 b
        E87.1 b
        E87.6 b
        F10.20 b
        F17.210 b
        F32 h
        F32.9 b
        F32.A b >2021-10-01
        F33.1 b
        F41 h
        F41.1 b
        F41.9 b
        F43.10 b
        F43.23 b
        F51.01 b
        F84.0 b
        F90.0 b
        G40.909 b
        G43.909 b
        G44.209 b
        G47.00 b
        G47.33 b
        G56.00 b
        G62.9 b
        G89.29 b
        H10.33 b
        H10.9 b
        H25.9 b
        H35.30 b
        H40.9 b
        H52.13 b
        H52.4 b
        H61.21 b
        H61.23 b
        H65.90 b
        H66.90 b
        H66.91 b
        H81.10 b
        H93.19 b
        I10 b
        I11.9 b
        I12.9 b
        I20.9 b
        I21.9 b
        I25 h
        I25.1 h
        I25.10 b
        I26.99 b
        I48 h
        I48.0 b
        I48.91 b
        I49.9 b
        I50 h
        I50.22 b
        I50.9 b
        I63.9 b
        I73.9 b
        I83.90 b
        I95.9 b
        J00 b
        J01.90 b
        J02 h
        J02.0 b
        J02.9 b
        J03.90 b
        J06 h
        J06.9 b
        J12.82 b >2021-10-01
        J18 h
        J18.9 b
        J20.9 b
        J30.2 b
        J30.9 b
        J32.9 b
        J40 b
        J44 h
        J44.1 b
        J44.9 b
        J45 h
        J45.20 b
        J45.40 b
        J45.901 b
        J45.909 b
        K21 h
        K21.0 h >2020-10-01
        K21.00 b >2020-10-01
        K21.9 b
        K29.70 b
        K30 b
        K35.80 b
        K40.90 b
        K52.9 b
        K57.30 b
        K58.9 b
        K59.0 h
        K59.00 b
        K76.0 b
        K80.20 b
        K92.2 b
        L03.90 b
        L20.9 b
        L21.9 b
        L30.9 b
        L40.0 b
        L50.9 b
        L57.0 b
        L60.0 b
        L70.0 b
        L72.3 b
        L82.1 b
        L84 b
        L98.9 b
        M06.9 b
        M10.9 b
        M17 h
        M17.0 b
        M17.11 b
        M17.9 b
        M19.90 b
        M25.511 b
        M25.561 b
        M25.562 b
        M54 h
        M54.16 b
        M54.2 b
        M54.50 b >2021-10-01
        M54.59 b >2021-10-01
        M54.6 b
        M54.9 b
        M62.830 b
        M72.2 b
        M79.10 b >2022-10-01
        M79.18 b >2022-10-01
        M81.0 b
        N17.9 b
        N18.30 b >2020-10-01
        N18.4 b
        N18.6 b
        N18.9 b
        N20.0 b
        N30.00 b
        N39 h
        N39.0 b
        N40 h m
        N40.0 b m
        N40.1 b m
        N43.3 b m
        N47.1 b m
        N52.9 b m
        N73.9 b f
        N76.0 b f
        N83.20 b f
        N89.8 b f
        N91.2 b f
        N92.0 b f
        N94.6 b f
        N95.1 b f
        O02.1 b f O
        O03.9 b f O
        O09 h f O
        O09.9 h f O
        O09.90 b f O
        O13.9 b f O
        O14.90 b f O
        O20.0 b f O
        O21.0 b f O
        O21.9 b f O
        O24 h f O
        O24.4 h f O
        O24.41 h f O
        O24.410 b f O
        O24.419 b f O
        O47.9 b f O
        O48.0 b f O
        O60.00 b f O
        O72.1 b f O
        O80 b f O
        P05.9 b N
        P07.3 h N
        P07.30 b N
        P07.31 b N
        P07.32 b N
        P07.35 b N
        P07.38 b N
        P22.1 b N
        P59 h N
        P59.9 b N
        R00.0 b
        R01.1 b
        R03.0 b
        R04.0 b
        R05 h >2021-10-01
        R05.1 b >2021-10-01
        R05.9 b >2021-10-01
        R06.00 b
        R06.02 b
        R07.89 b
        R07.9 b
        R09.81 b
        R10 h
        R10.1 h
        R10.13 b
        R10.31 b
        R10.84 b
        R10.9 b
        R11.0 b
        R11.10 b
        R11.2 b
        R19.7 b
        R20.2 b
        R21 b
        R25.1 b
        R30.0 b
        R31.9 b
        R35.0 b
        R39.15 b
        R41.82 b
        R42 b
        R45.851 b
        R50.9 b
        R51 h >2020-10-01
        R51.9 b >2020-10-01
        R53.81 b
        R53.83 b
        R55 b
        R56.9 b
        R59.0 b
        R60.0 b
        R63.4 b
        R63.5 b
        R73.03 b
        R73.09 b
        R73.9 b
        R79.89 b
        R80.9 b
        R94.31 b
        S00.83XA b
        S01.81XA b
        S06.0X0A b
        S13.4XXA b
        S39.012A b
        S52.501A b
        S61.411A b
        S93.401A b
        T78.40XA b
        U07.1 b >2020-04-01
        W19.XXXA b
        Z00 h
        Z00.0 h
        Z00.00 b A
        Z00.01 b A
        Z00.1 h P
        Z00.11 h N
        Z00.110 b N
        Z00.111 b N
        Z00.12 h P
        Z00.121 b P
        Z00.129 b P
        Z01.00 b
        Z01.10 b
        Z01.41 h f
        Z01.411 b f
        Z01.419 b f
        Z01.812 b
        Z01.818 b
        Z02.89 b
        Z09 b
        Z11.1 b
        Z11.3 b
        Z11.4 b
        Z11.59 b
        Z12.11 b
        Z12.31 b
        Z12.4 b f
        Z12.5 b m
        Z13.1 b
        Z13.220 b
        Z13.31 b
        Z13.6 b
        Z20.822 b >2021-01-01
        Z23 b
        Z33.1 b f O
        Z34 h f O
        Z34.0 h f O
        Z34.00 b f O
        Z34.01 b f O
        Z34.02 b f O
        Z34.03 b f O
        Z34.80 b f O
        Z34.90 b f O
        Z38 h N
        Z38.0 h N
        Z38.00 b N
        Z38.01 b N
        Z39.2 b f O
        Z48.02 b
        Z51.81 b
        Z71.3 b
        Z71.89 b
        Z72.0 b
        Z76.0 b
        Z79.01 b
        Z79.4 b
        Z79.899 b
        Z86.73 b
        Z87.891 b
        Z88.0 b
        Z90.49 b
        Z95.1 b
        Z96.651 b
        Z98.890 b
        """

    /// Codes whose status changed in a fiscal-year update: billable until the date, a header after.
    static let splitCodes: [(code: String, lastBillable: String)] = [
        ("K21.0", "2020-09-30"), ("N18.3", "2020-09-30"), ("R51", "2020-09-30"), ("M54.5", "2021-09-30"),
        ("R05", "2021-09-30"), ("M79.1", "2022-09-30"),
    ]

    /// Every diagnosis version in the table.
    public static let diagnoses: [DiagnosisInfo] = {
        var result: [DiagnosisInfo] = []
        for line in table.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2 else { continue }
            var info = DiagnosisInfo(code: String(parts[0]), billable: parts[1] == "b")
            for flag in parts.dropFirst(2) {
                switch flag {
                case "f": info.sexEdit = .female
                case "m": info.sexEdit = .male
                case "N": info.ageRange = newborn
                case "P": info.ageRange = pediatric
                case "O": info.ageRange = maternity
                case "A": info.ageRange = adult
                default:
                    if flag.hasPrefix(">") { info.effectiveFrom = CalendarDate(String(flag.dropFirst())) }
                    if flag.hasPrefix("<") { info.effectiveThrough = CalendarDate(String(flag.dropFirst())) }
                }
            }
            result.append(info)
        }
        for (code, last) in splitCodes {
            let through = CalendarDate(last)!
            result.append(DiagnosisInfo(code: code, billable: true, effectiveThrough: through))
            if let header = result.firstIndex(where: { $0.code == code && $0.billable == false }) {
                result[header].effectiveFrom = through.adding(days: 1)
            } else {
                result.append(DiagnosisInfo(code: code, billable: false, effectiveFrom: through.adding(days: 1)))
            }
        }
        return result
    }()

    /// Billable diagnosis codes in effect on `date` with no sex or age edit: safe on any patient.
    public static func plainBillableCodes(on date: CalendarDate) -> [String] {
        diagnoses.filter { $0.billable && $0.sexEdit == nil && $0.ageRange == nil && $0.isEffective(on: date) }
            .map(\.code).sorted()
    }

    /// The CPT and HCPCS codes the benchmark and tests bill.
    public static let procedures: [String: Set<String>] = [
        "cpt": [
            "99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215", "99381", "99382",
            "99383", "99384", "99385", "99386", "99387", "99391", "99392", "99393", "99394", "99395", "99396",
            "99397", "36415", "36416", "81002", "81003", "85025", "85027", "80053", "80061", "82465", "82947",
            "83036", "84443", "87635", "87804", "87880", "93000", "93005", "93010", "94010", "94640", "94664",
            "94760", "96372", "90471", "90472", "90686", "90715", "90732", "20550", "20552", "20604", "20610",
            "11042", "97597", "11102", "11103", "17000", "17003", "17110", "12001", "12002", "69209", "69210",
            "97110", "97140", "97161", "97530", "45378", "45380", "0001A",
        ],
        "hcpcs": ["G0438", "G0439", "G0008", "G0009", "Q0091", "J1885", "J3301", "J1100", "J7030", "A4550"],
    ]
}
