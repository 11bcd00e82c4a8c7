/// Declares or removes an installation's exchanges and queues outside the transport and the
/// consumers (which declare what they use when they connect).
public enum RabbitMQTopology {
    /// Declares the exchanges, the dead-letter queue and the subscribers' queues.
    public static func declare(settings: RabbitMQSettings, subscribers: [String]) throws {
        let connection = try AMQPConnection(settings: settings, heartbeat: 0)
        for subscriber in subscribers { try connection.declareQueue(for: subscriber) }
    }

    /// Deletes the subscribers' queues, the dead-letter queue and both exchanges (tests, tools).
    public static func delete(settings: RabbitMQSettings, subscribers: [String]) throws {
        let connection = try AMQPConnection(settings: settings, heartbeat: 0)
        for subscriber in subscribers { try connection.deleteQueue(settings.queue(for: subscriber)) }
        try connection.deleteQueue(settings.deadLetterQueue)
        try connection.deleteExchange(settings.exchange)
        try connection.deleteExchange(settings.deadLetterExchange)
    }

    /// Messages ready (not delivered to a consumer) in a subscriber's queue.
    public static func readyCount(settings: RabbitMQSettings, subscriber: String) throws -> Int {
        let connection = try AMQPConnection(settings: settings, heartbeat: 0)
        return try connection.readyCount(of: settings.queue(for: subscriber))
    }
}
