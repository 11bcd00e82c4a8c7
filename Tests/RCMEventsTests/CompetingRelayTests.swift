import Foundation
import RCMCore
import RCMStorage
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMEvents

/// Counts deliveries per event, as a broker would see publishes.
final class CountingTransport: EventTransport {
    let deliveries = Mutex<[String: Int]>([:])

    func deliver(_ events: [EventEnvelope], to subscriber: String) throws -> [String: String] {
        Thread.sleep(forTimeInterval: 0.002)  // a publish takes time: the relays overlap
        deliveries.withLock { counts in for event in events { counts[event.id, default: 0] += 1 } }
        return [:]
    }
}

@Suite("Two instances of a service share one outbox")
struct CompetingRelayTests {
    @Test("on PostgreSQL each delivery is claimed by one relay (FOR UPDATE SKIP LOCKED and a lease)")
    func skipLocked() throws {
        let source = try TestDatabases.make("shared")
        defer { source.close() }
        guard source.dialect == .postgres else { return }  // SQLite: one process owns the file and its one relay
        try Migrator.migrate(source, Outbox.migrations)
        var subscriptions = Subscriptions()
        subscriptions.add("counter", patterns: ["thing.*"])
        let outbox = Outbox(service: "source", database: source, subscriptions: subscriptions)
        let transport = CountingTransport()
        var policy = OutboxRelay.Policy()
        policy.batchSize = 20
        let relays = (0..<2).map { _ in OutboxRelay(outbox: outbox, transport: transport, policy: policy) }
        for batch in 0..<10 {
            try source.write { connection in
                for n in 0..<50 {
                    try outbox.publish(
                        try EventEnvelope.make(
                            type: "thing.happened", organizationId: "org", locationId: nil, correlationId: "c",
                            source: "source", body: ["n": batch * 50 + n]),
                        in: connection)
                }
            }
        }
        let group = DispatchGroup()
        for relay in relays {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while (try? relay.relayOnce()) ?? 0 > 0 {}
            }
        }
        group.wait()
        let counts = transport.deliveries.withLock { $0 }
        #expect(counts.count == 500)
        #expect(counts.values.allSatisfy { $0 == 1 }, "some events were delivered twice")
    }
}
