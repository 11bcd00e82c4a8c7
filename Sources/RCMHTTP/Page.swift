import RCMCore

/// One page of a list: its items, and the cursor of the next page when this one is full.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    public let items: [Item]
    public let nextCursor: String?

    /// `cursor` names an item; there is a next page when this one holds `limit` items.
    public init(items: [Item], limit: Int, cursor: (Item) -> String) {
        self.items = items
        self.nextCursor = items.count == limit ? items.last.map(cursor) : nil
    }
}

extension HTTPRequest {
    /// The `limit` query parameter: `fallback` when absent, 422 naming it outside 1...`maximum`.
    public func pageLimit(fallback: Int = 50, maximum: Int = 200) throws -> Int {
        let limit = query["limit"].map { Int($0) ?? -1 } ?? fallback
        guard (1...maximum).contains(limit) else {
            throw Problem.invalid(pointer: "query:limit", "must be 1 to \(maximum)")
        }
        return limit
    }
}
