import Synchronization

/// Carries a batch of events from an outbox to one subscriber. Embedded, the subscriber is called
/// in-process; a broker transport (RabbitMQ) publishes to the subscriber's queue and returns once
/// the broker confirmed. Returning without throwing means every event not listed in the result is
/// delivered; listed ones failed with the given message.
public protocol EventTransport: Sendable {
    func deliver(_ events: [EventEnvelope], to subscriber: String) throws -> [String: String]
}

/// The subscriber is not reachable now (not in this process, broker down): try again later
/// without counting an attempt toward the dead-letter limit.
public struct SubscriberUnavailable: Error, CustomStringConvertible {
    public let subscriber: String
    public var description: String { "subscriber \(subscriber) is not reachable" }
    public init(subscriber: String) { self.subscriber = subscriber }
}

/// Delivers to consumers registered in this process through their inboxes.
public final class InProcessTransport: EventTransport {
    private let consumers = Mutex<[String: any EventConsumer]>([:])

    public init() {}

    public func register(_ consumer: any EventConsumer) {
        consumers.withLock { $0[consumer.name] = consumer }
    }

    public func deliver(_ events: [EventEnvelope], to subscriber: String) throws -> [String: String] {
        guard let consumer = consumers.withLock({ $0[subscriber] }) else {
            throw SubscriberUnavailable(subscriber: subscriber)
        }
        return Inbox.process(events, by: consumer)
    }
}
