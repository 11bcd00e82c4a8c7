import Foundation
import Testing

@testable import RCMX12

@Suite("X12 corpus: every linuxforhealth fixture")
struct X12CorpusTests {
    /// The one fixture with a real envelope defect: its SE02 (4323) differs from ST02 (4321).
    static let knownDefects: [String: [String]] = [
        "271_005010X279A1/subscriber-health-benefit-check-error.271": [X12IssueCode.controlNumberMismatch]
    ]

    @Test("the corpus is present (set RCM_X12_FIXTURES when the checkout is elsewhere)")
    func corpusIsPresent() throws {
        let files = try Fixtures.all()
        #expect(files.count >= 60, "expected the 62 linuxforhealth fixtures, found \(files.count)")
    }

    @Test("5010 files parse with no error issues; SE01/GE01/IEA01 match what was read")
    func fiveTenFilesParse() throws {
        var checked = 0
        for (name, bytes) in try Fixtures.all() where !Fixtures.is4010(name) {
            let document = X12Document.parse(bytes)
            let errors = document.errors.map(\.code)
            #expect(errors == (Self.knownDefects[name] ?? []), "\(name): \(document.errors)")
            #expect(document.interchanges.count == 1, "\(name)")
            for interchange in document.interchanges {
                #expect(interchange.version == "00501")
                #expect(interchange.trailer?[1] == String(interchange.groups.count), "\(name) IEA01")
                #expect(interchange.trailer?[2] == interchange.controlNumber, "\(name) IEA02")
                for group in interchange.groups {
                    #expect(group.version.hasPrefix("005010"))
                    #expect(group.trailer?[1] == String(group.transactions.count), "\(name) GE01")
                    for transaction in group.transactions {
                        #expect(transaction.declaredSegmentCount == String(transaction.segments.count), "\(name) SE01")
                        #expect(transaction.segments.first?.id == "ST" && transaction.segments.last?.id == "SE")
                        // The loop tree holds every segment once.
                        #expect(transaction.root.allSegments == transaction.segments, "\(name) loops")
                        #expect(!transaction.root.loops.isEmpty, "\(name): no loops found")
                    }
                }
            }
            checked += 1
        }
        #expect(checked == 50)
    }

    @Test("004010 files are reported as an unsupported version, without a crash")
    func fourTenFilesAreReported() throws {
        var checked = 0
        for (name, bytes) in try Fixtures.all() where Fixtures.is4010(name) {
            let document = X12Document.parse(bytes)
            let unsupported = document.errors.filter { $0.code == X12IssueCode.unsupportedVersion }
            #expect(unsupported.count == 1, "\(name): \(document.issues)")
            // These files carry ISA12 00501 but GS08 004010X09xA1.
            #expect(unsupported.first?.segmentId == "GS" && unsupported.first?.elementPosition == 8)
            #expect(unsupported.first?.message.contains("unsupported version") == true)
            // The envelopes are still read and checked.
            #expect(document.errors.count == 1, "\(name): \(document.errors)")
            #expect(document.transactions.count == 1)
            checked += 1
        }
        #expect(checked == 11)
    }

    @Test("parse → write → parse gives the same segments (counts and trailers recomputed)")
    func roundTrip() throws {
        for (name, bytes) in try Fixtures.all() where !Fixtures.is4010(name) {
            let first = X12Document.parse(bytes)
            let written = try X12Writer.write(first)
            let second = X12Document.parse(written)
            #expect(second.errors.isEmpty, "\(name): \(second.errors)")
            let before = first.allSegments
            let after = second.allSegments
            #expect(before.count == after.count, "\(name)")
            for (old, new) in zip(before, after) where old.id != new.id || old.elements != new.elements {
                // The writer fixes the SE02 of the one defective fixture.
                let fixedSE02 = Self.knownDefects[name] != nil && old.id == "SE" && new[2] == "4321"
                #expect(fixedSE02, "\(name): \(old) became \(new)")
            }
        }
    }

    @Test("loop trees of the fixtures use the implementation guide's loop ids")
    func loopIds() throws {
        func ids(_ name: String) throws -> [String] {
            let document = X12Document.parse(try Fixtures.text(name))
            var ids: [String] = []
            document.transactions.first?.root.visit { ids.append($0.id) }
            return ids
        }
        #expect(
            try ids("271_005010X279A1/dependent-health-benefit-check.271") == [
                "TRANSACTION", "2000A", "2100A", "2000B", "2100B", "2000C", "2100C", "2000D", "2100D", "2110D", "2110D",
                "2120D", "2110D", "2110D", "2110D",
            ])
        #expect(
            try ids("835_005010X221A1/managed-care.835").starts(with: ["TRANSACTION", "1000A", "1000B", "2000", "2100"])
        )
        let professional = try ids("837_005010X222A2/demo.example1.837")
        #expect(professional.contains("2010BA") && professional.contains("2300") && professional.contains("2400"))
        let institutional = try ids("837_005010X223A3/institutional-claim.837i")
        #expect(institutional.contains("2300") && institutional.contains("2400"))
        #expect(try ids("834_005010X220A1/add-dependent.834").contains("2100A"))
        #expect(try ids("277_005010X212/claim-level-status.277").contains("2200D"))
    }
}
