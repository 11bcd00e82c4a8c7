import Foundation

/// One payer's claim rules (a row of the payer table, which is data).
public struct PayerRules: Sendable, Codable, Hashable {
    public var payerId: String
    public var name: String
    /// Days from the date of service to submission the payer accepts; nil uses the table's default.
    public var timelyFilingDays: Int?
    /// The payer wants a referring provider on every claim (e.g. specialist visits under a referral plan).
    public var requiresReferringNPI: Bool
    /// Modifiers the payer does not accept (e.g. Medicare's ABN modifiers GA/GY/GZ at a commercial payer).
    public var disallowedModifiers: [String]
    /// Most service lines the payer accepts on one claim.
    public var maxLinesPerClaim: Int?

    public init(
        payerId: String, name: String, timelyFilingDays: Int? = nil, requiresReferringNPI: Bool = false,
        disallowedModifiers: [String] = [], maxLinesPerClaim: Int? = nil
    ) {
        self.payerId = payerId
        self.name = name
        self.timelyFilingDays = timelyFilingDays
        self.requiresReferringNPI = requiresReferringNPI
        self.disallowedModifiers = disallowedModifiers
        self.maxLinesPerClaim = maxLinesPerClaim
    }
}

/// The payer table: per-payer rules and the default timely-filing limit for payers not listed.
public struct PayerTable: Sendable, Codable, Hashable {
    public var version: String
    /// Timely-filing limit for a payer not in the table: 365 days, Medicare's (42 CFR 424.44).
    public var defaultTimelyFilingDays: Int
    public var payers: [PayerRules] {
        didSet { index = Self.index(payers) }
    }

    public init(version: String, defaultTimelyFilingDays: Int = 365, payers: [PayerRules]) {
        self.version = version
        self.defaultTimelyFilingDays = defaultTimelyFilingDays
        self.payers = payers
        index = Self.index(payers)
    }

    public init(json: Data) throws {
        let decoded = try JSONDecoder().decode(Self.self, from: json)
        self.init(
            version: decoded.version, defaultTimelyFilingDays: decoded.defaultTimelyFilingDays,
            payers: decoded.payers)
    }

    /// The sample table shipped with the module (`Resources/payers.json`).
    public static let bundled: PayerTable = {
        do {
            return try PayerTable(json: ScrubberResources.data("payers", "json"))
        } catch {
            fatalError("RCMScrubber's bundled payers.json is unreadable: \(error)")
        }
    }()

    private var index: [String: Int] = [:]

    private static func index(_ payers: [PayerRules]) -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, payer) in payers.enumerated() { index[payer.payerId.uppercased()] = position }
        return index
    }

    enum CodingKeys: String, CodingKey {
        case version, defaultTimelyFilingDays, payers
    }

    /// The rules for `payerId`, when the table has the payer.
    public func rules(for payerId: String?) -> PayerRules? {
        guard let payerId, let position = index[payerId.uppercased()] else { return nil }
        return payers[position]
    }

    /// The timely-filing limit in days for `payerId`.
    public func timelyFilingDays(for payerId: String?) -> Int {
        rules(for: payerId)?.timelyFilingDays ?? defaultTimelyFilingDays
    }
}
