import Foundation
import RCMCore
import RCMEvents
import RCMStorage
import RCMTestSupport
import Testing

@testable import RCMRabbitMQ

@Suite("RabbitMQ settings and failure without a broker")
struct RabbitMQSettingsTests {
    @Test("an amqp URL gives host, port, credentials and the percent-decoded virtual host")
    func parsesURL() throws {
        let settings = try RabbitMQSettings(url: "amqp://rcm:s3cret@10.1.2.3:5673/billing%2Fprod")
        #expect(settings.host == "10.1.2.3")
        #expect(settings.port == 5673)
        #expect(settings.user == "rcm")
        #expect(settings.password == "s3cret")
        #expect(settings.virtualHost == "billing/prod")
        #expect(try RabbitMQSettings(url: "amqp://127.0.0.1:5673/").virtualHost == "/")
        #expect(throws: RabbitMQError.self) { try RabbitMQSettings(url: "http://127.0.0.1/") }
        let named = settings.namespaced("rcm")
        #expect(named.exchange == "rcm.events")
        #expect(named.queue(for: "claim") == "rcm.claim")
        #expect(named.routingKey(subscriber: "claim", type: "invoice.issued") == "claim.invoice.issued")
    }

    @Test("only a W3C traceparent becomes the traceparent header")
    func traceparent() {
        #expect(TraceContext.isTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(!TraceContext.isTraceparent("req_1234"))
        #expect(!TraceContext.isTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"))
    }

    @Test("a broker that is not there: SubscriberUnavailable, rows stay pending uncounted, reconnects back off")
    func brokerDown() throws {
        var settings = try RabbitMQSettings(url: "amqp://guest:guest@127.0.0.1:1/")
        settings.baseBackoff = 5
        let publisher = try Publisher(settings: settings)
        try publisher.publish(3)
        #expect(try publisher.relay.relayOnce() == 0)
        #expect(try publisher.count(status: "pending") == 3)
        let attempts = try publisher.database.read {
            try $0.queryFirst("SELECT MAX(attempts) AS n FROM outbox_deliveries")?.int("n")
        }
        #expect(attempts == 0)
        // Within the backoff the transport does not even try to connect.
        let event = try publisher.publish(1)
        let started = Date()
        #expect(throws: SubscriberUnavailable.self) { try publisher.transport.deliver(event, to: "counter") }
        #expect(Date().timeIntervalSince(started) < 0.05)
    }
}

@Suite("RabbitMQ transport and consumer against a real broker", .serialized, .enabled(if: !Broker.skipped))
struct RabbitMQBrokerTests {
    @Test("publish with confirms, consume through the inbox: one effect per event, also when redelivered")
    func publishAndConsume() throws {
        let settings = try Broker.settings()
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["counter"]) }
        let publisher = try Publisher(settings: settings)
        let events = try publisher.publish(300)
        try publisher.drain()
        #expect(try publisher.count(status: "delivered") == 300)
        // Confirmed means in the queue, before any consumer exists.
        #expect(try RabbitMQTopology.readyCount(settings: settings, subscriber: "counter") == 300)
        // The same 50 events again, as a relay that lost its confirms would send them.
        #expect(try publisher.transport.deliver(Array(events.prefix(50)), to: "counter").isEmpty)

        let consumer = RecordingConsumer(database: try RecordingConsumer.makeDatabase("counter"))
        let rabbit = RabbitMQConsumer(consumer: consumer, settings: settings)
        rabbit.start()
        defer { rabbit.stop() }
        #expect(Broker.eventually { rabbit.processed == 350 })
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try consumer.effectCount() == 300)
        #expect(try consumer.distinctEffects() == 300)
        #expect(try RabbitMQTopology.readyCount(settings: settings, subscriber: "counter") == 0)
    }

    @Test("a message is persistent and carries id, type, correlation id and the envelope's headers")
    func messageProperties() throws {
        let settings = try Broker.settings()
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["inspect"]) }
        let publisher = try Publisher(settings: settings, subscriber: "inspect")
        let event = try #require(try publisher.publish(1).first)
        try publisher.drain()
        let connection = try AMQPConnection(settings: settings, heartbeat: 0)
        let message = try #require(try connection.get(queue: settings.queue(for: "inspect")))
        #expect(message.deliveryMode == 2)
        #expect(message.messageId == event.id)
        #expect(message.type == "thing.happened")
        #expect(message.correlationId == event.correlationId)
        #expect(message.headers["schema-version"] == "1")
        #expect(message.headers["organization-id"] == "org_1")
        #expect(message.headers["source"] == "source")
        #expect(message.headers["traceparent"] == event.correlationId)
        #expect(try JSON.decode(EventEnvelope.self, from: message.body) == event)
    }

    @Test("a message no queue takes comes back (mandatory) and is reported as failed, not delivered")
    func unroutable() throws {
        let settings = try Broker.settings()
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["gone"]) }
        let publisher = try Publisher(settings: settings, subscriber: "gone")
        let first = try publisher.publish(1)
        #expect(try publisher.transport.deliver(first, to: "gone").isEmpty)
        // The queue disappears behind the publisher's back (its connection declared it already).
        let other = try AMQPConnection(settings: settings, heartbeat: 0)
        try other.deleteQueue(settings.queue(for: "gone"))
        let second = try publisher.publish(2)
        let failures = try publisher.transport.deliver(second, to: "gone")
        #expect(Set(failures.keys) == Set(second.map(\.id)))
        #expect(failures.values.allSatisfy { $0.hasPrefix("unroutable") })
    }

    @Test("confirms that do not come (publishing blocked by a memory alarm) fail the batch; the next call reconnects")
    func confirmTimeout() throws {
        var settings = try Broker.settings()
        settings.confirmTimeout = 1
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["counter"]) }
        let publisher = try Publisher(settings: settings)
        #expect(try publisher.transport.deliver(try publisher.publish(1), to: "counter").isEmpty)
        let blocked = try publisher.publish(3)
        // A watermark of 0 sets the memory alarm off at once: the broker stops reading publishers.
        try Broker.control("set_vm_memory_high_watermark", "0")
        let failures: [String: String]
        do {
            failures = try publisher.transport.deliver(blocked, to: "counter")
        } catch {
            try? Broker.control("set_vm_memory_high_watermark", "0.4")
            throw error
        }
        try Broker.control("set_vm_memory_high_watermark", "0.4")
        #expect(Set(failures.keys) == Set(blocked.map(\.id)))
        #expect(failures.values.allSatisfy { $0.hasPrefix("no publisher confirm") })
        Thread.sleep(forTimeInterval: 0.6)  // past the reconnect backoff
        #expect(try publisher.transport.deliver(blocked, to: "counter").isEmpty)
    }

    @Test("a consumer that dies before acknowledging: the messages come back and each has one effect")
    func crashBeforeAck() throws {
        let settings = try Broker.settings()
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["counter"]) }
        let publisher = try Publisher(settings: settings)
        try publisher.publish(4)
        try publisher.drain()
        let consumer = RecordingConsumer(database: try RecordingConsumer.makeDatabase("counter"))

        // The first instance takes all four, commits two through the inbox, and dies unacknowledged.
        do {
            let doomed = try AMQPConnection(settings: settings, heartbeat: 0)
            try doomed.consume(queue: settings.queue(for: "counter"), prefetch: 10, tag: "doomed")
            var deliveries: [AMQPConnection.Delivery] = []
            while deliveries.count < 4, let delivery = try doomed.nextDelivery(timeout: 5) {
                deliveries.append(delivery)
            }
            #expect(deliveries.count == 4)
            let committed = try deliveries.prefix(2).map { try JSON.decode(EventEnvelope.self, from: $0.body) }
            #expect(Inbox.process(committed, by: consumer).isEmpty)
            doomed.abandon()
        }
        #expect(try consumer.effectCount() == 2)

        let rabbit = RabbitMQConsumer(consumer: consumer, settings: settings)
        rabbit.start()
        defer { rabbit.stop() }
        #expect(Broker.eventually { rabbit.processed == 4 })
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try consumer.effectCount() == 4)
        #expect(try consumer.distinctEffects() == 4)
    }

    @Test("two instances of a service share its queue and process each event once")
    func competingConsumers() throws {
        var settings = try Broker.settings()
        settings.prefetch = 5
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["counter"]) }
        let publisher = try Publisher(settings: settings)
        let database = try RecordingConsumer.makeDatabase("counter")
        let first = RabbitMQConsumer(
            consumer: RecordingConsumer(database: database, instance: "a", delay: 0.002), settings: settings)
        let second = RabbitMQConsumer(
            consumer: RecordingConsumer(database: database, instance: "b", delay: 0.002), settings: settings)
        first.start()
        second.start()
        defer {
            first.stop()
            second.stop()
        }
        #expect(Broker.eventually { first.isConnected && second.isConnected })
        try publisher.publish(400)
        try publisher.drain()
        let counter = RecordingConsumer(database: database)
        #expect(try Broker.eventually { try counter.effectCount() == 400 })
        #expect(try counter.distinctEffects() == 400)
        let (a, b) = (try counter.effectCount(instance: "a"), try counter.effectCount(instance: "b"))
        #expect(a > 0 && b > 0, "a: \(a), b: \(b)")
    }

    @Test("a poison event ends in the dead-letter queue after the delivery limit; a non-envelope at once")
    func poisonMessage() throws {
        var settings = try Broker.settings()
        settings.deliveryLimit = 3
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["counter"]) }
        let publisher = try Publisher(settings: settings)
        let poison = try #require(try publisher.publish(1, type: "thing.poison").first)
        try publisher.publish(5)
        try publisher.drain()
        #expect(try publisher.count(status: "delivered") == 6)
        let consumer = RecordingConsumer(database: try RecordingConsumer.makeDatabase("counter"))
        let rabbit = RabbitMQConsumer(consumer: consumer, settings: settings)
        rabbit.start()
        defer { rabbit.stop() }

        let inspector = try AMQPConnection(settings: settings, heartbeat: 0)
        var dead: AMQPConnection.Fetched?
        #expect(
            try Broker.eventually(timeout: 60) {
                dead = try inspector.get(queue: settings.deadLetterQueue)
                return dead != nil
            })
        #expect(dead?.messageId == poison.id)
        #expect(try consumer.effectCount() == 5)

        // Not an event at all: rejected straight to the dead letters.
        try inspector.publish(
            AMQPConnection.Message(
                messageId: "junk", type: "thing.junk", correlationId: "c", appId: "test", headers: [],
                body: Array("not json".utf8)),
            routingKey: "counter.thing.junk")
        #expect(
            try Broker.eventually {
                dead = try inspector.get(queue: settings.deadLetterQueue)
                return dead != nil
            })
        #expect(dead?.body == Array("not json".utf8))
    }

    @Test("while the consumer's database is down, deliveries are held, not spent toward the dead letters")
    func databaseDown() throws {
        var settings = try Broker.settings()
        settings.deliveryLimit = 3
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["counter"]) }
        let publisher = try Publisher(settings: settings)
        try publisher.publish(5)
        try publisher.drain()
        let database = SwitchableDatabase(try RecordingConsumer.makeDatabase("counter"))
        database.down.store(true, ordering: .relaxed)
        let consumer = RecordingConsumer(database: database)
        let rabbit = RabbitMQConsumer(consumer: consumer, settings: settings)
        rabbit.start()
        defer { rabbit.stop() }
        // Nacked right away, three deliveries would take well under a second to dead-letter them.
        Thread.sleep(forTimeInterval: 2)
        database.down.store(false, ordering: .relaxed)
        #expect(try Broker.eventually { try consumer.effectCount() == 5 })
        let inspector = try AMQPConnection(settings: settings, heartbeat: 0)
        #expect(try inspector.readyCount(of: settings.deadLetterQueue) == 0)
    }

    @Test("the broker restarts while the relay publishes: rows stay pending until confirmed, nothing is lost")
    func brokerRestart() throws {
        let settings = try Broker.settings()
        defer { try? RabbitMQTopology.delete(settings: settings, subscribers: ["counter"]) }
        let publisher = try Publisher(settings: settings)
        let consumer = RecordingConsumer(database: try RecordingConsumer.makeDatabase("counter"))
        let rabbit = RabbitMQConsumer(consumer: consumer, settings: settings)
        rabbit.start()
        publisher.relay.start()
        defer {
            publisher.relay.stop()
            rabbit.stop()
        }
        try publisher.publish(100)
        #expect(try Broker.eventually { try publisher.count(status: "delivered") == 100 })

        // Stop the broker while a large batch is going out, and publish more while it is down.
        try publisher.publish(2000)
        do {
            try Broker.control("stop_app")
            try publisher.publish(300)
            Thread.sleep(forTimeInterval: 1.5)
            let delivered = try publisher.count(status: "delivered")
            #expect(delivered < 2400)
            #expect(try publisher.count(status: "pending") == 2400 - delivered)
            #expect(try publisher.count(status: "dead") == 0)
            let attempts = try publisher.database.read {
                try $0.queryFirst(
                    "SELECT COALESCE(MAX(attempts), 0) AS n FROM outbox_deliveries WHERE status = 'pending'")?.int("n")
            }
            #expect(attempts == 0, "a broker outage must not count toward the dead-letter limit")
        } catch {
            try? Broker.control("start_app")
            throw error
        }
        try Broker.control("start_app")
        try Broker.control("await_startup")
        try publisher.publish(100)
        #expect(try Broker.eventually(timeout: 90) { try publisher.count(status: "delivered") == 2500 })
        #expect(try Broker.eventually(timeout: 60) { try consumer.distinctEffects() == 2500 })
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try consumer.effectCount() == 2500)
    }
}
