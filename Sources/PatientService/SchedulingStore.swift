import Foundation
import RCMCore
import RCMStorage

/// Providers, their hours, appointment types and appointments, in the patient service's database.
///
/// A provider's booked time is also kept as one row per five-minute granule in
/// `provider_busy_slots`, whose primary key is (provider, granule): two appointments of one provider
/// that overlap by even one granule cannot both commit, whatever the interleaving of their
/// transactions, on SQLite and on PostgreSQL alike. The rows are written in the booking's
/// transaction and removed in the cancelling (or rescheduling) one.
enum SchedulingStore {
    static let migration = Migration(
        3, "scheduling",
        [
            """
            CREATE TABLE schedule_time_zones (
                organization_id TEXT NOT NULL, location_id TEXT NOT NULL, time_zone TEXT NOT NULL,
                PRIMARY KEY (organization_id, location_id))
            """,
            """
            CREATE TABLE providers (
                id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, prefix TEXT, given_name TEXT NOT NULL,
                family_name TEXT NOT NULL, suffix TEXT, npi TEXT NOT NULL, specialty TEXT NOT NULL,
                created_at TEXT NOT NULL, UNIQUE (organization_id, npi))
            """,
            """
            CREATE TABLE provider_locations (
                provider_id TEXT NOT NULL, organization_id TEXT NOT NULL, location_id TEXT NOT NULL,
                PRIMARY KEY (provider_id, location_id))
            """,
            "CREATE INDEX provider_locations_location ON provider_locations (organization_id, location_id)",
            """
            CREATE TABLE provider_hours (
                provider_id TEXT NOT NULL, location_id TEXT NOT NULL, weekday INTEGER NOT NULL,
                start_minute INTEGER NOT NULL, end_minute INTEGER NOT NULL)
            """,
            "CREATE INDEX provider_hours_provider ON provider_hours (provider_id, weekday)",
            """
            CREATE TABLE provider_exceptions (
                id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, location_id TEXT, exception_date TEXT NOT NULL,
                kind TEXT NOT NULL, start_minute INTEGER, end_minute INTEGER, reason TEXT, created_at TEXT NOT NULL)
            """,
            "CREATE INDEX provider_exceptions_date ON provider_exceptions (provider_id, exception_date)",
            """
            CREATE TABLE appointment_types (
                id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
                duration_minutes INTEGER NOT NULL, created_at TEXT NOT NULL, UNIQUE (organization_id, code))
            """,
            """
            CREATE TABLE appointments (
                id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, patient_id TEXT NOT NULL,
                provider_id TEXT NOT NULL, provider_npi TEXT NOT NULL, location_id TEXT NOT NULL,
                appointment_type_id TEXT NOT NULL, appointment_type_code TEXT NOT NULL,
                start_minute BIGINT NOT NULL, end_minute BIGINT NOT NULL, local_date TEXT NOT NULL,
                time_zone TEXT NOT NULL, status TEXT NOT NULL, planned_services TEXT NOT NULL, cancel_reason TEXT,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL)
            """,
            "CREATE INDEX appointments_patient ON appointments (organization_id, patient_id, start_minute)",
            "CREATE INDEX appointments_provider ON appointments (organization_id, provider_id, local_date)",
            "CREATE INDEX appointments_location ON appointments (organization_id, location_id, local_date)",
            """
            CREATE TABLE provider_busy_slots (
                provider_id TEXT NOT NULL, slot_minute BIGINT NOT NULL, appointment_id TEXT NOT NULL,
                PRIMARY KEY (provider_id, slot_minute))
            """,
            "CREATE INDEX provider_busy_slots_appointment ON provider_busy_slots (appointment_id)",
        ])

    // MARK: Time zones

    /// The key of the organization's default in `schedule_time_zones`.
    static let defaultKey = "*"

    static func timeZones(organization: String, in connection: any SQLConnection) throws -> ScheduleTimeZones {
        var settings = ScheduleTimeZones(defaultTimeZone: "UTC", locations: [:])
        for row in try connection.query(
            "SELECT location_id, time_zone FROM schedule_time_zones WHERE organization_id = \(organization)")
        {
            let location = try row.string("location_id")
            if location == defaultKey {
                settings.defaultTimeZone = try row.string("time_zone")
            } else {
                settings.locations[location] = try row.string("time_zone")
            }
        }
        return settings
    }

    static func replaceTimeZones(
        _ settings: ScheduleTimeZones, organization: String, in connection: any SQLConnection
    ) throws {
        try connection.execute("DELETE FROM schedule_time_zones WHERE organization_id = \(organization)")
        for (location, zone) in [(defaultKey, settings.defaultTimeZone)]
            + settings.locations.sorted(by: { $0.key < $1.key })
        {
            try connection.execute(
                """
                INSERT INTO schedule_time_zones (organization_id, location_id, time_zone)
                VALUES (\(organization), \(location), \(zone))
                """)
        }
    }

    // MARK: Providers

    static func insert(_ provider: Provider, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO providers (id, organization_id, prefix, given_name, family_name, suffix, npi, specialty, created_at)
            VALUES (\(provider.id), \(provider.organizationId), \(provider.prefix), \(provider.givenName),
                \(provider.familyName), \(provider.suffix), \(provider.npi), \(provider.specialty), \(provider.createdAt))
            """)
        for location in provider.locations {
            try connection.execute(
                """
                INSERT INTO provider_locations (provider_id, organization_id, location_id)
                VALUES (\(provider.id), \(provider.organizationId), \(location))
                """)
        }
    }

    static func provider(_ id: String, organization: String, in connection: any SQLConnection) throws -> Provider? {
        try providers(
            "SELECT * FROM providers WHERE id = \(id) AND organization_id = \(organization)", in: connection
        ).first
    }

    /// The organization's providers, by name; with `location`, those working there.
    static func providers(
        organization: String, location: String?, in connection: any SQLConnection
    ) throws -> [Provider] {
        var sql: SQL = "SELECT * FROM providers WHERE organization_id = \(organization)"
        if let location {
            sql =
                sql
                + " AND id IN (SELECT provider_id FROM provider_locations WHERE organization_id = \(organization) AND location_id = \(location))"
        }
        return try providers(sql + " ORDER BY family_name, given_name, id", in: connection)
    }

    private static func providers(_ sql: SQL, in connection: any SQLConnection) throws -> [Provider] {
        let rows = try connection.query(sql)
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.string("id") }
        var locations: [String: [String]] = [:]
        for row in try connection.query(
            "SELECT provider_id, location_id FROM provider_locations WHERE provider_id IN "
                + SQL.list(ids) + " ORDER BY location_id")
        {
            locations[try row.string("provider_id"), default: []].append(try row.string("location_id"))
        }
        return try rows.map { row in
            let id = try row.string("id")
            return Provider(
                id: id, organizationId: try row.string("organization_id"), prefix: row.optionalString("prefix"),
                givenName: try row.string("given_name"), familyName: try row.string("family_name"),
                suffix: row.optionalString("suffix"), npi: try row.string("npi"),
                specialty: try row.string("specialty"), locations: locations[id] ?? [],
                createdAt: try row.string("created_at"))
        }
    }

    // MARK: Hours and exceptions

    static func replaceHours(_ hours: [WorkingHours], provider: String, in connection: any SQLConnection) throws {
        try connection.execute("DELETE FROM provider_hours WHERE provider_id = \(provider)")
        for entry in hours {
            try connection.execute(
                """
                INSERT INTO provider_hours (provider_id, location_id, weekday, start_minute, end_minute)
                VALUES (\(provider), \(entry.locationId), \(entry.weekday.iso),
                    \(ScheduleTime.minuteOfDay(entry.start) ?? 0), \(ScheduleTime.minuteOfDay(entry.end) ?? 0))
                """)
        }
    }

    static func hours(provider: String, in connection: any SQLConnection) throws -> [WorkingHours] {
        try connection.query(
            "SELECT * FROM provider_hours WHERE provider_id = \(provider) ORDER BY weekday, start_minute, location_id"
        ).map { row in
            WorkingHours(
                locationId: try row.string("location_id"), weekday: Weekday(iso: try row.int("weekday")) ?? .monday,
                start: ScheduleTime.clock(try row.int("start_minute")),
                end: ScheduleTime.clock(try row.int("end_minute")))
        }
    }

    static func insert(_ exception: ScheduleException, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO provider_exceptions (id, provider_id, location_id, exception_date, kind, start_minute,
                end_minute, reason, created_at)
            VALUES (\(exception.id), \(exception.providerId), \(exception.locationId), \(exception.date),
                \(exception.kind.rawValue), \(exception.start.flatMap(ScheduleTime.minuteOfDay)),
                \(exception.end.flatMap(ScheduleTime.minuteOfDay)), \(exception.reason), \(exception.createdAt))
            """)
    }

    static func exceptions(
        provider: String, from: CalendarDate, to: CalendarDate, in connection: any SQLConnection
    ) throws -> [ScheduleException] {
        try connection.query(
            """
            SELECT * FROM provider_exceptions
            WHERE provider_id = \(provider) AND exception_date >= \(from) AND exception_date <= \(to)
            ORDER BY exception_date, start_minute, id
            """
        ).map { row in
            ScheduleException(
                id: try row.string("id"), providerId: try row.string("provider_id"),
                locationId: row.optionalString("location_id"), date: try row.date("exception_date"),
                kind: ScheduleException.Kind(rawValue: try row.string("kind")) ?? .off,
                start: row.optionalInt64("start_minute").map { ScheduleTime.clock(Int($0)) },
                end: row.optionalInt64("end_minute").map { ScheduleTime.clock(Int($0)) },
                reason: row.optionalString("reason"), createdAt: try row.string("created_at"))
        }
    }

    static func deleteException(_ id: String, provider: String, in connection: any SQLConnection) throws -> Bool {
        try connection.execute("DELETE FROM provider_exceptions WHERE id = \(id) AND provider_id = \(provider)") == 1
    }

    // MARK: Appointment types

    static func insert(_ type: AppointmentType, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO appointment_types (id, organization_id, code, name, duration_minutes, created_at)
            VALUES (\(type.id), \(type.organizationId), \(type.code), \(type.name), \(type.durationMinutes),
                \(type.createdAt))
            """)
    }

    static func appointmentTypes(organization: String, in connection: any SQLConnection) throws -> [AppointmentType] {
        try connection.query("SELECT * FROM appointment_types WHERE organization_id = \(organization) ORDER BY code")
            .map(appointmentType(from:))
    }

    /// The type with this id, or this code.
    static func appointmentType(
        _ idOrCode: String, organization: String, in connection: any SQLConnection
    ) throws -> AppointmentType? {
        try connection.queryFirst(
            """
            SELECT * FROM appointment_types
            WHERE organization_id = \(organization) AND (id = \(idOrCode) OR code = \(idOrCode))
            """
        ).map(appointmentType(from:))
    }

    static func appointmentType(from row: Row) throws -> AppointmentType {
        AppointmentType(
            id: try row.string("id"), organizationId: try row.string("organization_id"), code: try row.string("code"),
            name: try row.string("name"), durationMinutes: try row.int("duration_minutes"),
            createdAt: try row.string("created_at"))
    }

    // MARK: Appointments and busy time

    /// Holds the provider's granules from `start` to `end` for the appointment (those it already
    /// holds stay as they are); false when any of them is held by another appointment (the
    /// transaction must then be abandoned: on PostgreSQL it is aborted).
    static func occupy(
        provider: String, from start: Int64, to end: Int64, appointment: String, in connection: any SQLConnection
    ) throws -> Bool {
        let held = Set(
            try connection.query(
                """
                SELECT slot_minute FROM provider_busy_slots
                WHERE appointment_id = \(appointment) AND provider_id = \(provider)
                """
            ).map { try $0.int64("slot_minute") })
        let wanted = stride(from: start, to: end, by: ScheduleTime.granule).filter { !held.contains($0) }
        guard !wanted.isEmpty else { return true }
        // One statement, granules in ascending order: every transaction waits for others' rows in
        // the same order, so concurrent bookings cannot deadlock.
        var insert: SQL = "INSERT INTO provider_busy_slots (provider_id, slot_minute, appointment_id) VALUES "
        for (index, minute) in wanted.enumerated() {
            insert = insert + "\(unsafeRaw: index == 0 ? "" : ", ")(\(provider), \(minute), \(appointment))"
        }
        do {
            try connection.execute(insert)
            return true
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            return false
        }
    }

    /// Gives back the appointment's granules, all of them or those outside `keeping`. A reschedule
    /// takes its new time first and releases the old after, so that it never waits for another
    /// transaction while holding deleted rows that transaction may be waiting for.
    static func release(
        appointment: String, keeping: (provider: String, start: Int64, end: Int64)? = nil,
        in connection: any SQLConnection
    ) throws {
        if let keeping {
            try connection.execute(
                """
                DELETE FROM provider_busy_slots WHERE appointment_id = \(appointment)
                    AND NOT (provider_id = \(keeping.provider) AND slot_minute >= \(keeping.start)
                        AND slot_minute < \(keeping.end))
                """)
        } else {
            try connection.execute("DELETE FROM provider_busy_slots WHERE appointment_id = \(appointment)")
        }
    }

    /// Granules held for the providers between two instants.
    static func busy(
        providers: [String], from: Int64, to: Int64, in connection: any SQLConnection
    ) throws -> [String: Set<Int64>] {
        guard !providers.isEmpty else { return [:] }
        var busy: [String: Set<Int64>] = [:]
        for row in try connection.query(
            "SELECT provider_id, slot_minute FROM provider_busy_slots WHERE provider_id IN " + SQL.list(providers)
                + " AND slot_minute >= \(from) AND slot_minute < \(to)")
        {
            busy[try row.string("provider_id"), default: []].insert(try row.int64("slot_minute"))
        }
        return busy
    }

    static func insert(
        _ appointment: Appointment, startMinute: Int64, endMinute: Int64, localDate: CalendarDate,
        in connection: any SQLConnection
    ) throws {
        try connection.execute(
            """
            INSERT INTO appointments (id, organization_id, patient_id, provider_id, provider_npi, location_id,
                appointment_type_id, appointment_type_code, start_minute, end_minute, local_date, time_zone, status,
                planned_services, cancel_reason, created_at, updated_at, version)
            VALUES (\(appointment.id), \(appointment.organizationId), \(appointment.patientId),
                \(appointment.providerId), \(appointment.providerNpi), \(appointment.locationId),
                \(appointment.appointmentTypeId), \(appointment.appointmentTypeCode), \(startMinute), \(endMinute),
                \(localDate), \(appointment.timeZone), \(appointment.status.rawValue),
                \(try JSON.encodeString(appointment.plannedServices)), \(appointment.cancelReason),
                \(appointment.createdAt), \(appointment.updatedAt), \(appointment.version))
            """)
    }

    /// Writes a changed appointment if it is still at `expectedVersion`; false when it changed meanwhile.
    static func update(
        _ appointment: Appointment, startMinute: Int64, endMinute: Int64, localDate: CalendarDate,
        expectedVersion: Int, in connection: any SQLConnection
    ) throws -> Bool {
        try connection.execute(
            """
            UPDATE appointments SET provider_id = \(appointment.providerId), provider_npi = \(appointment.providerNpi),
                location_id = \(appointment.locationId), start_minute = \(startMinute), end_minute = \(endMinute),
                local_date = \(localDate), time_zone = \(appointment.timeZone), status = \(appointment.status.rawValue),
                cancel_reason = \(appointment.cancelReason), updated_at = \(appointment.updatedAt),
                version = \(appointment.version)
            WHERE id = \(appointment.id) AND organization_id = \(appointment.organizationId)
                AND version = \(expectedVersion)
            """) == 1
    }

    static func appointment(_ id: String, organization: String, in connection: any SQLConnection) throws -> Appointment?
    {
        try connection.queryFirst("SELECT * FROM appointments WHERE id = \(id) AND organization_id = \(organization)")
            .map(appointment(from:))
    }

    struct Search {
        var patientId: String?
        var providerId: String?
        var locationId: String?
        var date: CalendarDate?
        var from: Int64?
        var to: Int64?
        var status: AppointmentStatus?
        /// Start minute and id of the last appointment of the previous page.
        var after: (Int64, String)?
        var limit: Int
    }

    static func appointments(
        _ search: Search, organization: String, scope: SQL, in connection: any SQLConnection
    ) throws -> [Appointment] {
        var sql: SQL = "SELECT * FROM appointments WHERE organization_id = \(organization)" + scope
        if let patient = search.patientId { sql = sql + " AND patient_id = \(patient)" }
        if let provider = search.providerId { sql = sql + " AND provider_id = \(provider)" }
        if let location = search.locationId { sql = sql + " AND location_id = \(location)" }
        if let date = search.date { sql = sql + " AND local_date = \(date)" }
        if let from = search.from { sql = sql + " AND end_minute > \(from)" }
        if let to = search.to { sql = sql + " AND start_minute < \(to)" }
        if let status = search.status { sql = sql + " AND status = \(status.rawValue)" }
        if let (minute, id) = search.after {
            sql = sql + " AND (start_minute > \(minute) OR (start_minute = \(minute) AND id > \(id)))"
        }
        sql = sql + " ORDER BY start_minute, id LIMIT \(search.limit)"
        return try connection.query(sql).map(appointment(from:))
    }

    static func appointment(from row: Row) throws -> Appointment {
        let start = try row.int64("start_minute")
        let end = try row.int64("end_minute")
        let zoneName = try row.string("time_zone")
        let zone = ScheduleZone(zoneName) ?? ScheduleZone("UTC")!
        return Appointment(
            id: try row.string("id"), organizationId: try row.string("organization_id"),
            patientId: try row.string("patient_id"), providerId: try row.string("provider_id"),
            providerNpi: try row.string("provider_npi"), locationId: try row.string("location_id"),
            appointmentTypeId: try row.string("appointment_type_id"),
            appointmentTypeCode: try row.string("appointment_type_code"), start: ScheduleTime.utc(start),
            end: ScheduleTime.utc(end), localStart: zone.format(start), localEnd: zone.format(end), timeZone: zoneName,
            status: AppointmentStatus(rawValue: try row.string("status")) ?? .booked,
            plannedServices: try JSON.decode([String].self, from: try row.string("planned_services")),
            cancelReason: row.optionalString("cancel_reason"), createdAt: try row.string("created_at"),
            updatedAt: try row.string("updated_at"), version: try row.int("version"))
    }

    /// The stored start and end minutes of an appointment (its text form is derived from them).
    static func minutes(of appointment: Appointment) -> (Int64, Int64)? {
        guard let start = ScheduleTime.parse(appointment.start), let end = ScheduleTime.parse(appointment.end) else {
            return nil
        }
        let utc = ScheduleZone("UTC")!
        return (utc.instant(start), utc.instant(end))
    }
}
