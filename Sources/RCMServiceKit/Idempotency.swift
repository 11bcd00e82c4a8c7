import Foundation
import RCMCore
import RCMHTTP
import RCMStorage
import Synchronization

/// `Idempotency-Key` for POSTs that create things or move money: the first request's response is
/// stored in the same transaction as its effect; a replay gets it back and creates nothing; the
/// same key with another body is 422; a duplicate that arrives while the first is still running
/// is 409.
///
/// Because the stored response commits with the effect, a crash in between leaves neither, and
/// the client's retry simply runs again. Duplicates in flight are seen in-process; across
/// processes (distributed topology) the key's primary key makes the second commit fail, and it
/// then answers with the first one's response.
public enum Idempotency {
    public static let migration = Migration(
        1002, "idempotency",
        [
            """
            CREATE TABLE idempotency_keys (
                organization_id TEXT NOT NULL, scope TEXT NOT NULL, idempotency_key TEXT NOT NULL,
                request_hash TEXT NOT NULL, response_status INTEGER NOT NULL, response_type TEXT, response_location TEXT,
                response_body TEXT NOT NULL, created_at TEXT NOT NULL,
                PRIMARY KEY (organization_id, scope, idempotency_key))
            """
        ])

    /// Keys whose first request is running in this process.
    private static let inFlight = Mutex<Set<String>>([])

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
        let slot = "\(ObjectIdentifier(database as AnyObject).hashValue)\u{0}\(organization)\u{0}\(scope)\u{0}\(key)"

        guard inFlight.withLock({ $0.insert(slot).inserted }) else {
            throw Problem.conflict(
                "A request with this Idempotency-Key is still being processed; retry later.",
                type: "idempotency-in-progress")
        }
        defer { _ = inFlight.withLock { $0.remove(slot) } }

        do {
            return try database.write { connection in
                // Looked up in the write transaction: one transaction per request, not two.
                if let earlier = try stored(
                    organization: organization, scope: scope, key: key, hash: hash, in: connection)
                {
                    return earlier
                }
                let response = try work(connection)
                try connection.execute(
                    """
                    INSERT INTO idempotency_keys (organization_id, scope, idempotency_key, request_hash, response_status,
                        response_type, response_location, response_body, created_at)
                    VALUES (\(organization), \(scope), \(key), \(hash), \(response.status), \(response.headers["Content-Type"]),
                        \(response.headers["Location"]), \(response.bodyText), \(Timestamp.now()))
                    """)
                return response
            }
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            // Another process committed the same key first: answer as it did.
            if let earlier = try database.read({
                try stored(organization: organization, scope: scope, key: key, hash: hash, in: $0)
            }) {
                return earlier
            }
            throw error
        }
    }

    /// The stored response for the key, or nil; 422 when the key came with another body.
    private static func stored(
        organization: String, scope: String, key: String, hash: String, in connection: any SQLConnection
    ) throws -> HTTPResponse? {
        let row = try connection.query(
            """
            SELECT request_hash, response_status, response_type, response_location, response_body FROM idempotency_keys
            WHERE organization_id = \(organization) AND scope = \(scope) AND idempotency_key = \(key)
            """
        ).first
        guard let row else { return nil }
        guard try row.string("request_hash") == hash else {
            throw Problem.invalid(pointer: "header:Idempotency-Key", "was already used with a different request body")
        }
        var headers = HTTPHeaders([("Idempotent-Replayed", "true")])
        if let type = row.optionalString("response_type") { headers.add("Content-Type", type) }
        if let location = row.optionalString("response_location") { headers.add("Location", location) }
        return HTTPResponse(
            status: try row.int("response_status"), headers: headers, body: Array(try row.string("response_body").utf8))
    }
}
