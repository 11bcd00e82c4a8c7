import Foundation

/// Where the broker is and how the event topology is named: one durable topic exchange, one
/// quorum queue per consuming service bound to `<subscriber>.#`, and a dead-letter exchange and
/// queue that take what a queue gives up after `deliveryLimit` deliveries.
public struct RabbitMQSettings: Sendable {
    public var host = "127.0.0.1"
    public var port: Int32 = 5672
    public var user = "guest"
    public var password = "guest"
    public var virtualHost = "/"

    public var exchange = "rcm.events"
    public var deadLetterExchange = "rcm.dead"
    public var deadLetterQueue = "rcm.dead-letters"
    /// The queue of subscriber `claim` is `<queuePrefix>claim`.
    public var queuePrefix = "rcm."
    /// Deliveries of one message before the queue dead-letters it (`x-delivery-limit`).
    public var deliveryLimit = 8

    /// Publishes in flight before the publisher waits for confirms.
    public var confirmWindow = 200
    /// Times a publisher publishes nacked messages again, within one delivery, before it reports them.
    public var nackRetries = 3
    /// Unacknowledged deliveries a consumer holds (`basic.qos`).
    public var prefetch: UInt16 = 200
    /// How long a publisher waits for an outstanding confirm before it gives the connection up.
    public var confirmTimeout: TimeInterval = 15
    public var connectTimeout: TimeInterval = 5
    /// Heartbeat of consumer connections, seconds (publishers use none: they are idle between batches).
    public var consumerHeartbeat: Int32 = 30
    /// Reconnect backoff: doubles from `baseBackoff` after each failed attempt, up to `maxBackoff`.
    public var baseBackoff: TimeInterval = 0.1
    public var maxBackoff: TimeInterval = 10

    public init() {}

    /// Reads `amqp://user:password@host:port/vhost` (the vhost percent-encoded: `%2F` is `/`;
    /// an empty path is `/`).
    public init(url text: String) throws {
        guard let components = URLComponents(string: text), components.scheme == "amqp" else {
            throw RabbitMQError("the broker URL must look like amqp://user:password@host:port/vhost")
        }
        self.init()
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = Int32(port) }
        if let user = components.user { self.user = user }
        if let password = components.password { self.password = password }
        let path = components.percentEncodedPath
        if path.count > 1 {
            virtualHost = String(path.dropFirst()).removingPercentEncoding ?? String(path.dropFirst())
        }
    }

    /// These settings with every exchange and queue name under `prefix` (tests, benchmarks and
    /// installations that share a virtual host): `<prefix>.events`, `<prefix>.dead`, ...
    public func namespaced(_ prefix: String) -> RabbitMQSettings {
        var copy = self
        copy.exchange = prefix + ".events"
        copy.deadLetterExchange = prefix + ".dead"
        copy.deadLetterQueue = prefix + ".dead-letters"
        copy.queuePrefix = prefix + "."
        return copy
    }

    public func queue(for subscriber: String) -> String { queuePrefix + subscriber }

    /// Routing key of a delivery: the queue of `subscriber` is bound to `<subscriber>.#`.
    public func routingKey(subscriber: String, type: String) -> String { subscriber + "." + type }

    func backoff(afterFailures failures: Int) -> TimeInterval {
        min(maxBackoff, baseBackoff * pow(2, Double(max(0, min(failures - 1, 20)))))
    }
}

public struct RabbitMQError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
