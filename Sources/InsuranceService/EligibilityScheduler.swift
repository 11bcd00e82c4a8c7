import Foundation
import RCMCore
import RCMEvents
import RCMServiceKit
import RCMStorage

/// Verifies eligibility before patients arrive: every booked appointment is queued to be checked
/// `daysAhead` days before its date, and again at check-in. Payers that do not answer are asked
/// again with growing pauses, up to `maxAttempts` times.
struct EligibilityScheduler: Sendable {
    let environment: ServiceEnvironment
    let engine: EligibilityEngine
    static let daysAhead = 3
    static let maxAttempts = 5

    /// Runs the checks that are due; returns how many queue entries were processed.
    func runDue(organizationId: String? = nil, now: Date = Date()) throws -> Int {
        let stamp = Timestamp.format(now)
        let stale = Timestamp.format(now.addingTimeInterval(-600))
        var select: SQL = "SELECT * FROM eligibility_queue WHERE state = 'due' AND due_at <= \(stamp)"
        if let organizationId { select = select + " AND organization_id = \(organizationId)" }
        select = select + " ORDER BY due_at LIMIT 20"
        let due = try environment.database.write { connection -> [Row] in
            // Entries left running by a process that died are due again.
            try connection.execute(
                "UPDATE eligibility_queue SET state = 'due' WHERE state = 'running' AND updated_at < \(stale)")
            // Questions whose callback never came (or whose process died mid-call) end as not verified.
            try connection.execute(
                """
                UPDATE eligibility_checks SET status = 'not_verified', retryable = 1, completed_at = \(stamp),
                    message = 'Not verified: no answer from the payer within 10 minutes. Retry, or verify by phone.'
                WHERE status = 'pending' AND requested_at < \(stale)
                """)
            return try connection.query(select)
        }
        var processed = 0
        for row in due {
            let appointment = try row.string("appointment_id")
            let claimed = try environment.database.write { connection in
                try connection.execute(
                    """
                    UPDATE eligibility_queue SET state = 'running', updated_at = \(Timestamp.now())
                    WHERE appointment_id = \(appointment) AND state = 'due'
                    """)
            }
            guard claimed == 1 else { continue }  // another worker took it
            processed += 1
            try process(row, now: now)
        }
        return processed
    }

    func process(_ row: Row, now: Date) throws {
        let appointment = try row.string("appointment_id")
        let organization = try row.string("organization_id")
        let patientId = try row.string("patient_id")
        let date = try row.date("date_of_service")
        let reason = try row.string("reason")
        let attempts = try row.int("attempts") + 1
        let coverage = try environment.database.read { connection in
            try connection.query(
                """
                \(unsafeRaw: InsuranceService.coverageSelect)
                WHERE c.organization_id = \(organization) AND c.patient_id = \(patientId)
                ORDER BY c.coverage_order, c.valid_from DESC
                """
            ).map { try InsuranceService.coverage(from: $0, fields: environment.fields) }
                .first { $0.isActive(on: date) }
        }
        guard let coverage else {
            try finish(appointment, state: "no_coverage", checkId: nil, attempts: attempts)
            return
        }
        let npi = row.optionalString("provider_npi").flatMap { NPI.isValid($0) ? $0 : nil }
        let provider = npi.map { ProviderIdentity(name: EligibilityEngine.defaultProvider.name, npi: $0) }
        do {
            let context = try environment.systemContext(organizationId: organization)
            let (check, _) = try engine.check(
                EligibilityEngine.Ask(
                    coverageId: coverage.id, dateOfService: date, serviceTypeCodes: ["30"],
                    provider: provider ?? EligibilityEngine.defaultProvider,
                    trigger: reason == "check_in" ? "check_in" : "scheduled", appointmentId: appointment, force: false),
                context: context)
            if check.status == .notVerified, check.retryable, attempts < EligibilityScheduler.maxAttempts {
                try retryLater(appointment, attempts: attempts, now: now)
            } else {
                try finish(appointment, state: "done", checkId: check.id, attempts: attempts)
            }
        } catch {
            environment.logger.error(
                "scheduled eligibility check failed", ["appointment": appointment, "error": String(describing: error)])
            if attempts < EligibilityScheduler.maxAttempts {
                try retryLater(appointment, attempts: attempts, now: now)
            } else {
                try finish(appointment, state: "failed", checkId: nil, attempts: attempts)
            }
        }
    }

    func retryLater(_ appointment: String, attempts: Int, now: Date) throws {
        let due = Timestamp.format(now.addingTimeInterval(Double(attempts) * 300))
        try environment.database.write { connection in
            try connection.execute(
                """
                UPDATE eligibility_queue SET state = 'due', due_at = \(due), attempts = \(attempts),
                    updated_at = \(Timestamp.now())
                WHERE appointment_id = \(appointment) AND state = 'running'
                """)
        }
    }

    func finish(_ appointment: String, state: String, checkId: String?, attempts: Int) throws {
        try environment.database.write { connection in
            try connection.execute(
                """
                UPDATE eligibility_queue SET state = \(state), check_id = \(checkId), attempts = \(attempts),
                    updated_at = \(Timestamp.now())
                WHERE appointment_id = \(appointment) AND state = 'running'
                """)
        }
    }
}

/// Queues eligibility checks from the scheduling events of the patient service.
struct InsuranceConsumer: EventConsumer {
    let environment: ServiceEnvironment
    var name: String { InsuranceService.name }
    var subscribedTypes: [String] { InsuranceService.subscribedTypes }
    var database: any Database { environment.database }

    struct Facts: Decodable {
        let appointmentId: String?
        let id: String?
        let patientId: String?
        let locationId: String?
        let providerNpi: String?
        let npi: String?
        let start: String?
        /// The appointment's start in the location's time zone: its date is the date of service.
        let localStart: String?
    }

    func handle(_ event: EventEnvelope, in connection: any SQLConnection) throws {
        let facts = try event.decode(Facts.self)
        guard let appointment = facts.appointmentId ?? facts.id else { return }
        let now = Timestamp.now()
        switch event.type {
        case "appointment.booked", "appointment.rescheduled", "appointment.checked_in":
            guard let patient = facts.patientId, let start = facts.localStart ?? facts.start,
                let date = CalendarDate(String(start.prefix(10)))
            else { return }
            let checkIn = event.type == "appointment.checked_in"
            let ahead = date.startOfDay.addingTimeInterval(-Double(EligibilityScheduler.daysAhead) * 86_400)
            let due = checkIn ? now : Timestamp.format(max(Date(), ahead))
            try connection.execute(
                """
                INSERT INTO eligibility_queue (appointment_id, organization_id, patient_id, location_id, provider_npi,
                    date_of_service, due_at, reason, state, attempts, updated_at)
                VALUES (\(appointment), \(event.organizationId), \(patient), \(facts.locationId ?? event.locationId),
                    \(facts.providerNpi ?? facts.npi), \(date), \(due), \(checkIn ? "check_in" : "scheduled"), 'due', 0,
                    \(now))
                ON CONFLICT (appointment_id) DO UPDATE SET patient_id = excluded.patient_id,
                    location_id = excluded.location_id, provider_npi = excluded.provider_npi,
                    date_of_service = excluded.date_of_service, due_at = excluded.due_at, reason = excluded.reason,
                    state = 'due', attempts = 0, updated_at = excluded.updated_at
                """)
        case "appointment.cancelled", "appointment.no_show":
            try connection.execute(
                "UPDATE eligibility_queue SET state = 'cancelled', updated_at = \(now) WHERE appointment_id = \(appointment) AND state = 'due'"
            )
        default:
            return
        }
    }
}
