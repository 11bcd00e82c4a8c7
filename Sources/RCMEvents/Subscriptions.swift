/// Which subscriber (a consuming service) wants which event types. A pattern is an exact type,
/// a prefix ending in `.*` (`invoice.*`), or `*` for everything.
public struct Subscriptions: Sendable {
    public private(set) var entries: [(subscriber: String, patterns: [String])] = []

    public init() {}

    public mutating func add(_ subscriber: String, patterns: [String]) {
        entries.append((subscriber, patterns))
    }

    public func subscribers(of type: String) -> [String] {
        entries.filter { entry in entry.patterns.contains { Subscriptions.matches($0, type) } }.map(\.subscriber)
    }

    /// Every subscriber, each once, in the order they were added.
    public var subscriberNames: [String] {
        var seen: Set<String> = []
        return entries.map(\.subscriber).filter { seen.insert($0).inserted }
    }

    /// Whether `subscriber` wants events of `type`.
    public func wants(_ subscriber: String, _ type: String) -> Bool {
        entries.contains { entry in
            entry.subscriber == subscriber && entry.patterns.contains { Subscriptions.matches($0, type) }
        }
    }

    static func matches(_ pattern: String, _ type: String) -> Bool {
        if pattern == "*" || pattern == type { return true }
        if pattern.hasSuffix(".*") { return type.hasPrefix(pattern.dropLast(1)) }
        return false
    }
}
