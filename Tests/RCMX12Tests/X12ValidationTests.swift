import Foundation
import Testing

@testable import RCMX12

@Suite("X12 validation collects issues with positions")
struct X12ValidationTests {
    static let sample = try? Fixtures.text("270_005010X279A1/subscriber-health-benefit-check.270")

    func sample() throws -> String {
        try #require(Self.sample, "fixture 270_005010X279A1/subscriber-health-benefit-check.270 missing")
    }

    func codes(_ text: String) -> [String] { X12Document.parse(text).errors.map(\.code) }

    @Test("a wrong SE01, GE01 and IEA01 and mismatched control numbers are all reported in one pass")
    func countsAndControlNumbers() throws {
        let text = try sample().replacingOccurrences(of: "SE*13*1234", with: "SE*12*1235")
            .replacingOccurrences(of: "GE*1*1", with: "GE*2*7").replacingOccurrences(
                of: "IEA*1*000000907", with: "IEA*3*000000908")
        let issues = X12Document.parse(text).errors
        #expect(issues.count == 6, "\(issues)")
        let se = issues.filter { $0.segmentId == "SE" }
        #expect(se.map(\.elementPosition) == [1, 2])
        #expect(se.map(\.code) == [X12IssueCode.countMismatch, X12IssueCode.controlNumberMismatch])
        #expect(se.first?.segmentIndex == 15)
        #expect(issues.filter { $0.segmentId == "GE" }.count == 2)
        #expect(issues.filter { $0.segmentId == "IEA" }.count == 2)
        for issue in issues { #expect(issue.offset > 400) }
    }

    @Test("a truncated file reports the missing trailers and a missing terminator")
    func truncated() throws {
        let text = try sample()
        let cut = String(text.prefix(text.utf8.count * 2 / 3))
        let document = X12Document.parse(cut)
        let codes = document.errors.map(\.code)
        #expect(codes.filter { $0 == X12IssueCode.truncated }.count >= 3, "\(document.errors)")
        #expect(document.transactions.count == 1)
        #expect(document.transactions.first?.segments.last?.id != "SE")
    }

    @Test("a file cut inside the ISA is reported, not trapped on")
    func truncatedISA() throws {
        for length in [0, 1, 3, 4, 50, 105] {
            let bytes = Array(try sample().utf8.prefix(length))
            let document = X12Document.parse(bytes)
            #expect(!document.errors.isEmpty, "length \(length)")
        }
    }

    @Test("missing GS, ST and SE and segments outside a transaction set are reported")
    func missingEnvelopeSegments() throws {
        let noSE = try sample().replacingOccurrences(of: "SE*13*1234~\n", with: "")
        #expect(codes(noSE).contains(X12IssueCode.missingSegment))
        let noGS = try sample().replacingOccurrences(
            of: "GS*HS*000000005*54321*20131031*1147*1*X*005010X279A1~\n", with: "")
        #expect(codes(noGS).contains(X12IssueCode.unexpectedSegment))
        let stray = try sample().replacingOccurrences(of: "GE*1*1~", with: "REF*EJ*1~\nGE*1*1~")
        let issue = X12Document.parse(stray).errors.first
        #expect(issue?.code == X12IssueCode.unexpectedSegment && issue?.segmentId == "REF")
    }

    @Test("wrong separators: letters, repeated separators or a shifted ISA")
    func wrongSeparators() throws {
        var bytes = Array(try sample().utf8)
        bytes[104] = UInt8(ascii: "*")  // component separator = element separator
        #expect(X12Document.parse(bytes).errors.first?.code == X12IssueCode.separators)
        var letters = Array(try sample().utf8)
        letters[105] = UInt8(ascii: "A")
        #expect(!X12Document.parse(letters).errors.isEmpty)
        let shifted = try sample().replacingOccurrences(of: "*00501*", with: "*0501*")
        let codes = codes(shifted)
        #expect(codes.contains(X12IssueCode.isaFieldWidth) && codes.contains(X12IssueCode.unsupportedVersion))
    }

    @Test("binary garbage is reported with its byte offset")
    func garbage() throws {
        var bytes = Array(try sample().utf8)
        let at = bytes.count / 2
        bytes.insert(contentsOf: [0x00, 0xFF, 0x01], at: at)
        let issues = X12Document.parse(bytes).errors.filter { $0.code == X12IssueCode.invalidCharacter }
        #expect(issues.count == 1)
        #expect(issues.first?.message.contains("byte \(at)") == true)
        let random = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
        #expect(X12Document.parse(random).errors.first?.code == X12IssueCode.notX12)
    }

    @Test("HL numbering and parents, duplicate control numbers and bad ST02/GS06 are reported")
    func hierarchyAndControlNumbers() throws {
        let text = try sample()
        let badParent = text.replacingOccurrences(of: "HL*3*2*22*0", with: "HL*3*7*22*0")
        let parentIssue = X12Document.parse(badParent).errors.first
        #expect(
            parentIssue?.segmentId == "HL" && parentIssue?.elementPosition == 2, "\(String(describing: parentIssue))")
        let huge = text.replacingOccurrences(of: "HL*2*1*21*1", with: "HL*9223372036854775807*1*21*1")
        #expect(X12Document.parse(huge).errors.map(\.elementPosition) == [1, 2])
        let body = text.components(separatedBy: "ST*270")[1].components(separatedBy: "GE*")[0]
        let twice = text.replacingOccurrences(of: "GE*1*1", with: "ST*270" + body + "GE*2*1")
        let duplicate = X12Document.parse(twice).issues
        #expect(duplicate.map(\.code) == [X12IssueCode.controlNumberMismatch])
        #expect(duplicate.first?.severity == .warning && duplicate.first?.segmentId == "ST")
        let shortST = text.replacingOccurrences(of: "ST*270*1234", with: "ST*270*12").replacingOccurrences(
            of: "SE*13*1234", with: "SE*13*12")
        #expect(X12Document.parse(shortST).errors.map(\.code) == [X12IssueCode.invalidValue])
    }

    @Test("a segment longer than the limit is cut and reported; a byte order mark is tolerated")
    func longSegmentAndBOM() throws {
        let text = try sample()
        let long = text.replacingOccurrences(of: "EQ*30~", with: "EQ*30" + String(repeating: "X", count: 5000) + "~")
        let reader = X12Reader(bytes: Array(long.utf8))
        reader.maximumSegmentLength = 1024
        while reader.next() != nil {}
        #expect(reader.issues.map(\.code) == [X12IssueCode.segmentTooLong])
        #expect(X12Document.parse(long).issues.isEmpty)
        let bom = [UInt8]([0xEF, 0xBB, 0xBF]) + Array(text.utf8)
        let document = X12Document.parse(bom)
        #expect(document.errors.isEmpty && document.transactions.count == 1)
        #expect(document.issues.first?.code == X12IssueCode.nonASCII)
    }

    @Test("a 999 built with the writer has the AK2/IK3/IK4 loops")
    func acknowledgmentLoops() throws {
        var writer = try X12Writer()
        try writer.beginInterchange(X12Header.wide())
        try writer.beginGroup(
            functionalIdentifier: "FA", applicationSender: "P", applicationReceiver: "C", date: "20240131",
            time: "0930", controlNumber: 9, version: "005010X231A1")
        try writer.beginTransaction("999", controlNumber: "0001", implementationReference: "005010X231A1")
        try writer.segment("AK1", "HC", "17", "005010X222A1")
        try writer.segment("AK2", "837", "0001", "005010X222A1")
        try writer.segment("IK3", "NM1", "8", "2010", "8")
        try writer.segment("IK4", "9", "67", "7")
        try writer.segment("IK5", "R", "5")
        try writer.segment("AK9", "R", "1", "1", "0")
        try writer.endTransaction()
        try writer.endGroup()
        try writer.endInterchange()
        let document = X12Document.parse(writer.text)
        #expect(document.issues.isEmpty)
        var ids: [String] = []
        document.transactions.first?.root.visit { ids.append($0.id) }
        #expect(ids == ["TRANSACTION", "2000", "2100", "2110"])
        #expect(document.transactions.first?.root.segment("AK9") != nil)
    }

    @Test("the tokenizer yields byte ranges; strings are made only on request")
    func tokenizer() throws {
        let bytes = Array(try sample().utf8)
        var tokenizer = X12Tokenizer(bytes: bytes)
        var ids: [String] = []
        var offsets: [Int] = []
        while let raw = tokenizer.next() {
            offsets.append(raw.offset)
            ids.append(tokenizer.segment(raw).id)
            #expect(raw.terminated)
        }
        #expect(ids.first == "ISA" && ids.last == "IEA" && ids.count == 17)
        #expect(offsets == X12Document.parse(bytes).allSegments.map(\.offset))
        var counting = X12Tokenizer(bytes: bytes)
        let counts = X12Tokenizer.scan(&counting)
        #expect(counts.segments == 17 && counts.interchanges == 1 && counts.bytes == bytes.count)
        #expect(counts.elements == X12Document.parse(bytes).allSegments.map(\.elements.count).reduce(0, +))
    }

    @Test("a 4010 interchange (ISA12 00401) is an unsupported version")
    func fourTenISA() throws {
        let text = try sample().replacingOccurrences(of: "*^*00501*", with: "*U*00401*")
            .replacingOccurrences(of: "005010X279A1", with: "004010X092A1")
        let document = X12Document.parse(text)
        #expect(document.errors.map(\.code) == [X12IssueCode.unsupportedVersion])
        #expect(document.interchanges.first?.separators.repetition == nil)
    }

    @Test("CR/LF after terminators, no line breaks, and other separators are all read")
    func separatorsAndLineBreaks() throws {
        let text = try sample()
        let crlf = text.replacingOccurrences(of: "~\n", with: "~\r\n")
        let oneLine = text.replacingOccurrences(of: "~\n", with: "~")
        let other = text.replacingOccurrences(of: "*", with: "|").replacingOccurrences(of: "\n", with: "")
            .replacingOccurrences(of: "~", with: "\n")
            .replacingOccurrences(of: "|:\n", with: "|>\n")
        for variant in [crlf, oneLine, other] {
            let document = X12Document.parse(variant)
            #expect(document.issues.isEmpty, "\(document.issues)")
            #expect(document.transactions.first?.segments.count == 13)
        }
        #expect(X12Document.parse(other).interchanges.first?.separators.segment == 0x0A)
    }

    @Test("the streaming reader yields one transaction set at a time from a file read in small chunks")
    func streaming() throws {
        let text = try sample()
        var body = ""
        for number in 1...50 {
            body +=
                "ST*270*\(1000 + number)*005010X279A1~\n"
                + text.components(separatedBy: "ST*270*1234*005010X279A1~\n")[1]
                .components(separatedBy: "SE*13*1234~")[0] + "SE*13*\(1000 + number)~\n"
        }
        let head = text.components(separatedBy: "ST*270")[0]
        let whole = head + body + "GE*50*1~\nIEA*1*000000907~\n"
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("x12-stream-\(UUID()).270")
        try Data(whole.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let reader = try X12Reader(path: url.path, chunkSize: 4096)
        var numbers: [String] = []
        while let transaction = reader.nextTransaction() {
            numbers.append(transaction.controlNumber)
            #expect(transaction.segments.count == 13)
        }
        #expect(numbers == (1...50).map { String(1000 + $0) })
        #expect(reader.issues.isEmpty, "\(reader.issues)")
        #expect(reader.tokenizer.buffer.count <= 8192 + 200)
    }
}

@Suite("X12 writer")
struct X12WriterTests {
    func header() -> X12InterchangeHeader {
        X12InterchangeHeader(
            senderQualifier: "ZZ", senderId: "CLINIC", receiverQualifier: "ZZ", receiverId: "PAYER", date: "240131",
            time: "0930", controlNumber: 42, usageIndicator: "T")
    }

    @Test("ISA is 106 bytes, trailers count and match control numbers")
    func envelopes() throws {
        var writer = try X12Writer()
        try writer.beginInterchange(header())
        for group in 1...2 {
            try writer.beginGroup(
                functionalIdentifier: "HS", applicationSender: "CLINIC", applicationReceiver: "PAYER", date: "20240131",
                time: "0930", controlNumber: group, version: "005010X279A1")
            for number in 1...3 {
                try writer.beginTransaction(
                    "270", controlNumber: String(format: "%04d", number), implementationReference: "005010X279A1")
                try writer.segment("BHT", "0022", "13", "REF\(number)", "20240131", "0930")
                try writer.segment("EQ", [X12Element(repeating: ["30", "1"])])
                try writer.segment("SV1", [X12Element(components: ["HC", "99213", ""]), "", ""])
                try writer.endTransaction()
            }
            try writer.endGroup()
        }
        try writer.endInterchange()
        let lines = writer.text.split(separator: "\n").map(String.init)
        #expect(lines[0].utf8.count == 106)
        #expect(
            lines[0]
                == "ISA*00*          *00*          *ZZ*CLINIC         *ZZ*PAYER          *240131*0930*^*00501*000000042*0*T*:~"
        )
        #expect(lines.contains("EQ*30^1~"))
        #expect(lines.contains("SV1*HC:99213~"))
        #expect(lines.contains("SE*5*0003~"))
        #expect(lines.contains("GE*3*2~"))
        #expect(lines.last == "IEA*2*000000042~")
        let document = X12Document.parse(writer.text)
        #expect(document.issues.isEmpty, "\(document.issues)")
        #expect(document.transactions.count == 6)
    }

    @Test("data containing a separator is refused with the element named")
    func refusesSeparators() throws {
        var writer = try X12Writer()
        try writer.beginInterchange(header())
        try writer.beginGroup(
            functionalIdentifier: "HS", applicationSender: "A", applicationReceiver: "B", date: "20240131",
            time: "0930",
            controlNumber: 1, version: "005010X279A1")
        try writer.beginTransaction("270", controlNumber: "0001")
        for bad in ["SMITH*JONES", "A~B", "A:B", "A^B", "A\nB"] {
            #expect(throws: X12WriterError.self) { try writer.segment("NM1", "IL", "1", bad) }
        }
        let error = #expect(throws: X12WriterError.self) { try writer.segment("NM1", "IL", "1", "O*BRIEN") }
        #expect(error?.message.contains("NM103") == true && error?.message.contains("'*'") == true)
        var second = try X12Writer()
        for change in [
            { (header: inout X12InterchangeHeader) in header.senderId = "A-SENDER-ID-LONGER-THAN-15" },
            { $0.date = "2401" }, { $0.time = "9:30" }, { $0.usageIndicator = "X" },
            { $0.controlNumber = 1_000_000_000 },
        ] {
            var other = X12Header.wide()
            change(&other)
            #expect(throws: X12WriterError.self) { try second.beginInterchange(other) }
        }
        #expect(throws: X12WriterError.self) {
            try X12Writer(separators: X12Separators(element: 0x2A, repetition: 0x2A, component: 0x3A, segment: 0x7E))
        }
    }

    @Test("other separators are written and read back")
    func otherSeparators() throws {
        let separators = X12Separators(
            element: UInt8(ascii: "|"), repetition: UInt8(ascii: "!"), component: UInt8(ascii: ">"),
            segment: UInt8(ascii: "\n"))
        let document = X12Document.parse(try Fixtures.text("271_005010X279A1/dependent-health-benefit-check.271"))
        let text = try X12Writer.write(document, separators: separators, lineEnding: "")
        #expect(text.contains("EB|B||1!33!35!47!86!88!98!AL!MH!UC|HM|GOLD 123 PLAN|27|10.00|||||Y\n"))
        let again = X12Document.parse(text)
        #expect(again.issues.isEmpty)
        #expect(again.allSegments.map(\.elements.count) == document.allSegments.map(\.elements.count))
    }
}

enum X12Header {
    static func wide() -> X12InterchangeHeader {
        X12InterchangeHeader(
            senderQualifier: "ZZ", senderId: "S", receiverQualifier: "ZZ", receiverId: "R", date: "240131",
            time: "0930", controlNumber: 1, usageIndicator: "T")
    }
}
