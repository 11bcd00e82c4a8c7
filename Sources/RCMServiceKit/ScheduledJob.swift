import Foundation
import RCMCore
import RCMHTTP
import RCMSecurity
import Synchronization

/// Work a service does on a timer rather than on a request or an event (e.g. verifying the
/// eligibility of tomorrow's appointments). The platform runs each job on its own thread.
public struct ScheduledJob: Sendable {
    public let name: String
    public let interval: TimeInterval
    public let run: @Sendable () throws -> Void

    public init(name: String, every interval: TimeInterval, run: @escaping @Sendable () throws -> Void) {
        self.name = name
        self.interval = interval
        self.run = run
    }
}

/// Runs scheduled jobs, each on its own thread, until stopped.
public final class JobRunner: Sendable {
    public let jobs: [ScheduledJob]
    let logger = Logger(label: "jobs")
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    public init(jobs: [ScheduledJob]) { self.jobs = jobs }

    public func start() {
        for job in jobs {
            Thread.detachNewThread { [self] in
                // The first run is one interval after start: a process that starts and stops
                // at once (tools, tests) does no timed work.
                while !stopped.load(ordering: .acquiring) {
                    _ = wake.wait(timeout: .now() + job.interval)
                    if stopped.load(ordering: .acquiring) { break }
                    do {
                        try job.run()
                    } catch {
                        logger.error("job failed", ["job": job.name, "error": String(describing: error)])
                    }
                }
            }
        }
    }

    public func stop() {
        stopped.store(true, ordering: .releasing)
        for _ in jobs { wake.signal() }
    }
}

extension ServiceEnvironment {
    /// A request context for the installation's own work in `organizationId` (jobs, consumers
    /// that call other services): a short-lived `system` token with the roles given.
    public func systemContext(organizationId: String, roles: [Role] = [.admin]) throws -> RequestContext {
        let now = Int64(Date().timeIntervalSince1970)
        let claims = AccessClaims(
            iss: tokens.issuer, aud: tokens.audience, sub: "system", org: organizationId,
            roles: roles.map(\.rawValue), locations: [], iat: now, exp: now + 300, jti: Identifier.make("jti"))
        var context = RequestContext(requestId: Identifier.make("job"), organizationId: organizationId, logger: logger)
        context.authorization = "Bearer " + (try JWT.sign(claims, with: keys.active))
        context.principal = Principal(
            userId: "system", organizationId: organizationId, roles: Set(roles.map(\.rawValue)), locations: [])
        return context
    }
}
