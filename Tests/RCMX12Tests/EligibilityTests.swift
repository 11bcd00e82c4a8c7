import Foundation
import RCMCore
import Testing

@testable import RCMX12

@Suite("Eligibility 270/271 (005010X279A1)")
struct EligibilityTests {
    static let envelope = X12EnvelopeSettings(
        senderId: "CLINIC01", receiverId: "PAYER01", applicationSenderCode: "CLINIC01",
        applicationReceiverCode: "PAYER01", interchangeControlNumber: 1234, groupControlNumber: 56,
        date: Date(timeIntervalSince1970: 1_717_243_200))  // 2024-06-01 12:00 UTC

    static let payer = X12Party(name: "ACME HEALTH PLAN", identifierQualifier: "PI", identifier: "842610001")
    static let provider = X12Party(name: "RIVERSIDE CLINIC", identifierQualifier: "XX", identifier: "1234567893")

    static func inquiry(dependent: Bool) -> EligibilityInquiry {
        EligibilityInquiry(
            payer: payer, provider: provider,
            subscriber: X12Person(
                lastName: "SMITH", firstName: "JOHN", memberId: "W123456789", dateOfBirth: CalendarDate("1963-05-19"),
                gender: "M"),
            dependent: dependent
                ? X12Person(
                    lastName: "SMITH", firstName: "MARY", dateOfBirth: CalendarDate("1998-10-14"), gender: "F",
                    relationship: "19") : nil,
            serviceTypeCodes: ["30", "98"], dateOfService: CalendarDate("2024-06-01")!, traceNumber: "TRACE-0001")
    }

    @Test("subscriber-health-benefit-check.271: active, GOLD 123 PLAN, five EB benefits")
    func subscriberFixture() throws {
        let response = try X12Eligibility.parse271(
            try Fixtures.text("271_005010X279A1/subscriber-health-benefit-check.271"))
        #expect(response.status == .active)
        #expect(response.planName == "GOLD 123 PLAN")
        #expect(response.memberId == "123456789")
        #expect(
            response.subscriber
                == X12Person(
                    lastName: "SMITH", firstName: "JOHN", memberId: "123456789",
                    dateOfBirth: CalendarDate("1963-05-19"),
                    gender: "M"))
        #expect(response.payer == X12Party(name: "ABC COMPANY", identifierQualifier: "PI", identifier: "841610001"))
        #expect(response.traceNumbers == ["93175-012547"])
        #expect(response.interchangeControlNumber == "000000907")
        #expect(response.transactionControlNumber == "4321")
        #expect(response.rejections.isEmpty && response.messages.isEmpty && response.envelopeIssues.isEmpty)
        #expect(response.benefits.map(\.code) == ["1", "L", "1", "B", "B"])
        let first = try #require(response.benefits.first)
        #expect(first.meaning == "Active coverage" && first.serviceTypeCodes == ["30"])
        #expect(first.planDescription == "GOLD 123 PLAN")
        let services = ["1", "33", "35", "47", "86", "88", "98", "AL", "MH", "UC"]
        let copays = response.benefits.filter { $0.code == "B" }
        #expect(copays.map(\.amount) == [Decimal(string: "10.00"), Decimal(string: "30.00")])
        #expect(copays.map(\.inNetwork) == [true, false])
        #expect(copays.allSatisfy { $0.serviceTypeCodes == services && $0.timePeriod == "27" })
        #expect(copays.allSatisfy { $0.insuranceType == "HM" && $0.meaning == "Co-payment" })
        #expect(response.benefits[1].meaning == "Primary care provider")
    }

    @Test("dependent-health-benefit-check.271: the dependent's benefits (2110D) and the subscriber")
    func dependentFixture() throws {
        let response = try X12Eligibility.parse271(
            try Fixtures.text("271_005010X279A1/dependent-health-benefit-check.271"))
        #expect(response.status == .active)
        #expect(response.subscriber?.lastName == "SMITH" && response.subscriber?.firstName == "JOHN")
        #expect(response.memberId == "123456789")
        #expect(
            response.dependent
                == X12Person(
                    lastName: "SMITH", firstName: "MARY", dateOfBirth: CalendarDate("1998-10-14"), gender: "F",
                    relationship: "19"))
        #expect(response.traceNumbers == ["93175-012547"])
        #expect(response.benefits.map(\.code) == ["1", "L", "1", "B", "B"])
        #expect(response.benefits.last?.amount == Decimal(string: "30.00"))
        #expect(response.planName == "GOLD 123 PLAN")
    }

    @Test("subscriber-health-benefit-check-error.271: provider rejected (AAA 50, N), status unknown")
    func errorFixture() throws {
        let response = try X12Eligibility.parse271(
            try Fixtures.text("271_005010X279A1/subscriber-health-benefit-check-error.271"))
        #expect(response.status == .unknown)
        #expect(response.benefits.isEmpty)
        #expect(
            response.rejections == [
                EligibilityRejection(
                    code: "50",
                    explanation:
                        "This provider is not allowed to send eligibility inquiries to the payer (enrolment needed).",
                    followUpCode: "N", followUp: "Do not send this inquiry again; it will not be accepted.",
                    loop: "2100B")
            ])
        #expect(response.payer?.identifier == "842610001")
        // The file's SE02 (4323) does not match its ST02 (4321): kept as an envelope issue.
        #expect(response.envelopeIssues.map(\.code) == [X12IssueCode.controlNumberMismatch])
    }

    @Test("every AAA03 code of the 271 and every AAA04 code has a plain-language explanation")
    func codeLists() {
        for code in [
            "04", "15", "33", "41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52", "53", "54", "55",
            "56",
            "57", "58", "60", "61", "62", "63", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75",
            "76", "77", "78", "79", "80", "97", "98", "AA", "AE", "AF", "AG", "AO", "CI", "E8", "IA", "MA", "T4",
        ] {
            #expect(EligibilityCodes.rejectionExplanations[code] != nil, "AAA03 \(code)")
        }
        for code in ["C", "N", "P", "R", "S", "W", "X", "Y"] {
            #expect(EligibilityCodes.followUpExplanations[code] != nil, "AAA04 \(code)")
        }
        #expect(EligibilityCodes.rejectionExplanation("42") == "The payer's system is unavailable; retry later.")
    }

    @Test("a 271 that is not one, or not 5010, throws with the issues")
    func rejectsOtherInput() throws {
        #expect(throws: X12Error.self) { try X12Eligibility.parse271("not x12") }
        #expect(throws: X12Error.self) {
            try X12Eligibility.parse271(try Fixtures.text("270_005010X279A1/subscriber-health-benefit-check.270"))
        }
        let cut = String(try Fixtures.text("271_005010X279A1/subscriber-health-benefit-check.271").prefix(400))
        let error = #expect(throws: X12Error.self) { try X12Eligibility.parse271(cut) }
        #expect(error?.issues.contains { $0.code == X12IssueCode.truncated } == true)
    }

    @Test("make270 writes a conforming 270 (ours and linuxforhealth-x12 agree)", arguments: [false, true])
    func make270(dependent: Bool) throws {
        let text = try X12Eligibility.make270(Self.inquiry(dependent: dependent), envelope: Self.envelope)
        let document = X12Document.parse(text)
        #expect(document.issues.isEmpty, "\(document.issues)")
        let transaction = try #require(document.transactions.first)
        #expect(transaction.id == "270" && transaction.version == "005010X279A1")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].utf8.count == 106)
        #expect(lines[0].contains("*240601*1200*^*00501*000001234*0*T*:~"))
        #expect(lines.contains("GS*HS*CLINIC01*PAYER01*20240601*1200*56*X*005010X279A1~"))
        #expect(lines.contains("BHT*0022*13*TRACE-0001*20240601*1200~"))
        #expect(lines.contains("NM1*IL*1*SMITH*JOHN****MI*W123456789~"))
        #expect(lines.contains("TRN*1*TRACE-0001*9234567893~"))
        #expect(lines.contains("DTP*291*D8*20240601~") && lines.contains("EQ*30^98~"))
        var loops: [String] = []
        transaction.root.visit { loops.append($0.id) }
        #expect(loops.contains(dependent ? "2110D" : "2110C"))
        if dependent {
            #expect(lines.contains("NM1*03*1*SMITH*MARY~") && lines.contains("INS*N*19~"))
        }
        try OutsideValidator.expectValid(text, transactionSet: "270")
    }

    @Test("make271 and parse271 round-trip, and linuxforhealth-x12 accepts the 271", arguments: [false, true])
    func make271(dependent: Bool) throws {
        let inquiry = Self.inquiry(dependent: dependent)
        let response = EligibilityResponse(
            status: .active, planName: "GOLD 123 PLAN", groupNumber: "GRP-77", memberId: "W123456789",
            subscriber: inquiry.subscriber, dependent: inquiry.dependent, payer: Self.payer,
            benefits: [
                EligibilityBenefit(code: "1", serviceTypeCodes: ["30"], planDescription: "GOLD 123 PLAN"),
                EligibilityBenefit(
                    code: "B", coverageLevel: "IND", serviceTypeCodes: ["98", "UC"], timePeriod: "27", amount: 25,
                    inNetwork: true, messages: ["COPAY WAIVED FOR PREVENTIVE VISITS"]),
                EligibilityBenefit(
                    code: "A", serviceTypeCodes: ["30"], percent: Decimal(string: "0.2"), inNetwork: false),
                EligibilityBenefit(
                    code: "C", coverageLevel: "FAM", serviceTypeCodes: ["30"], timePeriod: "29",
                    amount: Decimal(string: "1250.50")),
            ],
            traceNumbers: ["TRACE-0001"])
        let text = try X12Eligibility.make271(response, inquiry: inquiry, envelope: Self.envelope)
        let parsed = try X12Eligibility.parse271(text)
        #expect(parsed.status == .active)
        #expect(parsed.benefits == response.benefits)
        #expect(parsed.groupNumber == "GRP-77" && parsed.memberId == "W123456789" && parsed.planName == "GOLD 123 PLAN")
        #expect(parsed.subscriber == inquiry.subscriber)
        #expect(parsed.dependent == inquiry.dependent)
        #expect(parsed.traceNumbers == ["TRACE-0001"])
        #expect(parsed.messages == ["COPAY WAIVED FOR PREVENTIVE VISITS"])
        #expect(parsed.interchangeControlNumber == "000001234" && parsed.envelopeIssues.isEmpty)
        try OutsideValidator.expectValid(text, transactionSet: "271")
    }

    /// linuxforhealth-x12 0.57.0 checks 2100C AAA03 against the 2100B (provider) code list, so the
    /// subscriber codes 72–76 are checked by our parser only (``make271SubscriberRejection``).
    @Test(
        "a rejected 271 from make271 reads back with its explanation",
        arguments: [("2100A", "42"), ("2100B", "51"), ("2100C", "15")])
    func make271Rejection(loop: String, code: String) throws {
        let inquiry = Self.inquiry(dependent: false)
        let response = EligibilityResponse(
            status: .unknown, rejections: [EligibilityRejection(code: code, followUpCode: "R", loop: loop)])
        let text = try X12Eligibility.make271(response, inquiry: inquiry, envelope: Self.envelope)
        let parsed = try X12Eligibility.parse271(text)
        #expect(parsed.status == .unknown && parsed.benefits.isEmpty)
        #expect(parsed.rejections == response.rejections)
        #expect(parsed.rejections.first?.followUp == "The inquiry may be sent again.")
        try OutsideValidator.expectValid(text, transactionSet: "271")
    }

    @Test("subscriber not found (AAA 75 in 2100C) and invalid member id (72) read back", arguments: ["72", "75"])
    func make271SubscriberRejection(code: String) throws {
        let inquiry = Self.inquiry(dependent: false)
        let response = EligibilityResponse(
            status: .unknown, rejections: [EligibilityRejection(code: code, followUpCode: "C", loop: "2100C")])
        let parsed = try X12Eligibility.parse271(
            try X12Eligibility.make271(response, inquiry: inquiry, envelope: Self.envelope))
        #expect(parsed.rejections == response.rejections)
        #expect(parsed.rejections.first?.explanation.contains(code == "72" ? "member ID" : "cannot find") == true)
    }

    @Test("make270 refuses data containing a separator instead of escaping it")
    func refusesSeparators() {
        var inquiry = Self.inquiry(dependent: false)
        inquiry.subscriber.lastName = "O*BRIEN"
        #expect(throws: X12WriterError.self) { try X12Eligibility.make270(inquiry, envelope: Self.envelope) }
    }
}
