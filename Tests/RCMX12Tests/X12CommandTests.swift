import Foundation
import Testing

@testable import RCMX12

@Suite("rcm x12 parse / validate")
struct X12CommandTests {
    func path(_ name: String) throws -> String {
        try Fixtures.directory.get().appendingPathComponent("linuxforhealth").appendingPathComponent(name).path
    }

    @Test("validate exits 0 for a clean file and 1 for errors (4010, bad control number, missing file)")
    func validateExitStatus() throws {
        #expect(X12Command.run(["validate", try path("835_005010X221A1/managed-care.835")]) == 0)
        #expect(
            X12Command.run(["validate", try path("271_005010X279A1/subscriber-health-benefit-check-error.271")]) == 1)
        #expect(X12Command.run(["validate", try path("837_004010X098A1/patient-is-subscriber.837")]) == 1)
        #expect(X12Command.run(["validate", "/nonexistent/file.x12"]) == 1)
        #expect(X12Command.run(["frobnicate", "x"]) == 64)
        #expect(X12Command.run(["parse"]) == 64)
    }

    @Test("parse's JSON decodes back into the document, loops included")
    func parseJSON() throws {
        let document = try X12Document.parse(contentsOfFile: try path("837_005010X222A2/demo.example1.837"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(document)
        let decoded = try JSONDecoder().decode(X12Document.self, from: json)
        #expect(decoded.transactions.first?.root == document.transactions.first?.root)
        #expect(decoded.transactions.first?.segments.count == document.transactions.first?.segments.count)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""id":"2010BA""#) && text.contains(#""interchanges""#))
    }
}
