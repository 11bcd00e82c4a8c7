import Foundation
import RCMCore
import Testing

@testable import RCMX12

@Suite("X12 fuzzing: mutated fixtures never trap and every issue has a position")
struct X12FuzzTests {
    /// Seed and budget: override with RCM_X12_FUZZ_SEED / RCM_X12_FUZZ_ITERATIONS to reproduce or extend.
    static let seed = UInt64(ProcessInfo.processInfo.environment["RCM_X12_FUZZ_SEED"] ?? "") ?? 20_261_204
    static let iterations = Int(ProcessInfo.processInfo.environment["RCM_X12_FUZZ_ITERATIONS"] ?? "") ?? 3000
    static let timeBudget = TimeInterval(ProcessInfo.processInfo.environment["RCM_X12_FUZZ_SECONDS"] ?? "") ?? 3

    static func mutate(_ input: [UInt8], _ random: inout SplitMix64) -> (bytes: [UInt8], how: String) {
        var bytes = input
        let separators: [UInt8] = Array("*~:^\r\n|>".utf8)
        var how: [String] = []
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<8, using: &random) {
            case 0:
                bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
                how.append("flip@\(at)")
            case 1:
                bytes.removeSubrange(at...)
                how.append("truncate@\(at)")
            case 2:
                bytes.insert(separators.randomElement(using: &random) ?? 0x2A, at: at)
                how.append("separator@\(at)")
            case 3:
                let garbage = (0..<Int.random(in: 1...64, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
                bytes.insert(contentsOf: garbage, at: at)
                how.append("garbage@\(at)")
            case 4:
                let end = min(bytes.count, at + Int.random(in: 1...80, using: &random))
                bytes.removeSubrange(at..<end)
                how.append("delete@\(at)")
            case 5:
                let end = min(bytes.count, at + Int.random(in: 1...200, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &random))
                how.append("duplicate@\(at)")
            case 6:
                bytes[at] = separators.randomElement(using: &random) ?? 0x7E
                how.append("replace@\(at)")
            default:
                bytes[at] = UInt8.random(in: 0...255, using: &random)
                how.append("byte@\(at)")
            }
        }
        return (bytes, how.joined(separator: ","))
    }

    func check(_ issues: [X12Issue], length: Int, _ context: String) {
        for issue in issues {
            #expect(issue.offset >= 0 && issue.offset <= length, "\(context): \(issue)")
            #expect(issue.segmentIndex >= 0 && !issue.code.isEmpty && !issue.message.isEmpty, "\(context): \(issue)")
            if issue.segmentId != nil { #expect(issue.segmentIndex >= 1, "\(context): \(issue)") }
            if let element = issue.elementPosition { #expect(element >= 1, "\(context): \(issue)") }
        }
    }

    @Test("random mutations of every fixture: parse, validate, re-write, read 271s")
    func mutations() throws {
        let fixtures = try Fixtures.all()
        var random = SplitMix64(seed: Self.seed)
        let started = Date()
        var runs = 0
        var withErrors = 0
        while runs < Self.iterations && Date().timeIntervalSince(started) < Self.timeBudget {
            let (name, original) = fixtures[Int.random(in: 0..<fixtures.count, using: &random)]
            let (bytes, how) = Self.mutate(original, &random)
            let context = "seed \(Self.seed) run \(runs) \(name) \(how)"
            let document = X12Document.parse(bytes)
            check(document.issues, length: bytes.count, context)
            if !document.errors.isEmpty { withErrors += 1 }
            // Whatever was read can be written again, or the writer says why not.
            if document.errors.isEmpty, !document.interchanges.isEmpty {
                do {
                    let again = X12Document.parse(try X12Writer.write(document))
                    #expect(again.allSegments.count == document.allSegments.count, "\(context)")
                } catch is X12WriterError {
                } catch { Issue.record("\(context): \(error)") }
            }
            if name.hasPrefix("271") {
                _ = try? X12Eligibility.parse271(String(decoding: bytes, as: UTF8.self))
            }
            runs += 1
        }
        #expect(runs >= 200, "only \(runs) runs in \(Self.timeBudget) s")
        #expect(withErrors > runs / 4, "mutations should mostly be caught: \(withErrors) of \(runs)")
    }

    @Test("reading a file in tiny chunks gives the same segments and issues as reading it in memory")
    func chunkedReadingAgrees() throws {
        let fixtures = try Fixtures.all()
        var random = SplitMix64(seed: Self.seed ^ 0xC0FFEE)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("x12-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for run in 0..<300 {
            let (name, original) = fixtures[Int.random(in: 0..<fixtures.count, using: &random)]
            let (bytes, how) = run % 3 == 0 ? (original, "none") : Self.mutate(original, &random)
            let chunk = Int.random(in: 1...97, using: &random)
            let url = directory.appendingPathComponent("\(run).x12")
            try Data(bytes).write(to: url)
            let inMemory = X12Document.parse(bytes)
            let chunked = X12Document.build(try X12Reader(path: url.path, chunkSize: chunk))
            let context = "run \(run) \(name) \(how) chunk \(chunk)"
            #expect(chunked.issues == inMemory.issues, "\(context)")
            #expect(chunked.allSegments == inMemory.allSegments, "\(context)")
        }
    }
}
