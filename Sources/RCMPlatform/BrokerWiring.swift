import Foundation
import RCMCore
import RCMEvents
import RCMRabbitMQ
import RCMStorage
import Synchronization

/// Events through RabbitMQ (`RCM_EVENT_TRANSPORT=rabbitmq`): every hosted service's relay
/// publishes with `RabbitMQTransport`, and every hosted service's consumer reads its queue with a
/// `RabbitMQConsumer`. Nil when events stay in-process.
final class BrokerWiring: Sendable {
    let settings: RabbitMQSettings
    let transport: RabbitMQTransport
    private let consumers = Mutex<[RabbitMQConsumer]>([])
    private let started = Atomic<Bool>(false)
    private let logger = Logger(label: "broker")

    static func make(_ configuration: PlatformConfiguration) throws -> BrokerWiring? {
        guard configuration.eventTransport == .rabbitmq else { return nil }
        let settings = try RabbitMQSettings(url: configuration.amqpURL).namespaced(configuration.amqpNamespace)
        return BrokerWiring(settings: settings)
    }

    init(settings: RabbitMQSettings) {
        self.settings = settings
        self.transport = RabbitMQTransport(settings: settings)
    }

    func add(_ consumer: any EventConsumer) {
        consumers.withLock { $0.append(RabbitMQConsumer(consumer: consumer, settings: settings)) }
    }

    /// Starts the consumers (once).
    func start() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let all = consumers.withLock { $0 }
        all.forEach { $0.start() }
        logger.info(
            "consuming from RabbitMQ",
            [
                "amqp.host": "\(settings.host):\(settings.port)", "amqp.exchange": settings.exchange,
                "queues": all.map { settings.queue(for: $0.consumer.name) }.joined(separator: ","),
            ])
    }

    /// Stops the consumers and closes the publishers' connections (the relays have stopped).
    func stop() {
        consumers.withLock { $0 }.forEach { $0.stop() }
        transport.close()
    }

    /// `Platform.drainEvents` through the broker: relay what is due, then wait until the hosted
    /// consumers have processed every delivery the broker confirmed (their inboxes hold the
    /// event ids), and again until nothing moves. A delivery still unprocessed after `patience`
    /// (a consumer keeps failing on it) is left to the broker's redelivery and dead-lettering.
    func drain(relays: [OutboxRelay], maxRounds: Int, patience: TimeInterval = 10) throws {
        start()
        for _ in 0..<maxRounds {
            var moved = 0
            for relay in relays { moved += try relay.relayOnce() }
            waitForConsumers(relays: relays, patience: patience)
            if moved == 0 { return }
        }
    }

    private func waitForConsumers(relays: [OutboxRelay], patience: TimeInterval) {
        let deadline = Date().addingTimeInterval(patience)
        let all = consumers.withLock { $0 }.map(\.consumer)
        while true {
            var pending = 0
            for consumer in all {
                var delivered: Set<String> = []
                for relay in relays {
                    let deliveries = (try? relay.outbox.deliveries(to: consumer.name)) ?? []
                    for delivery in deliveries where delivery.status == "delivered" {
                        delivered.insert(delivery.eventId)
                    }
                }
                guard !delivered.isEmpty else { continue }
                let seen =
                    (try? consumer.database.read { connection in
                        try connection.query("SELECT event_id FROM inbox_events").map { try $0.string("event_id") }
                    }) ?? []
                pending += delivered.subtracting(seen).count
            }
            if pending == 0 { return }
            if Date() >= deadline {
                logger.warning("consumers have not processed every delivered event", ["pending": String(pending)])
                return
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// Deletes this installation's queues and exchanges (tests clean up after themselves): those of
    /// every subscribing service, hosted here or not (a relay declares the queue it publishes to).
    func deleteTopology() {
        let subscribers = Platform.serviceTypes.filter { !$0.subscribedTypes.isEmpty }.map { $0.name }
        try? RabbitMQTopology.delete(settings: settings, subscribers: subscribers)
    }
}
