/// Loop tables of the 5010 implementation guides this module knows. Each line: loop id, trigger
/// segment, the qualifier element and its values, the loops it may be nested in ("" = the
/// transaction set).
enum X12LoopTables {
    typealias L = X12LoopDefinition

    static let all: [X12LoopTable] = [
        eligibility("270", benefit: "EQ"), eligibility("271", benefit: "EB"), claimStatus("276"),
        claimStatus("277"), remittance835, professional837, institutional837, enrollment834, acknowledgment999,
    ]

    /// Payer, provider and person names of the 270/271 (005010X279A1).
    static let sourceQualifiers = ["2B", "36", "GP", "P5", "PR"]
    static let receiverQualifiers = ["1P", "2B", "36", "80", "FA", "GP", "P5", "PR"]
    static let benefitEntityQualifiers = [
        "13", "1I", "1P", "2B", "36", "73", "FA", "GP", "GW", "I3", "IL", "LR", "OC", "P3", "P4", "P5", "PR", "PRP",
        "SEP", "TTP", "VER", "VN", "VY", "X3", "Y2",
    ]

    static func eligibility(_ id: String, benefit: String) -> X12LoopTable {
        var loops: [L] = [
            L("2000A", "HL", at: 3, ["20"], in: [""]),
            L("2100A", "NM1", at: 1, sourceQualifiers, in: ["2000A"]),
            L("2000B", "HL", at: 3, ["21"], in: ["2000A"]),
            L("2100B", "NM1", at: 1, receiverQualifiers, in: ["2000B"]),
            L("2000C", "HL", at: 3, ["22"], in: ["2000B"]),
            L("2100C", "NM1", at: 1, ["IL"], in: ["2000C"]),
            L("2110C", benefit, in: ["2100C"]),
            L("2000D", "HL", at: 3, ["23"], in: ["2000C"]),
            L("2100D", "NM1", at: 1, ["03"], in: ["2000D"]),
            L("2110D", benefit, in: ["2100D"]),
        ]
        if id == "271" {
            loops += [
                L("2115C", "III", in: ["2110C"]),
                L("2120C", "NM1", at: 1, benefitEntityQualifiers, in: ["2110C"]),
                L("2115D", "III", in: ["2110D"]),
                L("2120D", "NM1", at: 1, benefitEntityQualifiers, in: ["2110D"]),
            ]
        }
        return X12LoopTable(id, "005010X279", closers: ["LE": ["2120C", "2120D", "2115C", "2115D"]], loops)
    }

    /// 276/277 claim status (005010X212).
    static func claimStatus(_ id: String) -> X12LoopTable {
        let service = id == "276" ? "2210" : "2220"
        return X12LoopTable(
            id, "005010X212",
            [
                L("2000A", "HL", at: 3, ["20"], in: [""]),
                L("2100A", "NM1", at: 1, ["PR", "AY"], in: ["2000A"]),
                L("2000B", "HL", at: 3, ["21"], in: ["2000A"]),
                L("2100B", "NM1", at: 1, ["41"], in: ["2000B"]),
                L("2200B", "TRN", in: ["2000B"]),
                L("2000C", "HL", at: 3, ["19"], in: ["2000B"]),
                L("2100C", "NM1", at: 1, ["1P"], in: ["2000C"]),
                L("2200C", "TRN", in: ["2000C"]),
                L("2000D", "HL", at: 3, ["22"], in: ["2000C"]),
                L("2100D", "NM1", at: 1, ["IL", "QC"], in: ["2000D"]),
                L("2200D", "TRN", in: ["2000D"]),
                L(service + "D", "SVC", in: ["2200D"]),
                L("2000E", "HL", at: 3, ["23"], in: ["2000D"]),
                L("2100E", "NM1", at: 1, ["QC"], in: ["2000E"]),
                L("2200E", "TRN", in: ["2000E"]),
                L(service + "E", "SVC", in: ["2200E"]),
            ])
    }

    /// 835 remittance advice (005010X221A1).
    static let remittance835 = X12LoopTable(
        "835", "005010X221", rootSegments: ["PLB"],
        [
            L("1000A", "N1", at: 1, ["PR"], in: [""]),
            L("1000B", "N1", at: 1, ["PE"], in: [""]),
            L("2000", "LX", in: [""]),
            L("2100", "CLP", in: ["2000", ""]),
            L("2110", "SVC", in: ["2100"]),
        ])

    static let claimParents = ["2000B", "2000C"]

    /// 837 professional (005010X222A2).
    static let professional837 = X12LoopTable(
        "837", "005010X222",
        claimHeader + [
            L("2310A", "NM1", at: 1, ["DN", "P3"], in: ["2300"]),
            L("2310B", "NM1", at: 1, ["82"], in: ["2300"]),
            L("2310C", "NM1", at: 1, ["77"], in: ["2300"]),
            L("2310D", "NM1", at: 1, ["DQ"], in: ["2300"]),
            L("2310E", "NM1", at: 1, ["PW"], in: ["2300"]),
            L("2310F", "NM1", at: 1, ["45"], in: ["2300"]),
            L("2320", "SBR", in: ["2300"]),
            L("2330A", "NM1", at: 1, ["IL"], in: ["2320"]),
            L("2330B", "NM1", at: 1, ["PR"], in: ["2320"]),
            L("2330C", "NM1", at: 1, ["DN", "P3"], in: ["2320"]),
            L("2330D", "NM1", at: 1, ["82"], in: ["2320"]),
            L("2330E", "NM1", at: 1, ["77"], in: ["2320"]),
            L("2330F", "NM1", at: 1, ["DQ"], in: ["2320"]),
            L("2330G", "NM1", at: 1, ["85"], in: ["2320"]),
            L("2400", "LX", in: ["2300"]),
            L("2410", "LIN", in: ["2400"]),
            L("2420A", "NM1", at: 1, ["82"], in: ["2400"]),
            L("2420B", "NM1", at: 1, ["QB"], in: ["2400"]),
            L("2420C", "NM1", at: 1, ["77"], in: ["2400"]),
            L("2420D", "NM1", at: 1, ["DQ"], in: ["2400"]),
            L("2420E", "NM1", at: 1, ["DK"], in: ["2400"]),
            L("2420F", "NM1", at: 1, ["DN", "P3"], in: ["2400"]),
            L("2420G", "NM1", at: 1, ["PW"], in: ["2400"]),
            L("2420H", "NM1", at: 1, ["45"], in: ["2400"]),
            L("2430", "SVD", in: ["2400"]),
            L("2440", "LQ", in: ["2400"]),
        ])

    /// 837 institutional (005010X223A3).
    static let institutional837 = X12LoopTable(
        "837", "005010X223",
        claimHeader + [
            L("2310A", "NM1", at: 1, ["71"], in: ["2300"]),
            L("2310B", "NM1", at: 1, ["72"], in: ["2300"]),
            L("2310C", "NM1", at: 1, ["ZZ"], in: ["2300"]),
            L("2310D", "NM1", at: 1, ["82"], in: ["2300"]),
            L("2310E", "NM1", at: 1, ["77"], in: ["2300"]),
            L("2310F", "NM1", at: 1, ["DN"], in: ["2300"]),
            L("2320", "SBR", in: ["2300"]),
            L("2330A", "NM1", at: 1, ["IL"], in: ["2320"]),
            L("2330B", "NM1", at: 1, ["PR"], in: ["2320"]),
            L("2330C", "NM1", at: 1, ["71"], in: ["2320"]),
            L("2330D", "NM1", at: 1, ["72"], in: ["2320"]),
            L("2330E", "NM1", at: 1, ["ZZ"], in: ["2320"]),
            L("2330F", "NM1", at: 1, ["77"], in: ["2320"]),
            L("2330G", "NM1", at: 1, ["82"], in: ["2320"]),
            L("2330H", "NM1", at: 1, ["DN"], in: ["2320"]),
            L("2330I", "NM1", at: 1, ["85"], in: ["2320"]),
            L("2400", "LX", in: ["2300"]),
            L("2410", "LIN", in: ["2400"]),
            L("2420A", "NM1", at: 1, ["72"], in: ["2400"]),
            L("2420B", "NM1", at: 1, ["ZZ"], in: ["2400"]),
            L("2420C", "NM1", at: 1, ["82"], in: ["2400"]),
            L("2420D", "NM1", at: 1, ["DN"], in: ["2400"]),
            L("2430", "SVD", in: ["2400"]),
        ])

    /// Loops 1000A–2300 shared by the 837P and 837I.
    static let claimHeader: [L] = [
        L("1000A", "NM1", at: 1, ["41"], in: [""]),
        L("1000B", "NM1", at: 1, ["40"], in: [""]),
        L("2000A", "HL", at: 3, ["20"], in: [""]),
        L("2010AA", "NM1", at: 1, ["85"], in: ["2000A"]),
        L("2010AB", "NM1", at: 1, ["87"], in: ["2000A"]),
        L("2010AC", "NM1", at: 1, ["PE"], in: ["2000A"]),
        L("2000B", "HL", at: 3, ["22"], in: ["2000A"]),
        L("2010BA", "NM1", at: 1, ["IL"], in: ["2000B"]),
        L("2010BB", "NM1", at: 1, ["PR"], in: ["2000B"]),
        L("2000C", "HL", at: 3, ["23"], in: ["2000B"]),
        L("2010CA", "NM1", at: 1, ["QC"], in: ["2000C"]),
        L("2300", "CLM", in: claimParents),
    ]

    /// 834 benefit enrollment (005010X220A1).
    static let enrollment834 = X12LoopTable(
        "834", "005010X220", closers: ["LE": ["2700", "2710", "2750"]],
        [
            L("1000A", "N1", at: 1, ["P5"], in: [""]),
            L("1000B", "N1", at: 1, ["IN"], in: [""]),
            L("1000C", "N1", at: 1, ["BO", "TV"], in: [""]),
            L("1100C", "ACT", in: ["1000C"]),
            L("2000", "INS", in: [""]),
            L("2100A", "NM1", at: 1, ["IL", "74"], in: ["2000"]),
            L("2100B", "NM1", at: 1, ["70"], in: ["2000"]),
            L("2100C", "NM1", at: 1, ["31"], in: ["2000"]),
            L("2100D", "NM1", at: 1, ["36"], in: ["2000"]),
            L("2100E", "NM1", at: 1, ["M8", "S3"], in: ["2000"]),
            L("2100F", "NM1", at: 1, ["S1"], in: ["2000"]),
            L(
                "2100G", "NM1", at: 1,
                ["6Y", "9K", "E1", "EI", "EXS", "GB", "GD", "J6", "LR", "QD", "TZ", "X4"], in: ["2000"]),
            L("2100H", "NM1", at: 1, ["45"], in: ["2000"]),
            L("2200", "DSB", in: ["2000"]),
            L("2300", "HD", in: ["2000"]),
            L("2310", "LX", in: ["2300"]),
            L("2320", "COB", in: ["2300"]),
            L("2330", "NM1", at: 1, ["36", "GW", "IN"], in: ["2320"]),
            L("2700", "LS", in: ["2000"]),
            L("2710", "LX", in: ["2700"]),
            L("2750", "N1", at: 1, ["75"], in: ["2710"]),
        ])

    /// 999 implementation acknowledgment (005010X231A1).
    static let acknowledgment999 = X12LoopTable(
        "999", "005010X231", rootSegments: ["AK9"],
        [
            L("2000", "AK2", in: [""]),
            L("2100", "IK3", in: ["2000"]),
            L("2110", "IK4", in: ["2100"]),
        ])
}
