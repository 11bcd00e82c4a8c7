import Foundation
import RCMCore
import RCMEvents
import Synchronization

enum RabbitMQMetrics {
    static func describe() {
        let metrics = Metrics.shared
        metrics.describe(
            "rcm_broker_confirm_seconds", type: "histogram",
            "Publishing one batch to RabbitMQ until its last publisher confirm, by subscriber.")
        metrics.describe(
            "rcm_broker_consumed_total", type: "counter", "Events processed from RabbitMQ and acknowledged.")
        metrics.describe(
            "rcm_broker_requeued_total", type: "counter", "Events whose processing failed, nacked back to the queue.")
        metrics.describe(
            "rcm_broker_connection_failures_total", type: "counter",
            "Broker connections lost or refused (publishers and consumers reconnect with backoff).")
    }
}

/// Feeds one service's `EventConsumer` from its queue: manual acknowledgements with a prefetch,
/// each batch of deliveries applied through the consumer's inbox (effect and inbox record in one
/// transaction), and acknowledged only after that transaction committed. An event whose
/// processing failed is nacked back to the queue (after a short, growing pause), so that after
/// `deliveryLimit` deliveries the queue dead-letters it; a message that is not an event envelope
/// is rejected to the dead-letter queue at once. Several instances may consume one queue
/// (competing consumers); the inbox makes a redelivery harmless.
///
/// Runs on its own thread with its own connection, and reconnects with backoff.
public final class RabbitMQConsumer: Sendable {
    public let consumer: any EventConsumer
    public let settings: RabbitMQSettings
    private let logger: Logger
    private let running = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let processedCount = Atomic<Int>(0)
    private let connected = Atomic<Bool>(false)

    public init(consumer: any EventConsumer, settings: RabbitMQSettings) {
        self.consumer = consumer
        self.settings = settings
        self.logger = Logger(label: "rabbitmq.consumer.\(consumer.name)")
        RabbitMQMetrics.describe()
    }

    /// Events this instance acknowledged after processing (duplicates included).
    public var processed: Int { processedCount.load(ordering: .relaxed) }

    /// Whether the consumer holds a live subscription now.
    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    public func start() {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let thread = Thread { [self] in
            run()
            stopped.signal()
        }
        thread.name = "amqp-\(consumer.name)"
        thread.start()
    }

    /// Finishes the batch in hand (its acks included), closes the connection and returns.
    public func stop() {
        guard running.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        stopped.wait()
    }

    private var isRunning: Bool { running.load(ordering: .acquiring) }

    private func run() {
        var failures = 0
        var failedBatches = 0
        while isRunning {
            var connection: AMQPConnection?
            do {
                let link = try AMQPConnection(settings: settings, heartbeat: settings.consumerHeartbeat)
                connection = link
                try link.declareQueue(for: consumer.name)
                try link.consume(
                    queue: settings.queue(for: consumer.name), prefetch: settings.prefetch,
                    tag: "\(consumer.name)-\(Identifier.make("c"))")
                if failures > 0 { logger.info("reconnected to the broker", ["attempts": String(failures)]) }
                failures = 0
                connected.store(true, ordering: .relaxed)
                while isRunning {
                    let batch = try receive(on: link)
                    if batch.isEmpty { continue }
                    let failed = try handle(batch, on: link, failedBatches: failedBatches)
                    failedBatches = failed ? failedBatches + 1 : 0
                }
            } catch is Stopping {
                // stop() while the database was down: the connection closes below, unacknowledged.
            } catch {
                connected.store(false, ordering: .relaxed)
                Metrics.shared.increment("rcm_broker_connection_failures_total", [("role", "consumer")])
                failures += 1
                let delay = settings.backoff(afterFailures: failures)
                logger.warning(
                    "broker unavailable",
                    ["error": String(describing: error), "retry.seconds": String(format: "%.2f", delay)])
                connection = nil  // closes (or abandons) the connection: unacked messages go back
                sleep(delay)
            }
            connected.store(false, ordering: .relaxed)
            _ = connection
        }
    }

    /// Sleeps in slices so that `stop()` is not held up.
    private func sleep(_ seconds: TimeInterval) {
        let until = Date().addingTimeInterval(seconds)
        while isRunning, Date() < until { Thread.sleep(forTimeInterval: min(0.05, until.timeIntervalSinceNow)) }
    }

    /// Waits briefly for a delivery, then takes whatever else has arrived, up to the prefetch.
    private func receive(on connection: AMQPConnection) throws -> [AMQPConnection.Delivery] {
        guard let first = try connection.nextDelivery(timeout: 0.2) else { return [] }
        var batch = [first]
        while batch.count < Int(settings.prefetch), let next = try connection.nextDelivery(timeout: 0) {
            batch.append(next)
        }
        return batch
    }

    private struct Stopping: Error {}

    /// Processes a batch through the inbox, then acks what committed; returns whether anything failed.
    private func handle(
        _ batch: [AMQPConnection.Delivery], on connection: AMQPConnection, failedBatches: Int
    ) throws -> Bool {
        var events: [(tag: UInt64, event: EventEnvelope)] = []
        var rejected: [UInt64] = []
        for delivery in batch {
            if let event = try? JSON.decode(EventEnvelope.self, from: delivery.body) {
                events.append((delivery.tag, event))
            } else {
                rejected.append(delivery.tag)
            }
        }
        var failures = events.isEmpty ? [:] : Inbox.process(events.map(\.event), by: consumer)
        // While the consumer's database does not answer, the failures say nothing about the
        // events: keep the deliveries and try again, rather than spend their delivery limit.
        var pause = 0.1
        while !failures.isEmpty, !consumer.database.ping() {
            guard isRunning else { throw Stopping() }  // unacknowledged: the broker requeues them
            logger.warning("database unavailable; holding deliveries", ["deliveries": String(failures.count)])
            sleep(pause)
            pause = min(5, pause * 2)
            let retry = events.map(\.event).filter { failures[$0.id] != nil }
            let again = Inbox.process(retry, by: consumer)
            for event in retry { failures[event.id] = again[event.id] }
        }
        // The inbox transaction has committed (or failed): only now acknowledge.
        if !failures.isEmpty {
            // Hold the failed deliveries a little before handing them back, so that a passing
            // fault does not use up the delivery limit in milliseconds.
            sleep(min(1.0, 0.05 * pow(2, Double(min(failedBatches, 10)))))
        }
        for tag in rejected {
            logger.error("not an event envelope; rejected to the dead-letter queue", ["delivery.tag": String(tag)])
            try connection.reject(tag, requeue: false)
        }
        if failures.isEmpty && rejected.isEmpty, let last = batch.last {
            try connection.ack(last.tag, multiple: true)
        } else {
            for (tag, event) in events {
                if let failure = failures[event.id] {
                    logger.warning(
                        "event processing failed; returned to the queue",
                        ["event.id": event.id, "event.type": event.type, "error": failure])
                    try connection.nack(tag, requeue: true)
                } else {
                    try connection.ack(tag)
                }
            }
        }
        let done = events.count - failures.count
        processedCount.add(done, ordering: .relaxed)
        if !failures.isEmpty {
            Metrics.shared.increment(
                "rcm_broker_requeued_total", [("subscriber", consumer.name)], by: Double(failures.count))
        }
        Metrics.shared.increment("rcm_broker_consumed_total", [("subscriber", consumer.name)], by: Double(done))
        return !failures.isEmpty
    }
}
