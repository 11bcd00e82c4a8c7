import Foundation
import RCMCore
import RCMHTTP
import RCMSecurity
import RCMStorage
import Synchronization

/// One thing that happened: who did what to which record, from where, with what outcome. Never
/// the values of patient data: only identifiers.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var seq: Int64
    public var occurredAt: String
    public var organizationId: String
    /// The user's id, `anonymous` before authentication, `system` for the installation's own work.
    public var actor: String
    /// `METHOD route`, such as `GET /api/patients/{id}`.
    public var action: String
    public var resourceType: String
    public var resourceId: String?
    /// The HTTP status the action ended with (401 and 403 are denials).
    public var outcome: Int
    public var ip: String
    public var userAgent: String
    public var requestId: String
    public var hash: String
}

/// The append-only, hash-chained audit trail. Each entry's hash covers its fields and the previous
/// entry's hash, so editing or deleting an entry breaks the chain from there on; every
/// `checkpointEvery` entries the chain head and count are signed with the installation's ES256 key,
/// so truncating the trail (or rewriting it wholesale) is detected too.
public final class AuditLog: @unchecked Sendable {
    let database: any Database
    let keys: KeyStore
    let checkpointEvery: Int64

    /// Group commit: a request's entry is chained in memory, then written together with the other
    /// requests' entries that arrived meanwhile, in one transaction; each request returns only
    /// once its entry is committed (so nothing answered goes unaudited, even on a crash).
    private let condition = NSCondition()
    private struct Pending {
        let entry: AuditEntry
        let checkpoint: (kid: String, signature: String)?
    }
    private var pending: [Pending] = []
    private var writing = false
    /// The last entry chained (committed or pending), and the last one committed.
    private var head: (seq: Int64, hash: String)
    private var committed: (seq: Int64, hash: String)
    /// Goes up by one when a write fails. The requests whose entries were in the failed batch
    /// (or chained after it) are refused — fail closed: what cannot be audited is not done — and
    /// the chain continues from the last committed entry, so a database that blips (a restart, a
    /// failover) costs the requests of that moment, not the process.
    private var generation = 0
    /// After a failed write the database may or may not hold the batch (a commit whose answer was
    /// lost): the chain's head is read back from it before the next entry.
    private var headUncertain = false

    public static let migrations = [
        Migration(
            1, "audit trail",
            [
                """
                CREATE TABLE audit_events (
                    seq BIGINT PRIMARY KEY, occurred_at TEXT NOT NULL, organization_id TEXT NOT NULL,
                    actor TEXT NOT NULL, action TEXT NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT,
                    outcome INTEGER NOT NULL, ip TEXT NOT NULL, user_agent TEXT NOT NULL, request_id TEXT NOT NULL,
                    hash TEXT NOT NULL)
                """,
                "CREATE INDEX audit_events_resource ON audit_events (organization_id, resource_type, resource_id)",
                "CREATE INDEX audit_events_actor ON audit_events (organization_id, actor)",
                """
                CREATE TABLE audit_checkpoints (
                    count BIGINT PRIMARY KEY, head_hash TEXT NOT NULL, kid TEXT NOT NULL, signature TEXT NOT NULL,
                    created_at TEXT NOT NULL)
                """,
            ])
    ]

    static let genesis = String(repeating: "0", count: 64)

    public init(database: any Database, keys: KeyStore, checkpointEvery: Int64 = 100) throws {
        self.database = database
        self.keys = keys
        self.checkpointEvery = checkpointEvery
        try Migrator.migrate(database, AuditLog.migrations)
        let last = try database.read { connection in
            try connection.queryFirst("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        }
        let start = try last.map { (try $0.int64("seq"), try $0.string("hash")) } ?? (0, AuditLog.genesis)
        head = start
        committed = start
    }

    public struct WriteFailed: Error, CustomStringConvertible {
        public var description: String { "the audit trail could not be written" }
    }

    /// Appends one entry (and a signed checkpoint when one is due); returns once it is committed,
    /// unless `deferred`: an in-process call made while serving another request is committed with
    /// that request's own entry, which comes after it in the chain, before that request answers.
    public func record(
        organizationId: String, actor: String, action: String, resourceType: String, resourceId: String?,
        outcome: Int, ip: String, userAgent: String, requestId: String, deferred: Bool = false
    ) throws {
        condition.lock()
        defer { condition.unlock() }
        if headUncertain {
            let stored: (seq: Int64, hash: String)
            do {
                let last = try database.read { connection in
                    try connection.queryFirst("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                }
                stored = try last.map { (try $0.int64("seq"), try $0.string("hash")) } ?? (0, AuditLog.genesis)
            } catch {
                throw WriteFailed()  // still unreachable: refuse, as before
            }
            head = stored
            committed = stored
            headUncertain = false
        }
        let mine = generation
        var entry = AuditEntry(
            seq: head.seq + 1, occurredAt: Timestamp.now(), organizationId: organizationId, actor: actor,
            action: action, resourceType: resourceType, resourceId: resourceId, outcome: outcome,
            ip: String(ip.prefix(64)), userAgent: String(userAgent.prefix(256)), requestId: requestId, hash: "")
        entry.hash = AuditLog.hash(entry, previous: head.hash)
        let checkpoint = entry.seq % checkpointEvery == 0 ? try signature(count: entry.seq, head: entry.hash) : nil
        pending.append(Pending(entry: entry, checkpoint: checkpoint))
        head = (entry.seq, entry.hash)
        if deferred { return }
        try waitForCommit(upTo: entry.seq, generation: mine)
    }

    /// Waits until everything up to `seq` is committed, writing the pending batch when no one else is.
    /// Called with the condition's lock held.
    private func waitForCommit(upTo mine: Int64, generation expected: Int) throws {
        while committed.seq < mine {
            if generation != expected { throw WriteFailed() }
            if writing {
                condition.wait()
                continue
            }
            writing = true
            let batch = pending
            pending = []
            condition.unlock()
            let succeeded = (try? write(batch)) != nil
            condition.lock()
            writing = false
            if let last = batch.last?.entry {
                if succeeded {
                    committed = (last.seq, last.hash)
                } else {
                    // Everything chained after the last commit is dropped: the failed batch and
                    // what was appended while it was being written.
                    generation += 1
                    pending = []
                    head = committed
                    headUncertain = true
                }
            }
            condition.broadcast()
        }
    }

    /// Commits a batch: its entries as one multi-row INSERT — on its own, a single atomic
    /// statement (one round trip on PostgreSQL) — and in one transaction with a checkpoint when
    /// one is due.
    private func write(_ batch: [Pending]) throws {
        guard !batch.isEmpty else { return }
        var insert: SQL = """
            INSERT INTO audit_events (seq, occurred_at, organization_id, actor, action, resource_type, resource_id,
                outcome, ip, user_agent, request_id, hash) VALUES
            """
        for (index, item) in batch.enumerated() {
            let entry = item.entry
            insert =
                insert
                    + """
                    \(unsafeRaw: index == 0 ? " " : ", ")(\(entry.seq), \(entry.occurredAt), \(entry.organizationId), \(entry.actor),
                        \(entry.action), \(entry.resourceType), \(entry.resourceId), \(entry.outcome), \(entry.ip), \(entry.userAgent),
                        \(entry.requestId), \(entry.hash))
                    """
        }
        let checkpoints = batch.compactMap { item in item.checkpoint.map { (item.entry, $0) } }
        guard !checkpoints.isEmpty else {
            _ = try database.statement(insert)
            return
        }
        try database.write { connection in
            try connection.execute(insert)
            for (entry, checkpoint) in checkpoints {
                try connection.execute(
                    AuditLog.insertCheckpoint(count: entry.seq, head: entry.hash, signed: checkpoint))
            }
        }
    }

    /// Signs the committed head now (at shutdown, so that a truncation after the last periodic
    /// checkpoint is caught as well).
    public func checkpoint() throws {
        condition.lock()
        defer { condition.unlock() }
        try waitForCommit(upTo: head.seq, generation: generation)
        let current = committed
        guard current.seq > 0 else { return }
        let exists = try database.read {
            try $0.queryFirst("SELECT count FROM audit_checkpoints WHERE count = \(current.seq)") != nil
        }
        guard !exists else { return }
        let signed = try signature(count: current.seq, head: current.hash)
        try database.write {
            try $0.execute(AuditLog.insertCheckpoint(count: current.seq, head: current.hash, signed: signed))
        }
    }

    static func insertCheckpoint(count: Int64, head: String, signed: (kid: String, signature: String)) -> SQL {
        """
        INSERT INTO audit_checkpoints (count, head_hash, kid, signature, created_at)
        VALUES (\(count), \(head), \(signed.kid), \(signed.signature), \(Timestamp.now()))
        """
    }

    func signature(count: Int64, head: String) throws -> (kid: String, signature: String) {
        let key = keys.active
        return (key.kid, Base64URL.encode(try key.sign(Array("\(count)|\(head)".utf8))))
    }

    static func hash(_ entry: AuditEntry, previous: String) -> String {
        let fields = [
            previous, String(entry.seq), entry.occurredAt, entry.organizationId, entry.actor, entry.action,
            entry.resourceType, entry.resourceId ?? "", String(entry.outcome), entry.ip, entry.userAgent,
            entry.requestId,
        ]
        return Digest.sha256Hex(fields.joined(separator: "\u{1F}").utf8)
    }

    /// What `verify()` found.
    public struct Verification: Sendable, Equatable {
        public var entries: Int64
        public var checkpoints: Int
        /// The first problem, naming the entry; nil when the trail is intact.
        public var problem: String?
    }

    /// Recomputes the chain and checks every checkpoint's signature, count and head.
    public func verify() throws -> Verification {
        let publicKeys = keys.publicKeys
        return try database.read { connection in
            var previous = AuditLog.genesis
            var expected: Int64 = 1
            var hashes: [Int64: String] = [:]
            for row in try connection.query("SELECT * FROM audit_events ORDER BY seq") {
                let entry = try AuditLog.entry(from: row)
                guard entry.seq == expected else {
                    return Verification(
                        entries: expected - 1, checkpoints: 0,
                        problem: "entry \(expected) is missing (next is \(entry.seq))")
                }
                guard AuditLog.hash(entry, previous: previous) == entry.hash else {
                    return Verification(
                        entries: expected - 1, checkpoints: 0, problem: "entry \(entry.seq) was altered (hash mismatch)"
                    )
                }
                hashes[entry.seq] = entry.hash
                previous = entry.hash
                expected += 1
            }
            let count = expected - 1
            var checked = 0
            for row in try connection.query("SELECT * FROM audit_checkpoints ORDER BY count") {
                let at = try row.int64("count")
                let head = try row.string("head_hash")
                guard let key = publicKeys[try row.string("kid")],
                    let signature = Base64URL.decode(try row.string("signature")),
                    key.verify(signature, of: Array("\(at)|\(head)".utf8))
                else {
                    return Verification(
                        entries: count, checkpoints: checked, problem: "checkpoint at \(at) has a bad signature")
                }
                guard at <= count else {
                    return Verification(
                        entries: count, checkpoints: checked,
                        problem: "the trail was truncated: checkpoint \(at) signed \(at) entries, \(count) remain")
                }
                guard hashes[at] == head else {
                    return Verification(
                        entries: count, checkpoints: checked,
                        problem: "entry \(at) does not match its signed checkpoint")
                }
                checked += 1
            }
            return Verification(entries: count, checkpoints: checked, problem: nil)
        }
    }

    public struct Filter: Sendable {
        public var actor: String?
        public var resourceType: String?
        public var resourceId: String?
        public var from: String?
        public var to: String?
        public var after: Int64?
        public var limit: Int = 100
        public init() {}
    }

    public func events(organizationId: String, _ filter: Filter) throws -> [AuditEntry] {
        var sql: SQL = "SELECT * FROM audit_events WHERE organization_id = \(organizationId)"
        if let actor = filter.actor { sql = sql + " AND actor = \(actor)" }
        if let type = filter.resourceType { sql = sql + " AND resource_type = \(type)" }
        if let id = filter.resourceId { sql = sql + " AND resource_id = \(id)" }
        if let from = filter.from { sql = sql + " AND occurred_at >= \(from)" }
        if let to = filter.to { sql = sql + " AND occurred_at < \(to)" }
        if let after = filter.after { sql = sql + " AND seq > \(after)" }
        sql = sql + " ORDER BY seq LIMIT \(filter.limit)"
        return try database.read { try $0.query(sql).map(AuditLog.entry(from:)) }
    }

    static func entry(from row: Row) throws -> AuditEntry {
        AuditEntry(
            seq: try row.int64("seq"), occurredAt: try row.string("occurred_at"),
            organizationId: try row.string("organization_id"), actor: try row.string("actor"),
            action: try row.string("action"), resourceType: try row.string("resource_type"),
            resourceId: row.optionalString("resource_id"), outcome: try row.int("outcome"), ip: try row.string("ip"),
            userAgent: try row.string("user_agent"), requestId: try row.string("request_id"),
            hash: try row.string("hash"))
    }
}
