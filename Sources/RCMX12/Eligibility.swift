import Foundation
import RCMCore

/// Eligibility inquiries and responses (270/271, implementation guide 005010X279A1).
public enum X12Eligibility {
    public static let version = "005010X279A1"

    /// Writes a 270 asking about `inquiry` in one interchange. Throws ``X12WriterError`` when a value
    /// cannot be written (contains a separator, is too long for the ISA, ...).
    public static func make270(_ inquiry: EligibilityInquiry, envelope: X12EnvelopeSettings) throws -> String {
        var writer = try begin("HS", "270", envelope)
        let stamp = X12Stamp(envelope.date)
        try writer.segment("BHT", "0022", "13", inquiry.traceNumber, stamp.date, stamp.time)
        try writer.segment("HL", "1", "", "20", "1")
        try name(&writer, "PR", inquiry.payer)
        try writer.segment("HL", "2", "1", "21", "1")
        try name(&writer, "1P", inquiry.provider)
        try writer.segment("HL", "3", "2", "22", inquiry.dependent == nil ? "0" : "1")
        if inquiry.dependent == nil { try writer.segment("TRN", "1", inquiry.traceNumber, traceEntity(inquiry)) }
        try person(&writer, "IL", inquiry.subscriber, withId: true)
        if let dependent = inquiry.dependent {
            try writer.segment("HL", "4", "3", "23", "0")
            try writer.segment("TRN", "1", inquiry.traceNumber, traceEntity(inquiry))
            try person(&writer, "03", dependent, withId: false)
        }
        try writer.segment("DTP", "291", "D8", d8(inquiry.dateOfService))
        let codes = inquiry.serviceTypeCodes.isEmpty ? ["30"] : inquiry.serviceTypeCodes
        // One EQ with EQ01 repeated (5010 allows 99 repetitions) rather than one 2110 loop per code.
        try writer.segment("EQ", [X12Element(repeating: Array(codes.prefix(99)))])
        return try end(&writer)
    }

    /// Writes a 271 answering `inquiry` with `response` (the payer simulator's side).
    public static func make271(
        _ response: EligibilityResponse, inquiry: EligibilityInquiry, envelope: X12EnvelopeSettings
    ) throws -> String {
        var writer = try begin("HB", "271", envelope)
        let stamp = X12Stamp(envelope.date)
        func rejections(_ loops: Set<String>) throws {
            for rejection in response.rejections where loops.contains(rejection.loop) {
                let valid = ["42", "79", "80"].contains(rejection.code) ? "Y" : "N"
                try writer.segment("AAA", valid, "", rejection.code, rejection.followUpCode ?? "C")
            }
        }
        let knownLoops: Set<String> = ["2100A", "2100B", "2100C", "2110C", "2100D", "2110D"]
        let patientLoops: Set<String> =
            inquiry.dependent == nil
            ? Set(["2100C"]).union(response.rejections.map(\.loop).filter { !knownLoops.contains($0) }) : ["2100C"]
        try writer.segment("BHT", "0022", "11", inquiry.traceNumber, stamp.date, stamp.time)
        try writer.segment("HL", "1", "", "20", "1")
        try name(&writer, "PR", response.payer ?? inquiry.payer)
        try rejections(["2100A"])
        try writer.segment("HL", "2", "1", "21", "1")
        try name(&writer, "1P", inquiry.provider)
        try rejections(["2100B"])
        try writer.segment("HL", "3", "2", "22", inquiry.dependent == nil ? "0" : "1")
        let traces = response.traceNumbers.isEmpty ? [inquiry.traceNumber] : response.traceNumbers
        if inquiry.dependent == nil {
            for trace in traces { try writer.segment("TRN", "2", trace, traceEntity(inquiry)) }
        }
        var subscriber = response.subscriber ?? inquiry.subscriber
        if subscriber.memberId == nil { subscriber.memberId = response.memberId }
        try personName(&writer, "IL", subscriber, withId: true, group: response.groupNumber)
        try rejections(patientLoops)
        try personDetails(&writer, "IL", subscriber)
        if let dependent = inquiry.dependent {
            try benefits(&writer, [], response: response, loop: "2110C")
            try writer.segment("HL", "4", "3", "23", "0")
            for trace in traces { try writer.segment("TRN", "2", trace, traceEntity(inquiry)) }
            let dependentLoops = Set(["2100D"]).union(
                response.rejections.map(\.loop).filter { !knownLoops.contains($0) })
            try personName(&writer, "03", response.dependent ?? dependent, withId: false)
            try rejections(dependentLoops)
            try personDetails(&writer, "03", response.dependent ?? dependent)
            try benefits(&writer, response.benefits, response: response, loop: "2110D")
        } else {
            try benefits(&writer, response.benefits, response: response, loop: "2110C")
        }
        return try end(&writer)
    }

    /// Reads a 271. Throws ``X12Error`` (with every issue) when the text is not a readable 005010X279A1
    /// 271; a count or control number that does not match is kept in ``EligibilityResponse/envelopeIssues``
    /// instead.
    public static func parse271(_ text: String) throws -> EligibilityResponse {
        let document = X12Document.parse(text)
        let tolerated: Set<String> = [
            X12IssueCode.countMismatch, X12IssueCode.controlNumberMismatch, X12IssueCode.transactionMismatch,
        ]
        let blocking = document.errors.filter { !tolerated.contains($0.code) }
        if !blocking.isEmpty { throw X12Error("not a readable X12 271", issues: blocking) }
        guard let transaction = document.transactions.first(where: { $0.id == "271" }) else {
            throw X12Error(
                "no 271 transaction set found (found: \(document.transactions.map(\.id).joined(separator: ", ")))",
                issues: document.issues)
        }
        guard transaction.version.hasPrefix("005010X279") else {
            throw X12Error("the 271 is version \(transaction.version), not \(version)", issues: document.issues)
        }
        return read271(transaction, issues: document.issues)
    }

    // MARK: - Reading

    static func read271(_ transaction: X12TransactionSet, issues: [X12Issue]) -> EligibilityResponse {
        let root = transaction.root
        var response = EligibilityResponse(
            status: .unknown,
            interchangeControlNumber: transaction.interchangeControlNumber.isEmpty
                ? nil : transaction.interchangeControlNumber,
            transactionControlNumber: transaction.controlNumber, envelopeIssues: issues)
        if let nm1 = root.loops(withId: "2100A").first?.segment("NM1") {
            response.payer = X12Party(name: nm1[3], identifierQualifier: nm1[8], identifier: nm1[9])
        }
        if let subscriber = root.loops(withId: "2100C").first {
            response.subscriber = person(subscriber)
            response.memberId = response.subscriber?.memberId
        }
        if let dependent = root.loops(withId: "2100D").first { response.dependent = person(dependent) }
        root.visit { loop in
            for segment in loop.segments {
                switch segment.id {
                case "AAA":
                    response.rejections.append(
                        EligibilityRejection(code: segment[3], followUpCode: segment.value(4), loop: loop.id))
                case "MSG":
                    response.messages.append(segment[1])
                case "TRN" where loop.id == "2000C" || loop.id == "2000D":
                    response.traceNumbers.append(segment[2])
                case "REF" where segment[1] == "6P" && response.groupNumber == nil:
                    response.groupNumber = segment.value(2)
                case "REF" where segment[1] == "18" && response.planName == nil:
                    response.planName = segment.value(3)
                default:
                    break
                }
            }
            if loop.id == "2110C" || loop.id == "2110D", let eb = loop.segment("EB") {
                response.benefits.append(benefit(eb, messages: loop.segments.filter { $0.id == "MSG" }.map { $0[1] }))
            }
        }
        let codes = Set(response.benefits.map(\.code))
        if !codes.isDisjoint(with: EligibilityCodes.activeCodes) {
            response.status = .active
        } else if !codes.isDisjoint(with: EligibilityCodes.inactiveCodes) {
            response.status = .inactive
        }
        if response.planName == nil {
            response.planName =
                response.benefits.first { EligibilityCodes.activeCodes.contains($0.code) && $0.planDescription != nil }?
                .planDescription
        }
        return response
    }

    static func person(_ loop: X12Loop) -> X12Person? {
        guard let nm1 = loop.segment("NM1") else { return nil }
        var person = X12Person(lastName: nm1[3], firstName: nm1[4], memberId: nm1.value(9))
        if let dmg = loop.segment("DMG"), dmg[1] == "D8" {
            person.dateOfBirth = calendarDate(dmg[2])
            person.gender = dmg.value(3)
        }
        person.relationship = loop.segment("INS")?.value(2)
        return person
    }

    static func benefit(_ eb: X12Segment, messages: [String]) -> EligibilityBenefit {
        EligibilityBenefit(
            code: eb[1], coverageLevel: eb.value(2), serviceTypeCodes: eb.repetitions(3), insuranceType: eb.value(4),
            planDescription: eb.value(5), timePeriod: eb.value(6), amount: decimal(eb[7]), percent: decimal(eb[8]),
            quantityQualifier: eb.value(9), quantity: decimal(eb[10]), authorizationRequired: eb.value(11),
            inNetwork: eb[12] == "Y" ? true : eb[12] == "N" ? false : nil, messages: messages)
    }

    static func decimal(_ text: String) -> Decimal? {
        text.isEmpty ? nil : Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// "CCYYMMDD" to a date; nil when not a date.
    static func calendarDate(_ d8: String) -> CalendarDate? {
        let digits = Array(d8.utf8)
        guard digits.count == 8, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return CalendarDate(
            String(decoding: digits[0..<4], as: UTF8.self) + "-" + String(decoding: digits[4..<6], as: UTF8.self)
                + "-" + String(decoding: digits[6..<8], as: UTF8.self))
    }

    // MARK: - Writing

    static func begin(
        _ functionalIdentifier: String, _ id: String, _ envelope: X12EnvelopeSettings
    ) throws
        -> X12Writer
    {
        let stamp = X12Stamp(envelope.date)
        var writer = try X12Writer()
        try writer.beginInterchange(
            X12InterchangeHeader(
                senderQualifier: envelope.senderQualifier, senderId: envelope.senderId,
                receiverQualifier: envelope.receiverQualifier, receiverId: envelope.receiverId,
                date: String(stamp.date.dropFirst(2)), time: stamp.time,
                controlNumber: envelope.interchangeControlNumber,
                usageIndicator: envelope.usageIndicator))
        try writer.beginGroup(
            functionalIdentifier: functionalIdentifier, applicationSender: envelope.applicationSenderCode,
            applicationReceiver: envelope.applicationReceiverCode, date: stamp.date, time: stamp.time,
            controlNumber: envelope.groupControlNumber, version: version)
        try writer.beginTransaction(id, controlNumber: "0001", implementationReference: version)
        return writer
    }

    static func end(_ writer: inout X12Writer) throws -> String {
        try writer.endTransaction()
        try writer.endGroup()
        try writer.endInterchange()
        return writer.text
    }

    /// NM1 of an organisation (entity type 2).
    static func name(_ writer: inout X12Writer, _ entity: String, _ party: X12Party) throws {
        try writer.segment("NM1", entity, "2", party.name, "", "", "", "", party.identifierQualifier, party.identifier)
    }

    /// NM1 (with MI member id) and REF*6P of a person.
    static func personName(
        _ writer: inout X12Writer, _ entity: String, _ person: X12Person, withId: Bool, group: String? = nil
    ) throws {
        let id = withId ? person.memberId : nil
        try writer.segment(
            "NM1", entity, "1", person.lastName, person.firstName, "", "", "", id == nil ? "" : "MI", id ?? "")
        if let group { try writer.segment("REF", "6P", group) }
    }

    /// DMG and (for a dependent) INS of a person.
    static func personDetails(_ writer: inout X12Writer, _ entity: String, _ person: X12Person) throws {
        if let birth = person.dateOfBirth {
            try writer.segment("DMG", "D8", d8(birth), person.gender ?? "")
        }
        if entity == "03", let relationship = person.relationship {
            try writer.segment("INS", "N", relationship)
        }
    }

    /// A person's NM1, REF, DMG and INS.
    static func person(_ writer: inout X12Writer, _ entity: String, _ person: X12Person, withId: Bool) throws {
        try personName(&writer, entity, person, withId: withId)
        try personDetails(&writer, entity, person)
    }

    /// EB loops (with their AAA and MSG) of a 271.
    static func benefits(
        _ writer: inout X12Writer, _ benefits: [EligibilityBenefit], response: EligibilityResponse, loop: String
    ) throws {
        var list = benefits
        if list.isEmpty && loop == (response.dependent == nil ? "2110C" : "2110D") {
            switch response.status {
            case .active:
                list = [EligibilityBenefit(code: "1", serviceTypeCodes: ["30"], planDescription: response.planName)]
            case .inactive: list = [EligibilityBenefit(code: "6", serviceTypeCodes: ["30"])]
            case .unknown: break
            }
        }
        for (index, benefit) in list.enumerated() {
            try writer.segment(
                "EB",
                [
                    X12Element(benefit.code), X12Element(benefit.coverageLevel ?? ""),
                    X12Element(repeating: benefit.serviceTypeCodes), X12Element(benefit.insuranceType ?? ""),
                    X12Element(benefit.planDescription ?? ""), X12Element(benefit.timePeriod ?? ""),
                    X12Element(benefit.amount.map(text) ?? ""), X12Element(benefit.percent.map(text) ?? ""),
                    X12Element(benefit.quantityQualifier ?? ""), X12Element(benefit.quantity.map(text) ?? ""),
                    X12Element(benefit.authorizationRequired ?? ""),
                    X12Element(benefit.inNetwork.map { $0 ? "Y" : "N" } ?? ""),
                ])
            if index == 0 {
                for rejection in response.rejections where rejection.loop == loop {
                    try writer.segment("AAA", "N", "", rejection.code, rejection.followUpCode ?? "C")
                }
            }
            for message in benefit.messages { try writer.segment("MSG", message) }
        }
    }

    static func text(_ value: Decimal) -> String {
        var value = value
        return NSDecimalString(&value, Locale(identifier: "en_US_POSIX"))
    }

    static func d8(_ date: CalendarDate) -> String {
        String(format: "%04d%02d%02d", date.year, date.month, date.day)
    }

    /// TRN03: "9" + the last nine digits of the provider identifier, unless given.
    static func traceEntity(_ inquiry: EligibilityInquiry) -> String {
        if let given = inquiry.traceAssigningEntity { return given }
        let digits = inquiry.provider.identifier.filter(\.isNumber)
        let nine = String(digits.suffix(9))
        return "9" + String(repeating: "0", count: 9 - nine.count) + nine
    }
}

/// Date and time of an envelope in X12 formats (UTC).
struct X12Stamp {
    /// CCYYMMDD.
    var date: String
    /// HHMM.
    var time: String

    init(_ moment: Date) {
        var seconds = time_t(moment.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        date = String(format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        time = String(format: "%02d%02d", Int(parts.tm_hour), Int(parts.tm_min))
    }
}
