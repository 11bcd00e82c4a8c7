import Foundation
import RCMCore
import RCMStorage
import Synchronization

/// Moves one outbox's due deliveries to their subscribers, at least once, in order of publication;
/// failures retry with exponential backoff and after `maxAttempts` become dead letters.
/// Runs on its own thread: storage calls block, and Swift's cooperative pool must not.
public final class OutboxRelay: Sendable {
    public struct Policy: Sendable {
        public var batchSize = 200
        public var maxAttempts = 8
        public var baseBackoffMillis: Int64 = 100
        public var maxBackoffMillis: Int64 = 60_000
        public var idlePoll: TimeInterval = 0.25
        /// How long a claimed batch is this relay's before another instance may take it.
        public var leaseMillis: Int64 = 30_000
        /// After a partial batch, wait this long so the next one is fuller: fewer transactions and
        /// thread wake-ups per event under load, at the cost of this much latency per hop.
        public var coalesce: TimeInterval = 0.002
        /// The relay thread's nice value (on Linux a thread's own; 0 leaves it as started). Events
        /// are derived work: the consumers' effects run on this thread, and at a lower priority
        /// they take the CPU when request handling does not need it, in larger batches, instead of
        /// preempting requests. Measured (BENCHMARKS.md): 7–16% more invoices a second and p99
        /// 10–30% lower under full load, with the pipeline still within ~40 invoices.
        public var niceness: Int32 = 10
        public init() {}

        func backoff(afterAttempts attempts: Int) -> Int64 {
            let exponent = min(attempts - 1, 20)
            return min(maxBackoffMillis, baseBackoffMillis << Int64(max(0, exponent)))
        }
    }

    public let outbox: Outbox
    let transport: any EventTransport
    let policy: Policy
    let logger: Logger
    private let running = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    public init(outbox: Outbox, transport: any EventTransport, policy: Policy = Policy()) {
        self.outbox = outbox
        self.transport = transport
        self.policy = policy
        self.logger = Logger(label: "outbox.\(outbox.service)")
    }

    public func start() {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let thread = Thread { [self] in
            // Raising a nice value needs no privilege; a failure leaves the thread as it was.
            if policy.niceness != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, policy.niceness) }
            while running.load(ordering: .acquiring) {
                let pass = (try? relayPass()) ?? Pass()
                if pass.full { continue }  // a full batch: more may be due now
                // A partial batch took everything due. Wait a moment so the next batch is fuller,
                // then until this process commits another event (the flag is level-triggered, so
                // one committed meanwhile wakes at once) or, for retries and rows other instances
                // left, the idle poll.
                if pass.settled > 0 { Thread.sleep(forTimeInterval: policy.coalesce) }
                outbox.wakeUp.wait(timeout: policy.idlePoll)
            }
            stopped.signal()
        }
        thread.name = "outbox-\(outbox.service)"
        thread.start()
    }

    /// Finishes the batch in hand, then stops.
    public func stop() {
        guard running.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        outbox.wakeUp.signal()
        stopped.wait()
    }

    /// Delivers what is due; returns how many deliveries were settled (delivered or dead).
    @discardableResult
    public func relayOnce() throws -> Int { try relayPass().settled }

    /// One pass: how many deliveries it settled, and whether a batch was full (more may be due).
    struct Pass {
        var settled = 0
        var full = false
    }

    /// One delivery: the event, its place in the outbox and the attempts made before this one.
    struct Delivery {
        let seq: Int64
        let event: EventEnvelope
        let attempts: Int
    }

    /// A subscriber's batch and the events of it that failed, with their errors.
    typealias Outcome = (subscriber: String, batch: [Delivery], failures: [String: String])
    /// A subscriber's batch it could not be handed (not reachable), and why.
    typealias Postponed = (subscriber: String, batch: [Delivery], reason: String)

    /// What a pass records besides failures: its delivered rows marked, or its cursors moved.
    enum Bookkeeping {
        case rows
        case cursors([(subscriber: String, seq: Int64)])
    }

    func relayPass() throws -> Pass {
        var pass = try relayDueRows()
        guard outbox.tracksDeliveriesByCursor else { return pass }
        // Events that match no subscriber move the cursors without settling anything: go on
        // until a batch settles something or the outbox has nothing more.
        while true {
            let next = try relayPastCursors()
            pass.settled += next.settled
            pass.full = pass.full || next.full
            if !next.full || next.settled > 0 { return pass }
        }
    }

    /// Delivers one batch of due delivery rows (on SQLite: retries, postponed deliveries and rows
    /// from before the cursors).
    private func relayDueRows() throws -> Pass {
        let now = Outbox.nowMillis()
        // Claim the batch: instances of one service share its outbox, so each takes rows the
        // others have not locked (PostgreSQL's SKIP LOCKED; SQLite has one writer) and leases them
        // by moving their next attempt past the time a delivery takes. A relay that dies holding a
        // lease leaves its rows to be picked up when the lease ends.
        var due: [Row]
        if outbox.database.dialect == .postgres {
            due = try outbox.database.statement(
                Self.claimDue(now: now, limit: policy.batchSize, leaseMillis: policy.leaseMillis))
            // RETURNING keeps no order; each subscriber gets its events in publication order.
            due.sort { ((try? $0.int64("event_seq")) ?? 0) < ((try? $1.int64("event_seq")) ?? 0) }
        } else {
            // SQLite: one process owns the file, and its one relay needs no claim.
            due = try outbox.database.read { try $0.query(Self.selectDue(now: now, limit: policy.batchSize)) }
        }
        guard !due.isEmpty else { return Pass() }
        var bySubscriber: [String: [Delivery]] = [:]
        var order: [String] = []
        for row in due {
            let subscriber = try row.string("subscriber")
            if bySubscriber[subscriber] == nil { order.append(subscriber) }
            bySubscriber[subscriber, default: []].append(
                Delivery(
                    seq: try row.int64("event_seq"), event: try Self.envelope(row), attempts: try row.int("attempts")))
        }
        let (outcomes, postponed) = deliver(order.map { ($0, bySubscriber[$0] ?? []) })
        let settled = try record(outcomes, postponed: postponed, bookkeeping: .rows)
        // Full only when a whole batch settled: a batch postponed or failed (a broker outage)
        // waits for the idle poll instead of sweeping the backlog again and again.
        return Pass(settled: settled, full: settled >= policy.batchSize)
    }

    /// SQLite: delivers the events past the subscribers' cursors (one batch, in publication order)
    /// and moves the cursors past them in the transaction that records what failed.
    private func relayPastCursors() throws -> Pass {
        let subscribers = outbox.subscriptions.subscriberNames
        guard !subscribers.isEmpty else { return Pass() }
        let (positions, events, owned) = try outbox.database.read { connection in
            let cursors = try Outbox.cursors(in: connection)
            let positions = subscribers.map { Outbox.position(of: $0, in: cursors) }
            let from = positions.min() ?? 0
            let events = try connection.query(Self.selectPast(from, limit: policy.batchSize)).map {
                Delivery(seq: try $0.int64("seq"), event: try Self.envelope($0), attempts: 0)
            }
            // A delivery that already has a row belongs to the row: it is retried, dead or done
            // there (rows written after the baseline by an older binary, or a replayed range).
            var owned: Set<String> = []
            if let last = events.last?.seq {
                for row in try connection.query(Self.selectRows(after: from, through: last)) {
                    owned.insert(Self.key(try row.string("event_id"), try row.string("subscriber")))
                }
            }
            return (positions, events, owned)
        }
        guard let last = events.last?.seq else { return Pass() }
        let batches = subscribers.indices.map { index in
            let subscriber = subscribers[index]
            return (
                subscriber,
                events.filter {
                    $0.seq > positions[index] && outbox.subscriptions.wants(subscriber, $0.event.type)
                        && (owned.isEmpty || !owned.contains(Self.key($0.event.id, subscriber)))
                }
            )
        }
        let (outcomes, postponed) = deliver(batches.filter { !$0.1.isEmpty })
        let moved = subscribers.indices.filter { positions[$0] < last }.map { subscribers[$0] }
        let settled = try record(outcomes, postponed: postponed, bookkeeping: .cursors(moved.map { ($0, last) }))
        return Pass(settled: settled, full: events.count >= policy.batchSize)
    }

    /// One delivery's identity in a set.
    private static func key(_ eventId: String, _ subscriber: String) -> String { eventId + "\u{0}" + subscriber }

    /// Hands each subscriber its batch; a subscriber that cannot be reached is postponed.
    private func deliver(_ batches: [(String, [Delivery])]) -> (outcomes: [Outcome], postponed: [Postponed]) {
        var outcomes: [Outcome] = []
        var postponed: [Postponed] = []
        for (subscriber, batch) in batches {
            do {
                outcomes.append((subscriber, batch, try transport.deliver(batch.map(\.event), to: subscriber)))
            } catch let unavailable as SubscriberUnavailable {
                postponed.append((subscriber, batch, unavailable.description))
            } catch {
                let failures = Dictionary(uniqueKeysWithValues: batch.map { ($0.event.id, String(describing: error)) })
                outcomes.append((subscriber, batch, failures))
            }
        }
        return (outcomes, postponed)
    }

    /// Records a pass in one transaction (on SQLite one commit, one WAL append): marks delivered
    /// rows or moves cursors, schedules retries or dead letters for what failed and a later
    /// attempt, not counted, for what was postponed; returns how many deliveries were settled.
    private func record(_ outcomes: [Outcome], postponed: [Postponed], bookkeeping: Bookkeeping) throws -> Int {
        let now = Outbox.nowMillis()
        let deliveredAt = Timestamp.now()
        var delivered: [(subscriber: String, eventIds: [String])] = []
        var deliveredCount = 0
        var failed: [(delivery: Delivery, subscriber: String, error: String)] = []
        for (subscriber, batch, failures) in outcomes {
            var eventIds: [String] = []
            for delivery in batch {
                if let failure = failures[delivery.event.id] {
                    failed.append((delivery, subscriber, failure))
                } else {
                    eventIds.append(delivery.event.id)
                    Metrics.shared.increment(
                        "rcm_events_delivered_total", [("source", outbox.service), ("subscriber", subscriber)])
                }
            }
            if !eventIds.isEmpty { delivered.append((subscriber, eventIds)) }
            deliveredCount += eventIds.count
        }
        var markDelivered: [SQL] = []
        var cursors: [(subscriber: String, seq: Int64)] = []
        switch bookkeeping {
        case .rows:
            markDelivered = delivered.map {
                Self.markDelivered(subscriber: $0.subscriber, eventIds: $0.eventIds, at: deliveredAt)
            }
        case .cursors(let moved): cursors = moved
        }
        if failed.isEmpty, postponed.isEmpty, cursors.isEmpty {
            if markDelivered.isEmpty { return deliveredCount }
            if outbox.database.dialect == .postgres {
                // Each statement is atomic on its own (one round trip each, no BEGIN/COMMIT); a
                // crash between them only redelivers.
                for statement in markDelivered { _ = try outbox.database.statement(statement) }
                return deliveredCount
            }
        }
        var settled = deliveredCount
        try outbox.database.write { connection in
            for statement in markDelivered { try connection.execute(statement) }
            // Cursors (SQLite only: its two-argument MAX) never move back, whoever records last.
            for (subscriber, seq) in cursors {
                try connection.execute(
                    """
                    INSERT INTO outbox_cursors (subscriber, delivered_seq) VALUES (\(subscriber), \(seq))
                    ON CONFLICT (subscriber)
                    DO UPDATE SET delivered_seq = MAX(outbox_cursors.delivered_seq, excluded.delivered_seq)
                    """)
            }
            for (delivery, subscriber, failure) in failed {
                let attempt = delivery.attempts + 1
                let dead = attempt >= policy.maxAttempts
                if dead { settled += 1 }
                Metrics.shared.increment(
                    dead ? "rcm_events_dead_lettered_total" : "rcm_events_failed_total",
                    [("source", outbox.service), ("subscriber", subscriber)])
                try connection.execute(
                    Self.schedule(
                        delivery, subscriber: subscriber, status: dead ? "dead" : "pending", attempts: attempt,
                        at: now + policy.backoff(afterAttempts: attempt), error: String(failure.prefix(500))))
                logger.warning(
                    dead ? "event dead-lettered" : "event delivery failed",
                    [
                        "event.id": delivery.event.id, "event.type": delivery.event.type, "subscriber": subscriber,
                        "attempt": String(attempt),
                    ])
            }
            // Not reachable: try again later without counting an attempt.
            let later = now + policy.maxBackoffMillis / 60
            for (subscriber, batch, reason) in postponed {
                for delivery in batch {
                    try connection.execute(
                        Self.postpone(delivery, subscriber: subscriber, until: later, reason: reason))
                }
            }
        }
        return settled
    }

    static func envelope(_ row: Row) throws -> EventEnvelope {
        EventEnvelope(
            id: try row.string("id"), type: try row.string("type"), schemaVersion: try row.int("schema_version"),
            occurredAt: try row.string("occurred_at"), organizationId: try row.string("organization_id"),
            locationId: row.optionalString("location_id"), correlationId: try row.string("correlation_id"),
            source: try row.string("source"), payload: try row.string("payload"))
    }

    // MARK: - Statements (each looks rows up through an index: see OutboxRelayTests' query plans)

    static let dueColumns: SQL = """
        d.event_seq, d.subscriber, d.attempts, e.id, e.type, e.schema_version, e.occurred_at, e.organization_id,
        e.location_id, e.correlation_id, e.source, e.payload
        """

    /// PostgreSQL, one statement: lock the due rows no other relay holds, lease them by moving
    /// their next attempt past the time a delivery takes, return them. Instances of one service
    /// share its outbox; a relay that dies holding a lease leaves its rows to whoever comes after
    /// the lease ends.
    static func claimDue(now: Int64, limit: Int, leaseMillis: Int64) -> SQL {
        """
        WITH due AS (
            SELECT event_id, subscriber FROM outbox_deliveries
            WHERE status = 'pending' AND next_attempt_at <= \(now)
            ORDER BY event_seq LIMIT \(limit) FOR UPDATE SKIP LOCKED)
        UPDATE outbox_deliveries d SET next_attempt_at = \(now + leaseMillis)
        FROM due JOIN outbox_events e ON e.id = due.event_id
        WHERE d.event_id = due.event_id AND d.subscriber = due.subscriber
        RETURNING \(dueColumns)
        """
    }

    /// SQLite: the due deliveries in publication order.
    static func selectDue(now: Int64, limit: Int) -> SQL {
        """
        SELECT \(dueColumns)
        FROM outbox_deliveries d JOIN outbox_events e ON e.seq = d.event_seq
        WHERE d.status = 'pending' AND d.next_attempt_at <= \(now)
        ORDER BY d.event_seq LIMIT \(limit)
        """
    }

    /// SQLite: the events after `seq`, in publication order (a range of the primary key).
    static func selectPast(_ seq: Int64, limit: Int) -> SQL {
        """
        SELECT seq, id, type, schema_version, occurred_at, organization_id, location_id, correlation_id, source, payload
        FROM outbox_events WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)
        """
    }

    /// A failed delivery's row, written or updated: a retry with backoff, or a dead letter. On
    /// SQLite's cursor path the row is new (a delivery that has a row is left to it); on the row
    /// path it exists.
    static func schedule(
        _ delivery: Delivery, subscriber: String, status: String, attempts: Int, at nextAttempt: Int64, error: String
    ) -> SQL {
        """
        INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at, last_error)
        VALUES (\(delivery.seq), \(delivery.event.id), \(subscriber), \(status), \(attempts), \(nextAttempt), \(error))
        ON CONFLICT (event_id, subscriber) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
            next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error
        """
    }

    /// A postponed delivery: a new pending row (SQLite's cursor path), or only the next attempt
    /// and the reason on a row still pending — a row another instance delivered meanwhile (its
    /// lease ran out) stays delivered.
    static func postpone(_ delivery: Delivery, subscriber: String, until nextAttempt: Int64, reason: String) -> SQL {
        """
        INSERT INTO outbox_deliveries (event_seq, event_id, subscriber, status, attempts, next_attempt_at, last_error)
        VALUES (\(delivery.seq), \(delivery.event.id), \(subscriber), 'pending', \(delivery.attempts), \(nextAttempt), \(reason))
        ON CONFLICT (event_id, subscriber) DO UPDATE SET next_attempt_at = excluded.next_attempt_at,
            last_error = excluded.last_error
        WHERE outbox_deliveries.status = 'pending'
        """
    }

    /// SQLite: the delivery rows of the events in (`seq`, `last`], through the due index (one
    /// range per status).
    static func selectRows(after seq: Int64, through last: Int64) -> SQL {
        """
        SELECT event_id, subscriber FROM outbox_deliveries
        WHERE status IN ('pending', 'dead', 'delivered') AND event_seq > \(seq) AND event_seq <= \(last)
        """
    }

    /// One subscriber's delivered events, by primary key (`subscriber = ? AND event_id IN (…)`;
    /// SQLite scans the whole table for a row-value `IN` list).
    static func markDelivered(subscriber: String, eventIds: [String], at deliveredAt: String) -> SQL {
        """
        UPDATE outbox_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = \(deliveredAt)
        WHERE subscriber = \(subscriber) AND event_id IN \(SQL.list(eventIds))
        """
    }
}
