import Foundation

/// How much a finding matters: an error blocks the claim, a warning does not.
public enum ScrubSeverity: String, Sendable, Codable, Hashable {
    case error, warning
}

/// One rule's data: what the scrubber says when the rule's check (in code) fires.
public struct ScrubRule: Sendable, Codable, Hashable {
    /// Stable id: "REQ-001", "NCCI-PTP", …
    public var id: String
    /// Bumped whenever the rule's meaning, message or check changes.
    public var version: Int
    public var severity: ScrubSeverity
    public var enabled: Bool
    public var title: String
    /// Message with `{placeholders}` filled from the check's details.
    public var message: String
    /// What to do about it.
    public var fix: String

    public init(
        id: String, version: Int, severity: ScrubSeverity, enabled: Bool = true, title: String, message: String,
        fix: String
    ) {
        self.id = id
        self.version = version
        self.severity = severity
        self.enabled = enabled
        self.title = title
        self.message = message
        self.fix = fix
    }

    /// The message with each `{key}` replaced by its value; unknown keys stay as written.
    public func render(_ values: [String: String]) -> String {
        guard message.contains("{") else { return message }
        var result = ""
        var rest = Substring(message)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            let key = String(rest[rest.index(after: open)..<close])
            result += values[key] ?? "{\(key)}"
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}

/// The versioned set of rules: severities, messages and enabled flags are data (a JSON file shipped
/// with the module, or one supplied at runtime); the checks are code in `Scrubber`.
public struct RuleCatalog: Sendable, Codable, Hashable {
    /// The catalog's version, reported with every scrub result.
    public var version: String
    public var rules: [ScrubRule]

    public init(version: String, rules: [ScrubRule]) {
        self.version = version
        self.rules = rules
    }

    /// Decodes a catalog from JSON (`{"version": "…", "rules": [ … ]}`), rejecting duplicate ids.
    public init(json: Data) throws {
        let decoded = try JSONDecoder().decode(RuleCatalog.self, from: json)
        var seen = Set<String>()
        for rule in decoded.rules where !seen.insert(rule.id).inserted {
            throw RuleCatalogError.duplicateRule(rule.id)
        }
        self = decoded
    }

    /// The catalog shipped with the module (`Resources/rules.json`).
    public static let bundled: RuleCatalog = {
        do {
            return try RuleCatalog(json: ScrubberResources.data("rules", "json"))
        } catch {
            fatalError("RCMScrubber's bundled rules.json is unreadable: \(error)")
        }
    }()

    /// The rule with `id`, if the catalog has it.
    public func rule(_ id: String) -> ScrubRule? { rules.first { $0.id == id } }

    /// A copy with the rule `id` switched on or off.
    public func setting(_ id: String, enabled: Bool) -> RuleCatalog {
        var copy = self
        for index in copy.rules.indices where copy.rules[index].id == id { copy.rules[index].enabled = enabled }
        return copy
    }
}

public enum RuleCatalogError: Error, Equatable, CustomStringConvertible {
    case duplicateRule(String)
    case missingResource(String)

    public var description: String {
        switch self {
        case .duplicateRule(let id): "rule \(id) appears more than once in the catalog"
        case .missingResource(let name): "resource \(name) is missing from the RCMScrubber bundle"
        }
    }
}

/// The files shipped under Sources/RCMScrubber/Resources.
public enum ScrubberResources {
    /// The URL of a shipped file, e.g. `url("ncci-ptp-practitioner-sample", "txt")`.
    public static func url(_ name: String, _ ext: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources") else {
            throw RuleCatalogError.missingResource("\(name).\(ext)")
        }
        return url
    }

    static func data(_ name: String, _ ext: String) throws -> Data {
        try Data(contentsOf: url(name, ext))
    }
}

/// One problem the scrubber found.
public struct ScrubFinding: Sendable, Codable, Hashable {
    public var ruleId: String
    public var ruleVersion: Int
    public var severity: ScrubSeverity
    public var message: String
    public var fix: String
    /// JSON pointer into the claim: "/lines/2/modifiers/0".
    public var fieldPath: String

    public init(
        ruleId: String, ruleVersion: Int, severity: ScrubSeverity, message: String, fix: String, fieldPath: String
    ) {
        self.ruleId = ruleId
        self.ruleVersion = ruleVersion
        self.severity = severity
        self.message = message
        self.fix = fix
        self.fieldPath = fieldPath
    }
}

/// What scrubbing one claim found.
public struct ScrubResult: Sendable, Codable, Hashable {
    public var claimId: String
    public var findings: [ScrubFinding]
    /// The rule catalog's version.
    public var rulesVersion: String

    public init(claimId: String, findings: [ScrubFinding], rulesVersion: String) {
        self.claimId = claimId
        self.findings = findings
        self.rulesVersion = rulesVersion
    }

    /// True when no finding is an error (warnings do not block the claim).
    public var isClean: Bool { !findings.contains { $0.severity == .error } }

    public var errors: [ScrubFinding] { findings.filter { $0.severity == .error } }
    public var warnings: [ScrubFinding] { findings.filter { $0.severity == .warning } }
}
