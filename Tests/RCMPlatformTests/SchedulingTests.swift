import Foundation
import RCMCore
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage
import RCMTestSupport
import Synchronization
import Testing

@testable import RCMPlatform

/// A platform with the demo organization (time zone Asia/Kolkata, appointment types NEW 30,
/// FOLLOWUP 15 and LAB 10 minutes) and one more provider, Dr. Test, who works at Andheri on
/// Mondays 09:00–10:00 only, so that every free slot of a test is known.
struct Schedule {
    let platform: TestPlatform
    let providerId: String
    let types: [String: String]

    init() throws {
        platform = try TestPlatform()
        let provider = platform.post(
            "/api/patients/providers",
            #"{"givenName": "Tess", "familyName": "Test", "npi": "1000000004", "specialty": "General Medicine", "locations": ["loc_andheri"]}"#
        )
        guard provider.status == 201, let id = provider.object["id"] as? String else {
            throw DemoData.LoadError(description: "provider: \(provider.status) \(provider.bodyText)")
        }
        providerId = id
        let hours = platform.request(
            .PUT, "/api/patients/providers/\(id)/hours", headers: [("Content-Type", "application/json")],
            body: #"{"hours": [{"locationId": "loc_andheri", "weekday": "monday", "start": "09:00", "end": "10:00"}]}"#)
        guard hours.status == 200 else { throw DemoData.LoadError(description: "hours: \(hours.bodyText)") }
        let items = try platform.json("/api/patients/appointment-types")["items"] as? [[String: Any]] ?? []
        types = Dictionary(
            uniqueKeysWithValues: items.compactMap { item in
                (item["code"] as? String).flatMap { code in (item["id"] as? String).map { (code, $0) } }
            })
    }

    /// The date (in Mumbai) of the `weekday` (1 Monday … 7 Sunday) at least `days` days from today.
    static func date(weekday: Int, atLeast days: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Kolkata")!
        var day = Date().addingTimeInterval(Double(days) * 86_400)
        // Foundation numbers Sunday 1 … Saturday 7.
        while (calendar.component(.weekday, from: day) + 5) % 7 + 1 != weekday { day = day.addingTimeInterval(86_400) }
        let parts = calendar.dateComponents([.year, .month, .day], from: day)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// A Monday at least a week away, when Dr. Test works 09:00–10:00.
    static let monday = date(weekday: 1, atLeast: 8)

    func book(
        _ start: String, type: String = "FOLLOWUP", patient: String = "P10001", provider: String? = nil,
        location: String = "loc_andheri", headers: [(String, String)] = []
    ) -> HTTPResponse {
        platform.post(
            "/api/patients/appointments",
            #"{"patientId": "\#(patient)", "providerId": "\#(provider ?? providerId)", "locationId": "\#(location)", "appointmentTypeId": "\#(types[type] ?? type)", "start": "\#(start)", "plannedServices": ["OPD001"]}"#,
            headers: headers)
    }

    /// Local start times (`HH:MM`) of Dr. Test's free slots on a date.
    func freeSlots(_ date: String, type: String = "FOLLOWUP") throws -> [String] {
        let slots =
            try platform.json(
                "/api/patients/slots?from=\(date)&to=\(date)&appointmentType=\(type)&providerId=\(providerId)")[
                "items"] as? [[String: Any]] ?? []
        return slots.compactMap { ($0["localStart"] as? String).map { String($0.dropFirst(11).prefix(5)) } }
    }

    func post(_ path: String, _ body: String = "{}") -> HTTPResponse { platform.post(path, body) }

    /// Granules of Dr. Test's time held by appointments.
    func busyGranules() throws -> Int {
        let database = try #require(platform.platform.databases["patient"])
        return try database.read {
            try $0.queryFirst("SELECT COUNT(*) AS n FROM provider_busy_slots WHERE provider_id = \(providerId)")?.int(
                "n")
                ?? -1
        }
    }

    /// Types of the appointment events in the patient service's outbox about one appointment, in order.
    func events(_ appointmentId: String) throws -> [(type: String, payload: [String: Any])] {
        let database = try #require(platform.platform.databases["patient"])
        let rows = try database.read {
            try $0.query("SELECT type, payload FROM outbox_events WHERE type LIKE 'appointment.%' ORDER BY seq")
        }
        return try rows.compactMap { row in
            let payload =
                try JSONSerialization.jsonObject(with: Data(try row.string("payload").utf8)) as? [String: Any] ?? [:]
            guard payload["appointmentId"] as? String == appointmentId else { return nil }
            return (try row.string("type"), payload)
        }
    }

    func token(roles: [Role], locations: [String]) throws -> [(String, String)] {
        let now = Int64(Date().timeIntervalSince1970)
        let claims = AccessClaims(
            iss: platform.platform.tokens.issuer, aud: platform.platform.tokens.audience, sub: "usr_desk",
            org: platform.configuration.organizationId, roles: roles.map(\.rawValue), locations: locations, iat: now,
            exp: now + 300, jti: Identifier.make("jti"))
        return [("Authorization", "Bearer " + (try JWT.sign(claims, with: platform.platform.keys.active)))]
    }
}

@Suite("Scheduling: providers, slots and appointments")
struct SchedulingTests {
    @Test("providers need a valid NPI, known locations and a unique NPI; creating one announces provider.created")
    func providers() throws {
        let schedule = try Schedule()
        let platform = schedule.platform
        let before = try platform.count("patient", "providers")
        for (body, pointer) in [
            (
                #"{"givenName": "A", "familyName": "B", "npi": "1234567890", "specialty": "X", "locations": ["loc_powai"]}"#,
                "/npi"
            ),
            (
                #"{"givenName": "A", "familyName": "B", "npi": "123456789", "specialty": "X", "locations": ["loc_powai"]}"#,
                "/npi"
            ),
            (#"{"givenName": "A", "familyName": "B", "specialty": "X", "locations": ["loc_powai"]}"#, "/npi"),
            (
                #"{"givenName": "A", "familyName": "B", "npi": "1234567893", "specialty": "X", "locations": []}"#,
                "/locations"
            ),
            (
                #"{"givenName": "A", "familyName": "B", "npi": "2000000002", "specialty": "X", "locations": ["loc_moon"]}"#,
                "/locations/0"
            ),
            (
                #"{"givenName": "", "familyName": "B", "npi": "2000000002", "specialty": "X", "locations": ["loc_powai"]}"#,
                "/givenName"
            ),
        ] {
            let response = platform.post("/api/patients/providers", body)
            #expect(response.status == 422, "\(body)")
            #expect(try response.decode(Problem.self).errors.map(\.pointer) == [pointer], "\(body)")
        }
        #expect(try platform.count("patient", "providers") == before)
        // The demo's Dr. Kapoor has 1467532986 already.
        let duplicate = platform.post(
            "/api/patients/providers",
            #"{"givenName": "A", "familyName": "B", "npi": "1467532986", "specialty": "X", "locations": ["loc_powai"]}"#
        )
        #expect(duplicate.status == 409)

        let provider = try platform.json("/api/patients/providers/\(schedule.providerId)")
        #expect(provider["npi"] as? String == "1000000004")
        #expect(provider["locations"] as? [String] == ["loc_andheri"])
        let all = try platform.json("/api/patients/providers")["items"] as? [[String: Any]] ?? []
        #expect(all.count == 4)  // three demo providers and Dr. Test
        let powai = try platform.json("/api/patients/providers?locationId=loc_powai")["items"] as? [[String: Any]] ?? []
        #expect(Set(powai.compactMap { $0["familyName"] as? String }) == ["Iyer", "Desai"])
        let hours =
            try platform.json("/api/patients/providers/\(schedule.providerId)/hours")["items"] as? [[String: Any]]
        #expect(hours?.count == 1)
        #expect(hours?.first?["weekday"] as? String == "monday")

        let database = try #require(platform.platform.databases["patient"])
        let created = try database.read {
            try $0.query("SELECT payload FROM outbox_events WHERE type = 'provider.created'").map {
                try $0.string("payload")
            }
        }
        #expect(created.count == 4)
        #expect(created.contains { $0.contains(schedule.providerId) && $0.contains("1000000004") })
    }

    @Test("scheduling is the patient service's migration 3; the migrator applies a version 2 added later")
    func migrationGap() throws {
        let platform = try TestPlatform(demo: false)
        let patient = try #require(platform.platform.databases["patient"])
        let versions = try patient.read {
            try $0.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.int("version") }
        }
        #expect(versions.contains(3) && versions.contains(2))
        let database = try TestDatabases.make("gap")
        defer { database.close() }
        let one = Migration(1, "one", ["CREATE TABLE gap_one (x TEXT)"])
        let three = Migration(3, "three", ["CREATE TABLE gap_three (x TEXT)"])
        #expect(try Migrator.migrate(database, [one, three]) == [1, 3])
        let two = Migration(2, "two", ["CREATE TABLE gap_two (x TEXT)"])
        #expect(try Migrator.migrate(database, [one, two, three]) == [2])
        #expect(try Migrator.migrate(database, [one, two, three]) == [])
    }

    @Test("literal segments under /api/patients win over the patient's {id}")
    func literalRoutes() throws {
        let schedule = try Schedule()
        let platform = schedule.platform
        for path in [
            "/api/patients/providers", "/api/patients/appointments", "/api/patients/appointment-types",
            "/api/patients/time-zones",
        ] {
            let response = platform.get(path)
            #expect(response.status == 200, "\(path): \(response.bodyText)")
        }
        #expect(platform.get("/api/patients/slots?appointmentType=NEW").status == 200)
        #expect(try platform.json("/api/patients/P10001")["mrn"] as? String == "MRN0000001")
        #expect(platform.get("/api/patients/providers/prv_nope").status == 404)
        #expect(platform.get("/api/patients/appointments/appt_nope").status == 404)
        #expect(try platform.json("/api/patients/time-zones")["defaultTimeZone"] as? String == "Asia/Kolkata")
    }

    @Test("slots follow the weekly hours, minus time off, plus extra hours, minus booked time")
    func slots() throws {
        let schedule = try Schedule()
        let monday = Schedule.monday
        #expect(try schedule.freeSlots(monday) == ["09:00", "09:15", "09:30", "09:45"])
        #expect(try schedule.freeSlots(monday, type: "NEW") == ["09:00", "09:15", "09:30"])
        #expect(try schedule.freeSlots(monday, type: "LAB") == ["09:00", "09:10", "09:20", "09:30", "09:40", "09:50"])
        let slot = try #require(
            (try schedule.platform.json(
                "/api/patients/slots?from=\(monday)&to=\(monday)&appointmentType=FOLLOWUP&providerId=\(schedule.providerId)"
            )["items"] as? [[String: Any]])?.first)
        #expect(slot["start"] as? String == "\(monday)T03:30:00Z")
        #expect(slot["localStart"] as? String == "\(monday)T09:00:00+05:30")
        #expect(slot["timeZone"] as? String == "Asia/Kolkata")

        // Time off from 09:15 to 09:30, then a booking at 09:30.
        let off = schedule.post(
            "/api/patients/providers/\(schedule.providerId)/exceptions",
            #"{"date": "\#(monday)", "kind": "off", "start": "09:15", "end": "09:30", "reason": "meeting"}"#)
        #expect(off.status == 201)
        #expect(try schedule.freeSlots(monday) == ["09:00", "09:30", "09:45"])
        #expect(schedule.book("\(monday)T09:30").status == 201)
        #expect(try schedule.freeSlots(monday) == ["09:00", "09:45"])
        #expect(try schedule.freeSlots(monday, type: "NEW") == [])
        // Booking inside the time off is refused like any time outside the hours.
        #expect(try schedule.book("\(monday)T09:15").decode(Problem.self).errors.map(\.pointer) == ["/start"])

        // The next day is not a working day, until extra hours make it one.
        let tuesday = Schedule.date(weekday: 2, atLeast: 9)
        #expect(try schedule.freeSlots(tuesday) == [])
        let extra = schedule.post(
            "/api/patients/providers/\(schedule.providerId)/exceptions",
            #"{"date": "\#(tuesday)", "kind": "extra", "locationId": "loc_andheri", "start": "14:00", "end": "14:30"}"#)
        #expect(extra.status == 201)
        #expect(try schedule.freeSlots(tuesday) == ["14:00", "14:15"])
        // Extra hours need a location of the provider and times.
        let noLocation = schedule.post(
            "/api/patients/providers/\(schedule.providerId)/exceptions",
            #"{"date": "\#(tuesday)", "kind": "extra", "start": "14:00"}"#)
        #expect(Set(try noLocation.decode(Problem.self).errors.map(\.pointer)) == ["/locationId", "/end"])

        // A whole day off; removing it gives the day back.
        let later = Schedule.date(weekday: 1, atLeast: 15)
        let dayOff = schedule.post(
            "/api/patients/providers/\(schedule.providerId)/exceptions", #"{"date": "\#(later)", "kind": "off"}"#)
        #expect(try schedule.freeSlots(later) == [])
        let exceptionId = try #require(dayOff.object["id"] as? String)
        let listed =
            try schedule.platform.json("/api/patients/providers/\(schedule.providerId)/exceptions")["items"]
            as? [[String: Any]] ?? []
        #expect(listed.count == 3)
        #expect(
            schedule.platform.request(
                .DELETE, "/api/patients/providers/\(schedule.providerId)/exceptions/\(exceptionId)"
            ).status == 204)
        #expect(try schedule.freeSlots(later).count == 4)

        // Across providers: the demo doctors' slots come too, ordered by start; the page is limited.
        let page = try schedule.platform.json(
            "/api/patients/slots?from=\(monday)&to=\(monday)&appointmentType=NEW&limit=5")
        let items = page["items"] as? [[String: Any]] ?? []
        #expect(items.count == 5)
        let starts = items.compactMap { $0["start"] as? String }
        #expect(starts == starts.sorted())
        let cursor = try #require(page["nextCursor"] as? String)
        let next =
            try schedule.platform.json(
                "/api/patients/slots?from=\(monday)&to=\(monday)&appointmentType=NEW&limit=5&cursor=\(cursor)")[
                "items"] as? [[String: Any]] ?? []
        #expect(next.count == 5)
        #expect((next.first?["start"] as? String ?? "") >= starts.last ?? "")
        // Bad queries name the parameter.
        for (query, pointer) in [
            ("appointmentType=NOPE", "query:appointmentType"), ("", "query:appointmentType"),
            ("appointmentType=NEW&from=tomorrow", "query:from"),
            ("appointmentType=NEW&from=\(monday)&to=\(Schedule.date(weekday: 1, atLeast: 60))", "query:to"),
            ("appointmentType=NEW&providerId=prv_nope", "query:providerId"),
        ] {
            let response = schedule.platform.get("/api/patients/slots?" + query)
            #expect(response.status == 422, "\(query)")
            #expect(try response.decode(Problem.self).errors.map(\.pointer) == [pointer], "\(query)")
        }
    }

    @Test("booked → checked_in → completed; cancel and no-show free the time; invalid transitions are 409")
    func lifecycle() throws {
        let schedule = try Schedule()
        let monday = Schedule.monday
        let booked = schedule.book("\(monday)T09:00:00+05:30", type: "NEW")
        #expect(booked.status == 201)
        let appointment = booked.object
        let id = try #require(appointment["id"] as? String)
        #expect(appointment["status"] as? String == "booked")
        #expect(appointment["end"] as? String == "\(monday)T04:00:00Z")
        #expect(appointment["providerNpi"] as? String == "1000000004")
        #expect(booked.headers["Location"] == "/api/patients/appointments/\(id)")
        // The same time, and times overlapping it, are taken.
        #expect(schedule.book("\(monday)T09:00", patient: "P10002").status == 409)
        #expect(schedule.book("\(monday)T09:25", patient: "P10002").status == 409)
        #expect(schedule.book("\(monday)T03:45:00Z", patient: "P10002").status == 409)
        let afterwards = schedule.book("\(monday)T09:30", patient: "P10002")
        #expect(afterwards.status == 201)

        #expect(schedule.post("/api/patients/appointments/\(id)/check-in").status == 200)
        #expect(schedule.post("/api/patients/appointments/\(id)/check-in").status == 409)
        #expect(schedule.post("/api/patients/appointments/\(id)/cancel", #"{"reason": "x"}"#).status == 409)
        #expect(schedule.post("/api/patients/appointments/\(id)/no-show").status == 409)
        #expect(
            schedule.post("/api/patients/appointments/\(id)/reschedule", #"{"start": "\#(monday)T09:45"}"#).status
                == 409)
        let completed = schedule.post("/api/patients/appointments/\(id)/complete")
        #expect(completed.object["status"] as? String == "completed")
        #expect(completed.object["version"] as? Int == 3)
        #expect(schedule.post("/api/patients/appointments/\(id)/complete").status == 409)
        // A completed appointment keeps its time.
        #expect(schedule.book("\(monday)T09:00", patient: "P10003").status == 409)

        // Rescheduling moves the held time; cancelling needs a reason and frees it.
        let second = try #require(afterwards.object["id"] as? String)
        let moved = schedule.post(
            "/api/patients/appointments/\(second)/reschedule", #"{"start": "\#(monday)T09:45"}"#)
        #expect(moved.status == 200, "\(moved.bodyText)")
        #expect(moved.object["localStart"] as? String == "\(monday)T09:45:00+05:30")
        #expect(try schedule.freeSlots(monday) == ["09:30"])
        let occupied = schedule.post(
            "/api/patients/appointments/\(second)/reschedule", #"{"start": "\#(monday)T09:15"}"#)
        #expect(occupied.status == 409)
        #expect(try schedule.freeSlots(monday) == ["09:30"])  // the failed move changed nothing
        let noReason = schedule.post("/api/patients/appointments/\(second)/cancel", "{}")
        #expect(try noReason.decode(Problem.self).errors.map(\.pointer) == ["/reason"])
        let cancelled = schedule.post(
            "/api/patients/appointments/\(second)/cancel", #"{"reason": "patient travelling"}"#)
        #expect(cancelled.object["status"] as? String == "cancelled")
        #expect(cancelled.object["cancelReason"] as? String == "patient travelling")
        #expect(try schedule.freeSlots(monday) == ["09:30", "09:45"])
        #expect(schedule.post("/api/patients/appointments/\(second)/check-in").status == 409)

        let third = try #require(schedule.book("\(monday)T09:30", patient: "P10003").object["id"] as? String)
        #expect(schedule.post("/api/patients/appointments/\(third)/no-show").object["status"] as? String == "no_show")
        #expect(try schedule.freeSlots(monday) == ["09:30", "09:45"])

        // Lists: by patient, by provider and day, by location and day.
        func ids(_ query: String) throws -> [String] {
            (try schedule.platform.json("/api/patients/appointments?" + query)["items"] as? [[String: Any]] ?? [])
                .compactMap { $0["id"] as? String }
        }
        #expect(try ids("providerId=\(schedule.providerId)&date=\(monday)") == [id, third, second])
        #expect(try ids("patientId=P10002&providerId=\(schedule.providerId)") == [second])
        #expect(try ids("locationId=loc_andheri&date=\(monday)&status=no_show") == [third])
        #expect(try ids("providerId=\(schedule.providerId)&limit=1").count == 1)
        #expect(schedule.platform.get("/api/patients/appointments?status=gone").status == 422)

        // Every change is an event, with the provider's NPI and the planned services.
        let events = try schedule.events(id)
        #expect(events.map(\.type) == ["appointment.booked", "appointment.checked_in", "appointment.completed"])
        let payload = try #require(events.first?.payload)
        #expect(payload["providerNpi"] as? String == "1000000004")
        #expect(payload["patientId"] as? String == "P10001")
        #expect(payload["locationId"] as? String == "loc_andheri")
        #expect(payload["appointmentTypeCode"] as? String == "NEW")
        #expect(payload["plannedServices"] as? [String] == ["OPD001"])
        #expect(payload["start"] as? String == "\(monday)T03:30:00Z")
        let secondEvents = try schedule.events(second)
        #expect(secondEvents.map(\.type) == ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"])
        #expect((secondEvents[1].payload["previous"] as? [String: Any])?["start"] as? String == "\(monday)T04:00:00Z")
        #expect(secondEvents[2].payload["reason"] as? String == "patient travelling")
        #expect(try schedule.events(third).map(\.type) == ["appointment.booked", "appointment.no_show"])
    }

    @Test(
        "a booking replayed with its Idempotency-Key books once; a move to another provider and location frees the first's time"
    )
    func replayAndMove() throws {
        let schedule = try Schedule()
        let monday = Schedule.monday
        let key = [("Idempotency-Key", "desk-booking-1")]
        let first = schedule.book("\(monday)T09:00", type: "NEW", headers: key)
        let again = schedule.book("\(monday)T09:00", type: "NEW", headers: key)
        #expect(first.status == 201 && again.status == 201)
        #expect(again.headers["Idempotent-Replayed"] == "true")
        let id = try #require(first.object["id"] as? String)
        #expect(again.object["id"] as? String == id)
        #expect(try schedule.busyGranules() == 6)
        #expect(try schedule.events(id).count == 1)
        // The same key with another body is refused.
        #expect(schedule.book("\(monday)T09:30", type: "NEW", headers: key).status == 422)

        // A move onto part of its own time keeps that part.
        let overlapping = schedule.post(
            "/api/patients/appointments/\(id)/reschedule", #"{"start": "\#(monday)T09:15"}"#)
        #expect(overlapping.status == 200, "\(overlapping.bodyText)")
        #expect(try schedule.busyGranules() == 6)
        #expect(try schedule.freeSlots(monday) == ["09:00", "09:45"])

        // Dr. Desai works at Andheri on Mondays: move the appointment to him, at Andheri.
        let providers = try schedule.platform.json("/api/patients/providers")["items"] as? [[String: Any]] ?? []
        let desai = try #require(providers.first { $0["familyName"] as? String == "Desai" }?["id"] as? String)
        let moved = schedule.post(
            "/api/patients/appointments/\(id)/reschedule",
            #"{"start": "\#(monday)T11:00", "providerId": "\#(desai)", "locationId": "loc_andheri"}"#)
        #expect(moved.status == 200, "\(moved.bodyText)")
        #expect(moved.object["providerId"] as? String == desai)
        #expect(moved.object["providerNpi"] as? String == "1987654328")
        #expect(try schedule.busyGranules() == 0)
        #expect(try schedule.freeSlots(monday, type: "NEW") == ["09:00", "09:15", "09:30"])
        // Dr. Desai is at Powai on Tuesdays, not Andheri; and Dr. Test does not work at Powai.
        let tuesday = Schedule.date(weekday: 2, atLeast: 9)
        let wrongDay = schedule.post(
            "/api/patients/appointments/\(id)/reschedule", #"{"start": "\#(tuesday)T11:00"}"#)
        #expect(try wrongDay.decode(Problem.self).errors.map(\.pointer) == ["/start"])
        let wrongPlace = schedule.post(
            "/api/patients/appointments/\(id)/reschedule",
            #"{"start": "\#(tuesday)T11:00", "providerId": "\#(schedule.providerId)", "locationId": "loc_powai"}"#)
        #expect(try wrongPlace.decode(Problem.self).errors.map(\.pointer) == ["/locationId"])
        #expect(try schedule.platform.json("/api/patients/appointments/\(id)")["version"] as? Int == 3)
    }

    struct BadBooking: CustomTestStringConvertible, Sendable {
        let name: String
        let fields: [String: String]
        let pointer: String
        var testDescription: String { name }
    }

    static let badBookings: [BadBooking] = [
        BadBooking(name: "unknown patient", fields: ["patientId": "P99999"], pointer: "/patientId"),
        BadBooking(name: "missing patient", fields: ["patientId": ""], pointer: "/patientId"),
        BadBooking(name: "unknown provider", fields: ["providerId": "prv_nope"], pointer: "/providerId"),
        BadBooking(
            name: "location the provider does not work at", fields: ["locationId": "loc_powai"], pointer: "/locationId"),
        BadBooking(
            name: "unknown appointment type", fields: ["appointmentTypeId": "aty_nope"], pointer: "/appointmentTypeId"),
        BadBooking(name: "start not a date-time", fields: ["start": "next monday"], pointer: "/start"),
        BadBooking(name: "start off the 5-minute grid", fields: ["start": "T09:02"], pointer: "/start"),
        BadBooking(name: "start with seconds", fields: ["start": "T09:00:30"], pointer: "/start"),
        BadBooking(name: "start before the hours", fields: ["start": "T08:45"], pointer: "/start"),
        BadBooking(name: "end after the hours", fields: ["start": "T09:45"], pointer: "/start"),
        BadBooking(name: "start on a day off", fields: ["start": "sunday"], pointer: "/start"),
        BadBooking(name: "start in the past", fields: ["start": "2020-01-06T09:00"], pointer: "/start"),
        BadBooking(name: "bad offset", fields: ["start": "T09:00+25:00"], pointer: "/start"),
    ]

    @Test("bad bookings are 422 naming the field, and write nothing", arguments: badBookings)
    func badBooking(_ bad: BadBooking) throws {
        let schedule = try Schedule()
        let sunday = Schedule.date(weekday: 7, atLeast: 8)
        var fields = [
            "patientId": "P10001", "providerId": schedule.providerId, "locationId": "loc_andheri",
            "appointmentTypeId": schedule.types["NEW"] ?? "", "start": "\(Schedule.monday)T09:00",
        ]
        for (key, value) in bad.fields {
            fields[key] =
                value.hasPrefix("T") ? Schedule.monday + value : value == "sunday" ? sunday + "T09:00" : value
        }
        let before = try ["appointments", "provider_busy_slots", "outbox_events", "idempotency_keys"].map {
            try schedule.platform.count("patient", $0)
        }
        let response = schedule.platform.post(
            "/api/patients/appointments", String(decoding: try JSON.encode(fields), as: UTF8.self),
            headers: [("Idempotency-Key", "bad-booking")])
        #expect(response.status == 422, "\(response.bodyText)")
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(try response.decode(Problem.self).errors.map(\.pointer) == [bad.pointer], "\(response.bodyText)")
        let after = try ["appointments", "provider_busy_slots", "outbox_events", "idempotency_keys"].map {
            try schedule.platform.count("patient", $0)
        }
        #expect(before == after)
    }

    @Test("hours, types and time zones refuse bad input naming the field")
    func badSetup() throws {
        let schedule = try Schedule()
        func pointers(_ response: HTTPResponse) throws -> Set<String> {
            #expect(response.status == 422, "\(response.bodyText)")
            return Set(try response.decode(Problem.self).errors.map(\.pointer))
        }
        let hours = schedule.platform.request(
            .PUT, "/api/patients/providers/\(schedule.providerId)/hours",
            headers: [("Content-Type", "application/json")],
            body: #"""
                {"hours": [{"locationId": "loc_andheri", "weekday": "monday", "start": "10:00", "end": "09:00"},
                           {"locationId": "loc_powai", "weekday": "monday", "start": "09:00", "end": "10:00"},
                           {"locationId": "loc_andheri", "weekday": "friday", "start": "09:03", "end": "25:00"},
                           {"locationId": "loc_andheri", "weekday": "friday", "start": "08:00", "end": "12:00"},
                           {"locationId": "loc_andheri", "weekday": "friday", "start": "11:00", "end": "13:00"}]}
                """#)
        #expect(
            try pointers(hours) == [
                "/hours/0/end", "/hours/1/locationId", "/hours/2/start", "/hours/2/end", "/hours/4",
            ])
        #expect(try schedule.freeSlots(Schedule.monday).count == 4)  // unchanged
        let type = schedule.post(
            "/api/patients/appointment-types", #"{"code": "new visit", "name": "", "durationMinutes": 7}"#)
        #expect(try pointers(type) == ["/code", "/name", "/durationMinutes"])
        #expect(
            schedule.post(
                "/api/patients/appointment-types", #"{"code": "NEW", "name": "Again", "durationMinutes": 30}"#
            )
            .status == 409)
        let zones = schedule.platform.request(
            .PUT, "/api/patients/time-zones", headers: [("Content-Type", "application/json")],
            body: #"{"defaultTimeZone": "Mars/Olympus", "locations": {"loc_powai": "Asia/Nowhere"}}"#)
        #expect(try pointers(zones) == ["/defaultTimeZone", "/locations/loc_powai"])
        #expect(try schedule.platform.json("/api/patients/time-zones")["defaultTimeZone"] as? String == "Asia/Kolkata")
    }

    @Test("a location's time zone places its hours: 09:00 in New York is 14:00 UTC in winter")
    func timeZones() throws {
        let schedule = try Schedule()
        let changed = schedule.platform.request(
            .PUT, "/api/patients/time-zones", headers: [("Content-Type", "application/json")],
            body: #"{"defaultTimeZone": "Asia/Kolkata", "locations": {"loc_andheri": "America/New_York"}}"#)
        #expect(changed.status == 200)
        let monday = Schedule.monday
        let slots =
            try schedule.platform.json(
                "/api/patients/slots?from=\(monday)&to=\(monday)&appointmentType=NEW&providerId=\(schedule.providerId)")[
                "items"] as? [[String: Any]] ?? []
        let first = try #require(slots.first)
        #expect(first["timeZone"] as? String == "America/New_York")
        let local = try #require(first["localStart"] as? String)
        #expect(local.hasPrefix("\(monday)T09:00:00-0"))  // -05:00 or -04:00 by the season
        let utcHour = local.hasSuffix("-05:00") ? "14" : "13"
        #expect(first["start"] as? String == "\(monday)T\(utcHour):00:00Z")
        #expect(schedule.book("\(monday)T09:00", type: "NEW").object["localStart"] as? String == local)
    }

    @Test("a user limited to Powai sees and books only Powai's providers, slots and appointments")
    func locationScope() throws {
        let schedule = try Schedule()
        let platform = schedule.platform
        let andheri = schedule.book("\(Schedule.monday)T09:00")
        let andheriId = try #require(andheri.object["id"] as? String)
        let desk = try schedule.token(roles: [.frontDesk], locations: ["loc_powai"])

        #expect(platform.get("/api/patients/appointments/\(andheriId)", headers: desk).status == 404)
        #expect(platform.post("/api/patients/appointments/\(andheriId)/check-in", "{}", headers: desk).status == 404)
        let listed = platform.get("/api/patients/appointments?providerId=\(schedule.providerId)", headers: desk)
        #expect((listed.object["items"] as? [Any])?.isEmpty == true)
        let all = platform.get("/api/patients/appointments", headers: desk).object["items"] as? [[String: Any]] ?? []
        #expect(!all.isEmpty)  // the demo's appointment at Powai
        #expect(all.allSatisfy { $0["locationId"] as? String == "loc_powai" })
        #expect(platform.get("/api/patients/providers/\(schedule.providerId)", headers: desk).status == 404)
        let providers = platform.get("/api/patients/providers", headers: desk).object["items"] as? [[String: Any]] ?? []
        #expect(Set(providers.compactMap { $0["familyName"] as? String }) == ["Iyer", "Desai"])
        let slots =
            platform.get(
                "/api/patients/slots?appointmentType=NEW&from=\(Schedule.monday)&to=\(Schedule.monday)", headers: desk
            ).object["items"] as? [[String: Any]] ?? []
        #expect(!slots.isEmpty)
        #expect(slots.allSatisfy { $0["locationId"] as? String == "loc_powai" })

        let refused = schedule.book("\(Schedule.monday)T09:30", headers: desk)
        #expect(refused.status == 403)
        #expect(try refused.decode(Problem.self).errors.map(\.pointer) == ["/locationId"])
        // Clinicians read appointments but do not book them.
        let clinician = try schedule.token(roles: [.clinician], locations: [])
        #expect(platform.get("/api/patients/appointments/\(andheriId)", headers: clinician).status == 200)
        #expect(schedule.book("\(Schedule.monday)T09:30", headers: clinician).status == 403)
    }

    /// Runs `body` on `count` threads of their own, released together, and waits for all of them.
    static func simultaneously(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let ready = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for index in 0..<count {
            done.enter()
            let thread = Thread {
                ready.signal()
                go.wait()
                body(index)
                done.leave()
            }
            thread.start()
        }
        for _ in 0..<count { ready.wait() }
        for _ in 0..<count { go.signal() }
        done.wait()
    }

    @Test("reschedules and cancellations racing bookings: no 5xx, and the held time is exactly the live appointments'")
    func concurrentMoves() throws {
        let schedule = try Schedule()
        let monday = Schedule.monday
        let first = try #require(schedule.book("\(monday)T09:00", type: "NEW").object["id"] as? String)
        let second = try #require(schedule.book("\(monday)T09:30", type: "FOLLOWUP").object["id"] as? String)
        let statuses = Mutex<[Int]>([])
        SchedulingTests.simultaneously(20) { index in
            let response: HTTPResponse
            switch index {
            case 0:
                response = schedule.post(
                    "/api/patients/appointments/\(first)/reschedule", #"{"start": "\#(monday)T09:15"}"#)
            case 1: response = schedule.post("/api/patients/appointments/\(second)/cancel", #"{"reason": "race"}"#)
            case 2:
                response = schedule.post(
                    "/api/patients/appointments/\(second)/reschedule", #"{"start": "\#(monday)T09:45"}"#)
            default:
                let minute = (index % 4) * 15
                response = schedule.book(
                    "\(monday)T09:\(minute == 0 ? "00" : String(minute))", patient: "P10002")
            }
            statuses.withLock { $0.append(response.status) }
        }
        let result = statuses.withLock { $0 }
        #expect(result.allSatisfy { [200, 201, 409].contains($0) }, "\(result)")
        let live =
            (try schedule.platform.json("/api/patients/appointments?providerId=\(schedule.providerId)")["items"]
            as? [[String: Any]] ?? []).filter {
                ["booked", "checked_in", "completed"].contains($0["status"] as? String)
            }
        let minutes = live.map { ($0["appointmentTypeCode"] as? String) == "NEW" ? 30 : 15 }.reduce(0, +)
        #expect(try schedule.busyGranules() * 5 == minutes)
        let starts = live.compactMap { $0["start"] as? String }.sorted()
        let ends = live.sorted { ($0["start"] as? String ?? "") < ($1["start"] as? String ?? "") }
            .compactMap { $0["end"] as? String }
        for (end, nextStart) in zip(ends, starts.dropFirst()) { #expect(end <= nextStart, "\(live)") }
    }

    @Test("twenty concurrent bookings of one slot: exactly one is booked, the others are 409")
    func concurrentSameSlot() throws {
        let schedule = try Schedule()
        let statuses = Mutex<[Int]>([])
        let patients = ["P10001", "P10002", "P10003"]
        SchedulingTests.simultaneously(20) { index in
            let response = schedule.book("\(Schedule.monday)T09:15", type: "FOLLOWUP", patient: patients[index % 3])
            if response.status == 409 {
                #expect(response.object["type"] as? String == "https://rcm.invalid/problems/slot-taken")
            }
            statuses.withLock { $0.append(response.status) }
        }
        let result = statuses.withLock { $0 }
        #expect(result.filter { $0 == 201 }.count == 1, "\(result)")
        #expect(result.filter { $0 == 409 }.count == 19, "\(result)")
        #expect(try schedule.busyGranules() == 3)
        let booked =
            try schedule.platform.json("/api/patients/appointments?providerId=\(schedule.providerId)")["items"]
            as? [Any]
        #expect(booked?.count == 1)
    }

    @Test("twenty concurrent overlapping bookings: those that succeed never overlap")
    func concurrentOverlapping() throws {
        let schedule = try Schedule()
        let outcomes = Mutex<[(start: Int, status: Int)]>([])
        // NEW (30 minutes) starting every 5 minutes from 09:00 to 09:30, several times each.
        SchedulingTests.simultaneously(20) { index in
            let minute = (index % 7) * 5
            let response = schedule.book(
                "\(Schedule.monday)T09:\(minute < 10 ? "0" : "")\(minute)", type: "NEW", patient: "P10001")
            outcomes.withLock { $0.append((minute, response.status)) }
        }
        let result = outcomes.withLock { $0 }
        #expect(result.allSatisfy { $0.status == 201 || $0.status == 409 }, "\(result)")
        let winners = result.filter { $0.status == 201 }.map(\.start).sorted()
        #expect(!winners.isEmpty)
        for (earlier, later) in zip(winners, winners.dropFirst()) {
            #expect(later - earlier >= 30, "\(winners) overlap")
        }
        let stored =
            try schedule.platform.json("/api/patients/appointments?providerId=\(schedule.providerId)")["items"]
            as? [Any]
        #expect(stored?.count == winners.count)
        #expect(try schedule.busyGranules() == winners.count * 6)
    }
}
