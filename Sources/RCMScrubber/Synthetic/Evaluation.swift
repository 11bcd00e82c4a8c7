/// Recall and precision of the scrubber on labelled claims, per rule and overall.
///
/// A claim labelled with rule R is a true positive for R when the scrubber reports at least one
/// finding of R on it (of any severity), a miss otherwise. A claim not labelled R on which the
/// scrubber reports R is a false positive for R: on clean claims and on claims built to break
/// another rule alike.
public struct ScrubEvaluation: Sendable, Codable {
    public struct RuleFigures: Sendable, Codable, Hashable {
        public var ruleId: String
        public var injected = 0
        public var detected = 0
        public var falsePositives = 0

        public var recall: Double { injected == 0 ? 1 : Double(detected) / Double(injected) }
        public var precision: Double {
            detected + falsePositives == 0 ? 1 : Double(detected) / Double(detected + falsePositives)
        }
    }

    /// A labelled claim the scrubber got wrong, for reading.
    public struct Mistake: Sendable, Codable, Hashable {
        public var claimId: String
        public var label: String?
        public var note: String
        public var found: [String]
    }

    public var rules: [RuleFigures]
    public var cleanClaims = 0
    /// Clean claims with any finding (the scrubber's false alarms on clean claims).
    public var cleanClaimsWithFindings = 0
    public var cleanClaimsWithErrors = 0
    public var mistakes: [Mistake] = []

    public var detected: Int { rules.reduce(0) { $0 + $1.detected } }
    public var injected: Int { rules.reduce(0) { $0 + $1.injected } }
    public var falsePositives: Int { rules.reduce(0) { $0 + $1.falsePositives } }
    public var recall: Double { injected == 0 ? 1 : Double(detected) / Double(injected) }
    public var precision: Double {
        detected + falsePositives == 0 ? 1 : Double(detected) / Double(detected + falsePositives)
    }

    /// Scores `results` (in the same order as `cases`).
    public init(cases: [LabelledClaim], results: [ScrubResult], mistakesKept: Int = 50) {
        var figures: [String: RuleFigures] = [:]
        for item in cases {
            if let label = item.label { figures[label, default: RuleFigures(ruleId: label)].injected += 1 }
        }
        for (item, result) in zip(cases, results) {
            let found = Set(result.findings.map(\.ruleId))
            var wrong = false
            if let label = item.label {
                if found.contains(label) {
                    figures[label]?.detected += 1
                } else {
                    wrong = true
                }
            } else {
                cleanClaims += 1
                if !found.isEmpty { cleanClaimsWithFindings += 1 }
                if !result.isClean { cleanClaimsWithErrors += 1 }
            }
            for rule in found where rule != item.label {
                figures[rule, default: RuleFigures(ruleId: rule)].falsePositives += 1
                wrong = true
            }
            if wrong, mistakes.count < mistakesKept {
                mistakes.append(
                    Mistake(claimId: item.claim.claimId, label: item.label, note: item.note, found: found.sorted()))
            }
        }
        rules = figures.values.sorted { $0.ruleId < $1.ruleId }
    }
}
