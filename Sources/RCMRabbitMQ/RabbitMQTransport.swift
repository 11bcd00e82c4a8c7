import Foundation
import RCMCore
import RCMEvents
import Synchronization

/// Publishes outbox deliveries to RabbitMQ: each event to the topic exchange with routing key
/// `<subscriber>.<type>`, persistent, with publisher confirms. `deliver` returns only after the
/// broker confirmed (or refused) every message of the batch, so the relay marks a row delivered
/// only after its confirm. A broker that is down or a connection that breaks throws
/// `SubscriberUnavailable`: the relay retries later without counting an attempt, and the next
/// call reconnects (with backoff).
///
/// A connection is not thread-safe, so each calling thread (one relay thread per service, or a
/// test's thread) gets its own, kept in that thread's dictionary.
public final class RabbitMQTransport: EventTransport {
    public let settings: RabbitMQSettings
    private let key = "rcm.amqp.publisher." + UUID().uuidString
    private let logger = Logger(label: "rabbitmq.publisher")
    /// Every thread's link, for `close()`.
    private let links = Mutex<[Link]>([])

    /// Called after each delivery with the publish-to-confirm time of each confirmed message,
    /// in seconds (benchmarks).
    private let confirmObserver: (@Sendable ([Double]) -> Void)?

    public init(settings: RabbitMQSettings, confirmObserver: (@Sendable ([Double]) -> Void)? = nil) {
        self.settings = settings
        self.confirmObserver = confirmObserver
        RabbitMQMetrics.describe()
    }

    public func deliver(_ events: [EventEnvelope], to subscriber: String) throws -> [String: String] {
        guard !events.isEmpty else { return [:] }
        let link = threadLink()
        let connection: AMQPConnection
        do {
            connection = try link.connection()
        } catch {
            throw SubscriberUnavailable(subscriber: subscriber)
        }
        do {
            try connection.declareQueue(for: subscriber)
            let started = DispatchTime.now().uptimeNanoseconds
            var failures = try publishConfirmed(events, to: subscriber, on: connection)
            // A nack is the broker declining responsibility for now (seen on a quorum queue in its
            // first milliseconds): publish those again, a few times, before reporting them.
            for round in 1...max(1, settings.nackRetries) where settings.nackRetries > 0 {
                let nacked = events.filter { failures[$0.id] == RabbitMQTransport.nacked }
                if nacked.isEmpty { break }
                Thread.sleep(forTimeInterval: 0.01 * Double(round))
                let again = try publishConfirmed(nacked, to: subscriber, on: connection)
                for event in nacked { failures[event.id] = again[event.id] }
                logger.info(
                    "republished nacked deliveries",
                    [
                        "subscriber": subscriber, "count": String(nacked.count), "round": String(round),
                        "still.failed": String(again.count),
                    ])
            }
            Metrics.shared.observe(
                "rcm_broker_confirm_seconds", [("subscriber", subscriber)],
                seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            connection.releaseBuffers()
            if let (id, reason) = failures.first {
                logger.warning(
                    "the broker refused deliveries",
                    ["subscriber": subscriber, "count": String(failures.count), "event.id": id, "error": reason])
            }
            return failures
        } catch {
            link.drop(after: error)
            throw SubscriberUnavailable(subscriber: subscriber)
        }
    }

    /// Publishes with at most `confirmWindow` messages unconfirmed; returns the nacked, returned
    /// and (after `confirmTimeout`) unconfirmed events with a reason.
    func publishConfirmed(
        _ events: [EventEnvelope], to subscriber: String, on connection: AMQPConnection
    ) throws -> [String: String] {
        var outstanding: [UInt64: (id: String, sentAt: UInt64)] = [:]  // delivery tag → event
        var failures: [String: String] = [:]
        var confirmed: Set<String> = []
        var latencies: [Double] = []
        if confirmObserver != nil { latencies.reserveCapacity(events.count) }
        defer { if let confirmObserver, !latencies.isEmpty { confirmObserver(latencies) } }
        func settle(_ tag: UInt64, multiple: Bool, failure: String?) {
            let now = DispatchTime.now().uptimeNanoseconds
            let tags = multiple ? outstanding.keys.filter { $0 <= tag } : [tag]
            for tag in tags {
                guard let (id, sentAt) = outstanding.removeValue(forKey: tag) else { continue }
                if let failure {
                    if failures[id] == nil { failures[id] = failure }
                } else {
                    confirmed.insert(id)
                    if confirmObserver != nil { latencies.append(Double(now - sentAt) / 1e9) }
                }
            }
        }
        func awaitConfirmation() throws {
            guard let confirmation = try connection.nextConfirmation(timeout: settings.confirmTimeout) else {
                throw ConfirmTimeout()
            }
            switch confirmation {
            case .ack(let tag, let multiple): settle(tag, multiple: multiple, failure: nil)
            case .nack(let tag, let multiple): settle(tag, multiple: multiple, failure: RabbitMQTransport.nacked)
            case .returned(let messageId): failures[messageId] = "unroutable: no queue is bound for \(subscriber)"
            }
        }
        do {
            for event in events {
                let tag = try connection.publish(
                    try RabbitMQTransport.message(for: event),
                    routingKey: settings.routingKey(subscriber: subscriber, type: event.type))
                outstanding[tag] = (event.id, DispatchTime.now().uptimeNanoseconds)
                while outstanding.count >= settings.confirmWindow { try awaitConfirmation() }
            }
            while !outstanding.isEmpty { try awaitConfirmation() }
        } catch is ConfirmTimeout {
            // The broker stopped answering: what it did not confirm counts as not delivered (it
            // may still arrive; the consumer's inbox absorbs the duplicate), and the connection
            // is given up.
            for event in events where failures[event.id] == nil && !confirmed.contains(event.id) {
                failures[event.id] = "no publisher confirm within \(settings.confirmTimeout) s"
            }
            threadLink().drop(after: RabbitMQError("publisher confirm timeout"))
        }
        return failures
    }

    private struct ConfirmTimeout: Error {}
    static let nacked = "the broker nacked the message"

    /// The AMQP message of an event: the envelope as JSON, with its metadata as properties and headers.
    static func message(for event: EventEnvelope) throws -> AMQPConnection.Message {
        var headers: [(String, AMQPConnection.Header)] = [
            ("schema-version", .integer(Int64(event.schemaVersion))),
            ("organization-id", .text(event.organizationId)),
            ("source", .text(event.source)),
            ("occurred-at", .text(event.occurredAt)),
        ]
        if let location = event.locationId { headers.append(("location-id", .text(location))) }
        if TraceContext.isTraceparent(event.correlationId) {
            headers.append(("traceparent", .text(event.correlationId)))
        }
        return AMQPConnection.Message(
            messageId: event.id, type: event.type, correlationId: event.correlationId, appId: event.source,
            headers: headers, body: try JSON.encode(event))
    }

    /// Closes every thread's connection. Call only when no thread is delivering (after the relays
    /// stopped); a later delivery connects again.
    public func close() {
        for link in links.withLock({ $0 }) { link.current = nil }
    }

    private func threadLink() -> Link {
        let dictionary = Thread.current.threadDictionary
        if let link = dictionary[key] as? Link { return link }
        let link = Link(settings: settings, logger: logger)
        dictionary[key] = link
        links.withLock { $0.append(link) }
        return link
    }

    /// One thread's connection and its reconnect backoff. Used by that thread only (and by `close()`
    /// once every thread is done).
    final class Link: @unchecked Sendable {
        let settings: RabbitMQSettings
        let logger: Logger
        var current: AMQPConnection?
        var failures = 0
        var notBefore = Date.distantPast

        init(settings: RabbitMQSettings, logger: Logger) {
            self.settings = settings
            self.logger = logger
        }

        func connection() throws -> AMQPConnection {
            if let current, !current.broken { return current }
            current = nil
            guard Date() >= notBefore else { throw RabbitMQError("waiting to reconnect") }
            do {
                let connection = try AMQPConnection(settings: settings, heartbeat: 0)
                try connection.enableConfirms()
                if failures > 0 { logger.info("reconnected to the broker", ["attempts": String(failures)]) }
                failures = 0
                current = connection
                return connection
            } catch {
                drop(after: error)
                throw error
            }
        }

        func drop(after error: any Error) {
            current = nil
            Metrics.shared.increment("rcm_broker_connection_failures_total", [("role", "publisher")])
            failures += 1
            let delay = settings.backoff(afterFailures: failures)
            notBefore = Date().addingTimeInterval(delay)
            logger.warning(
                "broker unavailable",
                ["error": String(describing: error), "retry.seconds": String(format: "%.2f", delay)])
        }
    }
}

/// W3C Trace Context: `traceparent` is `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
enum TraceContext {
    static func isTraceparent(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count == 4, parts.map(\.count) == [2, 32, 16, 2] else { return false }
        return parts.allSatisfy { $0.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } }
    }
}
