import Foundation
import RCMCore
import RCMHTTP
import RCMStorage

/// `Idempotency-Key` for POSTs that create things or move money: the first request's response is
/// stored in the same transaction as its effect; a replay gets it back and creates nothing; the
/// same key with another body is 422; a duplicate that arrives while the first is running is 409.
public enum Idempotency {
    public static let migration = Migration(
        1002, "idempotency",
        [
            """
            CREATE TABLE idempotency_keys (
                organization_id TEXT NOT NULL, scope TEXT NOT NULL, idempotency_key TEXT NOT NULL,
                request_hash TEXT NOT NULL, state TEXT NOT NULL, response_status INTEGER, response_type TEXT,
                response_body TEXT, locked_at BIGINT NOT NULL, created_at TEXT NOT NULL,
                PRIMARY KEY (organization_id, scope, idempotency_key))
            """
        ])

    /// A claim older than this is taken to be from a request that died (crash) and may be taken over.
    static let lockLifetimeMillis: Int64 = 60_000

    /// Runs `work` in a write transaction, at most once per key.
    public static func run(
        _ request: HTTPRequest, context: RequestContext, database: any Database,
        work: (any SQLConnection) throws -> HTTPResponse
    ) throws -> HTTPResponse {
        guard let key = request.headers["Idempotency-Key"] else {
            return try database.write(work)
        }
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) else {
            throw Problem.invalid(pointer: "header:Idempotency-Key", "must be 1 to 255 printable ASCII characters")
        }
        let scope = "\(request.method.rawValue) \(context.route)"
        let hash = Digest.sha256Hex(Array(request.path.utf8) + [0] + request.body)
        let organization = context.organizationId

        if let replay = try claim(key: key, scope: scope, hash: hash, organization: organization, database: database) {
            return replay
        }
        do {
            return try database.write { connection in
                let response = try work(connection)
                try connection.execute(
                    """
                    UPDATE idempotency_keys SET state = 'completed', response_status = \(response.status),
                        response_type = \(response.headers["Content-Type"]), response_body = \(response.bodyText)
                    WHERE organization_id = \(organization) AND scope = \(scope) AND idempotency_key = \(key)
                    """)
                return response
            }
        } catch {
            _ = try? database.write { connection in
                try connection.execute(
                    "DELETE FROM idempotency_keys WHERE organization_id = \(organization) AND scope = \(scope) AND idempotency_key = \(key) AND state = 'processing'"
                )
            }
            throw error
        }
    }

    /// Claims the key for this request (nil), or answers for it (a replay), or throws 409/422.
    /// The check is a read, so a duplicate learns it is one without waiting for the first
    /// request's transaction.
    private static func claim(
        key: String, scope: String, hash: String, organization: String, database: any Database
    ) throws -> HTTPResponse? {
        for _ in 0..<2 {
            let existing = try database.read { connection in
                try connection.queryFirst(
                    """
                    SELECT request_hash, state, response_status, response_type, response_body, locked_at FROM idempotency_keys
                    WHERE organization_id = \(organization) AND scope = \(scope) AND idempotency_key = \(key)
                    """)
            }
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            guard let existing else {
                let inserted = try database.write { connection in
                    try connection.execute(
                        """
                        INSERT INTO idempotency_keys (organization_id, scope, idempotency_key, request_hash, state, locked_at, created_at)
                        VALUES (\(organization), \(scope), \(key), \(hash), 'processing', \(now), \(Timestamp.now()))
                        ON CONFLICT DO NOTHING
                        """)
                }
                if inserted == 1 { return nil }
                continue  // claimed by another request a moment ago: look again
            }
            guard try existing.string("request_hash") == hash else {
                throw Problem.invalid(
                    pointer: "header:Idempotency-Key", "was already used with a different request body")
            }
            if try existing.string("state") == "completed" {
                var headers = HTTPHeaders([("Idempotent-Replayed", "true")])
                if let type = existing.optionalString("response_type") { headers.add("Content-Type", type) }
                return HTTPResponse(
                    status: try existing.int("response_status"), headers: headers,
                    body: Array((existing.optionalString("response_body") ?? "").utf8))
            }
            let lockedAt = try existing.int64("locked_at")
            if lockedAt > now - lockLifetimeMillis { break }
            // A claim left by a request that died: take it over, unless someone else just did.
            let taken = try database.write { connection in
                try connection.execute(
                    """
                    UPDATE idempotency_keys SET locked_at = \(now)
                    WHERE organization_id = \(organization) AND scope = \(scope) AND idempotency_key = \(key)
                        AND state = 'processing' AND locked_at = \(lockedAt)
                    """)
            }
            if taken == 1 { return nil }
        }
        throw Problem.conflict(
            "A request with this Idempotency-Key is still being processed; retry later.", type: "idempotency-in-progress")
    }
}
