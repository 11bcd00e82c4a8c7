import Foundation
import Synchronization

/// Structured logs as JSON lines on standard error. Metadata keys are dotted (`request.id`);
/// never put PHI, tokens or secrets in a message or metadata.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warning", "error"][rawValue] }
    }

    public let label: String
    /// Fields every line of this logger carries, in the order set. A list, not a dictionary: a
    /// request's logger gets two fields on every request and logs on few of them.
    public private(set) var metadata: [(key: String, value: String)]
    private static let threshold = Atomic<Int>(Level.info.rawValue)
    private static let output = Mutex<Void>(())

    public init(label: String, metadata: [String: String] = [:]) {
        self.label = label
        self.metadata = metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// Sets a metadata field (replacing one of the same key).
    public mutating func set(_ key: String, _ value: String) {
        if let index = metadata.firstIndex(where: { $0.key == key }) {
            metadata[index].value = value
        } else {
            if metadata.isEmpty { metadata.reserveCapacity(4) }  // one allocation for a request's fields
            metadata.append((key, value))
        }
    }

    public static func setLevel(_ level: Level) { threshold.store(level.rawValue, ordering: .relaxed) }

    /// The level named `debug`, `info`, `warning` or `error`.
    public static func level(named name: String) -> Level? {
        [Level.debug, .info, .warning, .error].first { $0.name == name.lowercased() }
    }

    public func log(_ level: Level, _ message: String, _ extra: [String: String] = [:]) {
        guard level.rawValue >= Logger.threshold.load(ordering: .relaxed) else { return }
        var fields = Dictionary(metadata, uniquingKeysWith: { _, last in last }).merging(extra) { _, new in new }
        fields["ts"] = Timestamp.now()
        fields["level"] = level.name
        fields["logger"] = label
        fields["msg"] = message
        guard let line = try? JSON.encode(fields) else { return }
        Logger.output.withLock { _ in
            FileHandle.standardError.write(Data(line + [10]))
        }
    }

    public func debug(_ message: String, _ extra: [String: String] = [:]) { log(.debug, message, extra) }
    public func info(_ message: String, _ extra: [String: String] = [:]) { log(.info, message, extra) }
    public func warning(_ message: String, _ extra: [String: String] = [:]) { log(.warning, message, extra) }
    public func error(_ message: String, _ extra: [String: String] = [:]) { log(.error, message, extra) }
}
