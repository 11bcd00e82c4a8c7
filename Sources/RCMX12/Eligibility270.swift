import Foundation
import RCMCore

extension X12Eligibility {
    /// Reads a 270 (the payer's side: the payer simulator's CORE endpoint): the inquiry and the
    /// envelope it came in. Throws ``X12Error`` with every issue when it is not a readable
    /// 005010X279A1 270 naming a payer, a provider and a subscriber.
    public static func parse270(_ text: String) throws -> (EligibilityInquiry, X12EnvelopeSettings) {
        let document = X12Document.parse(text)
        if !document.errors.isEmpty { throw X12Error("not a readable X12 270", issues: document.errors) }
        guard let interchange = document.interchanges.first,
            let group = interchange.groups.first(where: { $0.transactions.contains { $0.id == "270" } }),
            let transaction = group.transactions.first(where: { $0.id == "270" })
        else { throw X12Error("no 270 transaction set found", issues: document.issues) }
        guard transaction.version.hasPrefix("005010X279") else {
            throw X12Error("the 270 is version \(transaction.version), not \(version)", issues: document.issues)
        }
        let root = transaction.root
        guard let payer = root.loops(withId: "2100A").first?.segment("NM1"),
            let provider = root.loops(withId: "2100B").first?.segment("NM1"),
            let subscriberLoop = root.loops(withId: "2100C").first, let subscriber = person(subscriberLoop)
        else { throw X12Error("the 270 lacks its payer, provider or subscriber", issues: document.issues) }
        let dependent = root.loops(withId: "2100D").first.flatMap(person)
        var serviceTypes: [String] = []
        var dateOfService: CalendarDate?
        var trace = ""
        root.visit { loop in
            for segment in loop.segments {
                switch segment.id {
                case "EQ": serviceTypes += segment.repetitions(1)
                case "DTP" where segment[1] == "291": dateOfService = dateOfService ?? calendarDate(segment[3])
                case "TRN" where trace.isEmpty: trace = segment[2]
                default: break
                }
            }
        }
        if trace.isEmpty, let bht = transaction.segments.first(where: { $0.id == "BHT" }) { trace = bht[3] }
        let header = interchange.header
        let inquiry = EligibilityInquiry(
            payer: X12Party(name: payer[3], identifierQualifier: payer[8], identifier: payer[9]),
            provider: X12Party(name: provider[3], identifierQualifier: provider[8], identifier: provider[9]),
            subscriber: subscriber, dependent: dependent,
            serviceTypeCodes: serviceTypes.isEmpty ? ["30"] : serviceTypes,
            dateOfService: dateOfService ?? CalendarDate.today(), traceNumber: trace)
        let trim: (String) -> String = { $0.trimmingCharacters(in: .whitespaces) }
        let envelope = X12EnvelopeSettings(
            senderQualifier: trim(header[5]), senderId: trim(header[6]), receiverQualifier: trim(header[7]),
            receiverId: trim(header[8]), applicationSenderCode: group.header[2],
            applicationReceiverCode: group.header[3], interchangeControlNumber: Int(interchange.controlNumber) ?? 1,
            groupControlNumber: Int(group.controlNumber) ?? 1, usageIndicator: trim(header[15]))
        return (inquiry, envelope)
    }
}
