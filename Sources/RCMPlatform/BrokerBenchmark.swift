import Foundation
import RCMCore
import RCMEvents
import RCMRabbitMQ
import RCMStorage
import Synchronization

/// `rcm broker-bench`: one outbox → relay → transport → consumer inbox, measured (bench/broker.sh).
/// Phase 1 drains a backlog of `--events` events as fast as it goes; phase 2 writes `--rate`
/// events a second for `--seconds` and measures how far the consumer trails.
enum BrokerBenchmark {
    struct Options {
        var transport = EventTransportKind.rabbitmq
        var url = ProcessInfo.processInfo.environment["RCM_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5673/"
        var events = 20_000
        var rate = 2_500
        var seconds = 10.0
    }

    static func run(_ arguments: [String]) throws -> Int32 {
        var options = Options()
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--transport":
                let name = try value()
                guard let kind = EventTransportKind(name: name) else { throw UsageError("unknown transport \(name)") }
                options.transport = kind
            case "--url": options.url = try value()
            case "--events": options.events = Int(try value()) ?? options.events
            case "--rate": options.rate = Int(try value()) ?? options.rate
            case "--seconds": options.seconds = Double(try value()) ?? options.seconds
            default:
                throw UsageError(
                    "broker-bench [--transport rabbitmq|in-process] [--url U] [--events N] [--rate R] [--seconds S]")
            }
            index += 1
        }
        Logger.setLevel(.error)
        let bench = try Bench(options)
        defer { bench.close() }
        try bench.backlog()
        try bench.steady()
        return 0
    }

    /// A consumer whose effect is one row, and which measures write-to-effect latency.
    final class Consumer: EventConsumer {
        let name = "bench"
        let subscribedTypes = ["bench.*"]
        let database: any Database
        let handled = Atomic<Int>(0)
        let latencies = Mutex<[Double]>([])

        init(database: any Database) { self.database = database }

        struct Body: Codable { let t: Double }

        func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
            try connection.execute("INSERT INTO effects (event_id) VALUES (\(event.id))")
            if let body = try? event.decode(Body.self), body.t > 0 {
                let latency = Date().timeIntervalSince1970 - body.t
                latencies.withLock { $0.append(latency) }
            }
            handled.add(1, ordering: .relaxed)
        }
    }

    /// Counts what the transport reports delivered (for RabbitMQ: confirmed) and times each batch.
    final class CountingTransport: EventTransport {
        let inner: any EventTransport
        let delivered = Atomic<Int>(0)
        let batchSeconds = Mutex<[Double]>([])

        init(_ inner: any EventTransport) { self.inner = inner }

        func deliver(_ events: [EventEnvelope], to subscriber: String) throws -> [String: String] {
            let started = DispatchTime.now().uptimeNanoseconds
            let failures = try inner.deliver(events, to: subscriber)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            batchSeconds.withLock { $0.append(seconds) }
            delivered.add(events.count - failures.count, ordering: .relaxed)
            return failures
        }
    }

    final class Samples: Sendable {
        let values = Mutex<[Double]>([])
        func add(_ batch: [Double]) { values.withLock { $0 += batch } }
        func take() -> [Double] { values.withLock { $0 } }
        func clear() { values.withLock { $0.removeAll() } }
    }

    final class Bench {
        let options: Options
        let directory: String
        let source: any Database
        let outbox: Outbox
        let consumer: Consumer
        let transport: CountingTransport
        let relay: OutboxRelay
        let settings: RabbitMQSettings?
        let rabbitConsumer: RabbitMQConsumer?
        let confirmLatencies = Samples()

        init(_ options: Options) throws {
            self.options = options
            directory = NSTemporaryDirectory() + "rcm-broker-bench-" + UUID().uuidString.prefix(8).lowercased()
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            source = try DatabaseFactory.open(url: nil, dataDirectory: directory, service: "source")
            try Migrator.migrate(source, Outbox.migrations)
            let sink = try DatabaseFactory.open(url: nil, dataDirectory: directory, service: "bench")
            try Migrator.migrate(
                sink,
                [Inbox.migration, Migration(1, "effects", ["CREATE TABLE effects (event_id TEXT NOT NULL)"])])
            consumer = Consumer(database: sink)
            var subscriptions = Subscriptions()
            subscriptions.add("bench", patterns: ["bench.*"])
            outbox = Outbox(service: "source", database: source, subscriptions: subscriptions)
            switch options.transport {
            case .rabbitmq:
                let settings = try RabbitMQSettings(url: options.url).namespaced(
                    "bench" + UUID().uuidString.prefix(6).lowercased())
                self.settings = settings
                let latencies = confirmLatencies
                transport = CountingTransport(RabbitMQTransport(settings: settings) { latencies.add($0) })
                rabbitConsumer = RabbitMQConsumer(consumer: consumer, settings: settings)
                try RabbitMQTopology.declare(settings: settings, subscribers: ["bench"])
            case .inProcess:
                settings = nil
                rabbitConsumer = nil
                let inProcess = InProcessTransport()
                inProcess.register(consumer)
                transport = CountingTransport(inProcess)
            }
            relay = OutboxRelay(outbox: outbox, transport: transport)
        }

        func close() {
            relay.stop()
            rabbitConsumer?.stop()
            if let settings { try? RabbitMQTopology.delete(settings: settings, subscribers: ["bench"]) }
            try? FileManager.default.removeItem(atPath: directory)
        }

        func write(_ count: Int, stamped: Bool) throws {
            let now = stamped ? Date().timeIntervalSince1970 : 0
            try source.write { connection in
                for _ in 0..<count {
                    let event = try EventEnvelope.make(
                        type: "bench.happened", organizationId: "org_bench", locationId: nil,
                        correlationId: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", source: "source",
                        body: Consumer.Body(t: now))
                    try outbox.publish(event, in: connection)
                }
            }
            outbox.notify()
        }

        var label: String {
            options.transport == .rabbitmq ? "rabbitmq (confirms, persistent, quorum queue)" : "in-process"
        }

        /// Phase 1: a backlog, relayed and consumed as fast as they go.
        func backlog() throws {
            let total = options.events
            var written = 0
            while written < total {
                let count = min(1000, total - written)
                try write(count, stamped: false)
                written += count
            }
            let started = Date()
            rabbitConsumer?.start()
            relay.start()
            var lags: [Int] = []
            var confirmedAt: TimeInterval?
            while consumer.handled.load(ordering: .relaxed) < total {
                Thread.sleep(forTimeInterval: 0.02)
                let delivered = transport.delivered.load(ordering: .relaxed)
                lags.append(max(0, delivered - consumer.handled.load(ordering: .relaxed)))
                if confirmedAt == nil, delivered >= total { confirmedAt = Date().timeIntervalSince(started) }
                if Date().timeIntervalSince(started) > 600 { throw UsageError("backlog not consumed in 10 minutes") }
            }
            let consumedAt = Date().timeIntervalSince(started)
            let confirmed = confirmedAt ?? consumedAt
            print("== \(label): backlog of \(total) events ==")
            print(
                String(
                    format: "relayed (transport returned, rows marked after): %.0f events/s (%.2f s)",
                    Double(total) / confirmed, confirmed))
            print(
                String(
                    format: "consumed through the inbox: %.0f events/s (%.2f s)", Double(total) / consumedAt, consumedAt
                ))
            report(lags: lags)
            reportBatches()
        }

        /// Phase 2: a steady write rate; how far behind the consumer stays.
        func steady() throws {
            let before = consumer.handled.load(ordering: .relaxed)
            consumer.latencies.withLock { $0.removeAll() }
            confirmLatencies.clear()
            transport.batchSeconds.withLock { $0.removeAll() }
            let tick = 0.01
            let perTick = max(1, Int(Double(options.rate) * tick))
            let started = Date()
            var written = 0
            var lags: [Int] = []
            var nextTick = started
            while Date().timeIntervalSince(started) < options.seconds {
                try write(perTick, stamped: true)
                written += perTick
                lags.append(max(0, before + written - consumer.handled.load(ordering: .relaxed)))
                nextTick.addTimeInterval(tick)
                let wait = nextTick.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
            let writing = Date().timeIntervalSince(started)
            while consumer.handled.load(ordering: .relaxed) < before + written {
                Thread.sleep(forTimeInterval: 0.005)
                if Date().timeIntervalSince(started) > options.seconds + 120 {
                    throw UsageError("steady load not consumed")
                }
            }
            let drained = Date().timeIntervalSince(started)
            print("== \(label): steady load, \(options.rate) events/s for \(options.seconds) s ==")
            print(
                String(
                    format: "written %.0f events/s; all consumed %.2f s after the first write (%.2f s after the last)",
                    Double(written) / writing, drained, drained - writing))
            let latencies = consumer.latencies.withLock { $0 }
            print("outbox write → consumer effect: \(Bench.percentiles(latencies, scale: 1000, unit: "ms"))")
            report(lags: lags)
            reportBatches()
        }

        func report(lags: [Int]) {
            guard !lags.isEmpty else { return }
            let mean = Double(lags.reduce(0, +)) / Double(lags.count)
            let sorted = lags.sorted()
            print(
                String(
                    format:
                        "consumer lag (delivered or written, not yet consumed), sampled: mean %.0f, p99 %d, max %d events",
                    mean, sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))], sorted.last ?? 0))
        }

        func reportBatches() {
            let batches = transport.batchSeconds.withLock { $0 }
            print("transport call per batch (≤ 200 events): \(Bench.percentiles(batches, scale: 1000, unit: "ms"))")
            let confirms = confirmLatencies.take()
            if !confirms.isEmpty {
                print("publish → confirm per message: \(Bench.percentiles(confirms, scale: 1000, unit: "ms"))")
            }
        }

        static func percentiles(_ values: [Double], scale: Double, unit: String) -> String {
            guard !values.isEmpty else { return "none" }
            let sorted = values.sorted()
            func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * scale }
            return String(
                format: "p50 %.2f, p90 %.2f, p99 %.2f, max %.2f %@ (%d samples)", at(0.5), at(0.9), at(0.99),
                (sorted.last ?? 0) * scale, unit, sorted.count)
        }
    }
}
