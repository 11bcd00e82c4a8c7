/// The clinic's own codes (`OPD001`), from its charge master: searchable like the public sets.
public struct LocalCodeSet: Sendable {
    public let index: CodeIndex

    /// Codes keep their spelling; search and lookup ignore case.
    public init(items: [(code: String, description: String)]) {
        index = CodeIndex(
            system: .local,
            entries: items.map { CodeInfo(system: .local, code: $0.code, description: $0.description, billable: true) })
    }

    public static let empty = LocalCodeSet(items: [])
}
