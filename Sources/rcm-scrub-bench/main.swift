import Foundation
import RCMCore
import RCMScrubber

// rcm-scrub-bench: generates synthetic claims (clean, and one labelled error each), scrubs them,
// and prints recall and precision per rule and overall, then scrubbing throughput on clean claims
// only and on all claims. Deterministic for a seed.
//
//   rcm-scrub-bench [--seed N] [--clean N] [--per-rule N] [--passes N] [--mistakes N] [--dump FILE.json]
//   rcm-scrub-bench --load-only --ptp FILE --mue FILE     (times the CMS-layout importers, then exits)
//
// Recall and precision are measured against the NCCI sample files shipped with RCMScrubber (the
// generator injects PTP and MUE errors from them); --ptp/--mue replace those edits, so with other
// files the NCCI figures say nothing.

var seed: UInt64 = 20_261_204
var cleanCount = 2_000
var perRule = 150
var passes = 30
var ptpFile: String?
var mueFile: String?
var showMistakes = 10
var dumpPath: String?
var loadOnly = false

var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let next = arguments.popFirst() else {
            FileHandle.standardError.write(Data("\(argument) needs a value\n".utf8))
            exit(2)
        }
        return next
    }
    switch argument {
    case "--seed": seed = UInt64(value()) ?? seed
    case "--clean": cleanCount = Int(value()) ?? cleanCount
    case "--per-rule": perRule = Int(value()) ?? perRule
    case "--passes": passes = max(1, Int(value()) ?? passes)
    case "--ptp": ptpFile = value()
    case "--mue": mueFile = value()
    case "--mistakes": showMistakes = Int(value()) ?? showMistakes
    case "--dump": dumpPath = value()
    case "--load-only": loadOnly = true
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(2)
    }
}

var generator = ClaimGenerator(seed: seed)
let cases = generator.generate(clean: cleanCount, perRule: perRule)
var edits = NCCIEdits.bundledSample
if let ptpFile, let mueFile {
    let clock = ContinuousClock()
    let started = clock.now
    do {
        edits = try NCCIEdits.load(ptpFile: ptpFile, mueFile: mueFile)
    } catch {
        FileHandle.standardError.write(Data("cannot load NCCI files: \(error)\n".utf8))
        exit(1)
    }
    print(
        "NCCI loaded: \(edits.report.ptpRows) PTP rows (\(edits.ptpPairCount) pairs), \(edits.report.mueRows) MUE rows,"
            + " \(edits.report.issues.count) issues, in \(clock.now - started)")
    for issue in edits.report.issues.prefix(5) { print("  \(issue)") }
}
if loadOnly { exit(0) }
let scrubber = Scrubber(codeSets: SampleCodeSets.codeSets, edits: edits, today: generator.today)

let results = cases.map { scrubber.scrub($0.claim) }
let evaluation = ScrubEvaluation(cases: cases, results: results, mistakesKept: max(showMistakes, 0))

func percent(_ value: Double) -> String { String(format: "%6.2f%%", value * 100) }
func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
func leftPadded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

print("rcm-scrub-bench seed \(seed): \(cases.count) claims (\(evaluation.cleanClaims) clean, \(perRule) per rule)")
print("rules \(scrubber.catalog.version), NCCI \(ptpFile == nil ? "bundled sample" : "files given")")
print("")
print(
    "\(padded("rule", 12)) \(leftPadded("injected", 8)) \(leftPadded("detected", 8)) \(leftPadded("false +", 8))   recall  precision"
)
for rule in evaluation.rules {
    print(
        "\(padded(rule.ruleId, 12)) \(leftPadded(String(rule.injected), 8)) \(leftPadded(String(rule.detected), 8))"
            + " \(leftPadded(String(rule.falsePositives), 8))  \(percent(rule.recall))   \(percent(rule.precision))")
}
print(
    "\(padded("overall", 12)) \(leftPadded(String(evaluation.injected), 8)) \(leftPadded(String(evaluation.detected), 8))"
        + " \(leftPadded(String(evaluation.falsePositives), 8))  \(percent(evaluation.recall))   \(percent(evaluation.precision))"
)
print(
    "clean claims with any finding: \(evaluation.cleanClaimsWithFindings) of \(evaluation.cleanClaims);"
        + " with an error: \(evaluation.cleanClaimsWithErrors)")
if !evaluation.mistakes.isEmpty && showMistakes > 0 {
    print("")
    print("mistakes (first \(evaluation.mistakes.count)):")
    for mistake in evaluation.mistakes {
        print("  \(mistake.claimId) label \(mistake.label ?? "clean") (\(mistake.note)): found \(mistake.found)")
    }
}

// Throughput: every claim scrubbed `passes` times; clean claims alone as the reference.
@MainActor func throughput(_ claims: [ScrubClaim]) -> (perSecond: Double, seconds: Double) {
    let clock = ContinuousClock()
    var findings = 0
    let started = clock.now
    for _ in 0..<passes {
        for claim in claims { findings &+= scrubber.scrub(claim).findings.count }
    }
    let elapsed = clock.now - started
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    if findings == -1 { print("") }  // keeps the work observable
    return (Double(claims.count * passes) / seconds, seconds)
}

let cleanClaims = cases.filter { $0.label == nil }.map(\.claim)
let allClaims = cases.map(\.claim)
_ = throughput(Array(allClaims.prefix(500)))  // warm-up
let clean = throughput(cleanClaims)
let all = throughput(allClaims)
print("")
print(
    "throughput, clean claims only: \(Int(clean.perSecond)) claims/s (\(cleanClaims.count) × \(passes) in "
        + String(format: "%.2f s)", clean.seconds))
print(
    "throughput, all claims:        \(Int(all.perSecond)) claims/s (\(allClaims.count) × \(passes) in "
        + String(format: "%.2f s)", all.seconds))
print(String(format: "all / clean: %.2f", all.perSecond / clean.perSecond))

if let dumpPath {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        try encoder.encode(cases).write(to: URL(fileURLWithPath: dumpPath))
        print("claims written to \(dumpPath)")
    } catch {
        FileHandle.standardError.write(Data("cannot write \(dumpPath): \(error)\n".utf8))
    }
}
