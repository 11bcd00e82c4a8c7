import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// Scheduling (issue "Front office", part 2): providers, their hours and exceptions, appointment
/// types, free slots and appointments, under the patient service's `/api/patients` prefix.
extension PatientService {
    /// Registers the scheduling routes in the `/api/patients` group. Literal segments such as
    /// `providers` win over the patient routes' `{id}` (the router tries literals first).
    func registerSchedulingRoutes(_ patients: RouterBuilder) {
        patients.get("/time-zones", readTimeZones)
        patients.put("/time-zones", replaceTimeZones)
        patients.post("/providers", createProvider)
        patients.get("/providers", listProviders)
        patients.get("/providers/{id}", readProvider)
        patients.get("/providers/{id}/hours", readHours)
        patients.put("/providers/{id}/hours", replaceHours)
        patients.get("/providers/{id}/exceptions", listExceptions)
        patients.post("/providers/{id}/exceptions", createException)
        patients.delete("/providers/{id}/exceptions/{exceptionId}", deleteException)
        patients.post("/appointment-types", createAppointmentType)
        patients.get("/appointment-types", listAppointmentTypes)
        patients.get("/slots", searchSlots)
        patients.post("/appointments", book)
        patients.get("/appointments", listAppointments)
        patients.get("/appointments/{id}", readAppointment)
        patients.post("/appointments/{id}/reschedule", reschedule)
        patients.post("/appointments/{id}/cancel", cancel)
        patients.post("/appointments/{id}/check-in", checkIn)
        patients.post("/appointments/{id}/no-show", noShow)
        patients.post("/appointments/{id}/complete", complete)
    }

    // MARK: Time zones

    func readTimeZones(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try .json(
            try environment.database.read {
                try SchedulingStore.timeZones(organization: context.organizationId, in: $0)
            })
    }

    /// Replaces the organization's default time zone and the per-location ones. Appointments keep
    /// their instants; working hours are read in the new zones from then on.
    func replaceTimeZones(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let input = try request.decode(ScheduleTimeZonesInput.self)
        var validation = Validation()
        validation.require(
            input.defaultTimeZone.flatMap(ScheduleZone.init) != nil, "/defaultTimeZone",
            "must be an IANA time zone such as Asia/Kolkata")
        for (location, zone) in input.locations ?? [:] {
            let pointer =
                "/locations/"
                + location.replacingOccurrences(of: "~", with: "~0")
                .replacingOccurrences(of: "/", with: "~1")
            validation.require(ScheduleZone(zone) != nil, pointer, "must be an IANA time zone such as Asia/Kolkata")
            validation.require(!location.isEmpty && location.count <= 64, pointer, "must name a location")
        }
        try validation.check()
        for location in (input.locations ?? [:]).keys { try context.requireLocation(location, pointer: "/locations") }
        let settings = ScheduleTimeZones(
            defaultTimeZone: input.defaultTimeZone ?? "UTC", locations: input.locations ?? [:])
        try environment.database.write {
            try SchedulingStore.replaceTimeZones(settings, organization: context.organizationId, in: $0)
        }
        return try .json(settings)
    }

    /// The zone of a location: its own, else the organization's default, else UTC.
    static func zone(_ location: String, _ settings: ScheduleTimeZones) -> ScheduleZone {
        ScheduleZone(settings.locations[location] ?? settings.defaultTimeZone) ?? ScheduleZone("UTC")!
    }

    // MARK: Providers

    func createProvider(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let input = try request.decode(ProviderInput.self)
        var validation = Validation()
        validation.text(input.prefix, "/prefix", maxLength: 20, required: false)
        validation.text(input.givenName, "/givenName")
        validation.text(input.familyName, "/familyName")
        validation.text(input.suffix, "/suffix", maxLength: 20, required: false)
        validation.text(input.specialty, "/specialty", maxLength: 100)
        if let npi = input.npi {
            validation.require(
                NPI.isValid(npi), "/npi",
                "must be a valid NPI: ten digits starting with 1 or 2 with a correct check digit")
        } else {
            validation.fail("/npi", "is required")
        }
        let locations = input.locations ?? []
        validation.require(!locations.isEmpty, "/locations", "must name at least one location")
        for (index, location) in locations.enumerated() {
            validation.text(location, "/locations/\(index)", maxLength: 64)
            if locations[..<index].contains(location) { validation.fail("/locations/\(index)", "is listed twice") }
        }
        try validation.check()
        for (index, location) in locations.enumerated() {
            try context.requireLocation(location, pointer: "/locations/\(index)")
        }
        try checkLocationsExist(locations, context)
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let provider = Provider(
                id: Identifier.make("prv"), organizationId: context.organizationId, prefix: input.prefix,
                givenName: input.givenName ?? "", familyName: input.familyName ?? "", suffix: input.suffix,
                npi: input.npi ?? "", specialty: input.specialty ?? "", locations: locations.sorted(),
                createdAt: Timestamp.now())
            do {
                try SchedulingStore.insert(provider, in: connection)
            } catch let error as DatabaseError where error.kind == .uniqueViolation {
                throw Problem.conflict("A provider with NPI \(provider.npi) already exists.")
            }
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "provider.created", organizationId: provider.organizationId, locationId: nil,
                    correlationId: context.requestId, source: PatientService.name, body: provider),
                in: connection)
            var response = try HTTPResponse.json(provider, status: 201)
            response.headers.add("Location", "/api/patients/providers/\(provider.id)")
            return response
        }
    }

    /// Locations must be the organization's, as the identity service knows them (when it knows any).
    func checkLocationsExist(_ locations: [String], _ context: RequestContext) throws {
        struct Organization: Decodable {
            struct Location: Decodable { let id: String }
            let locations: [Location]
        }
        guard let identity = try? environment.services.client(for: "identity"),
            let organization = try identity.get(Organization.self, "/api/identity/organization", context: context),
            !organization.locations.isEmpty
        else { return }
        let known = Set(organization.locations.map(\.id))
        var validation = Validation()
        for (index, location) in locations.enumerated() where !known.contains(location) {
            validation.fail("/locations/\(index)", "\(location) is not a location of the organization")
        }
        try validation.check()
    }

    func listProviders(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let location = request.query["locationId"].flatMap { $0.isEmpty ? nil : $0 }
        let providers = try environment.database.read {
            try SchedulingStore.providers(organization: context.organizationId, location: location, in: $0)
        }.filter { visible($0, context) }
        return try .json(["items": providers])
    }

    /// A limited caller sees the providers working at one of their locations.
    func visible(_ provider: Provider, _ context: RequestContext) -> Bool {
        provider.locations.contains { context.mayAccess(location: $0) }
    }

    func findProvider(_ id: String, _ context: RequestContext, _ connection: any SQLConnection) throws -> Provider {
        guard let provider = try SchedulingStore.provider(id, organization: context.organizationId, in: connection),
            visible(provider, context)
        else { throw Problem.notFound("Provider \(id) does not exist.") }
        return provider
    }

    func readProvider(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        return try .json(try environment.database.read { try findProvider(id, context, $0) })
    }

    // MARK: Hours and exceptions

    func readHours(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let hours = try environment.database.read { connection in
            _ = try findProvider(id, context, connection)
            return try SchedulingStore.hours(provider: id, in: connection)
        }
        return try .json(["items": hours])
    }

    /// Replaces a provider's weekly hours. Entries on one weekday must not overlap, even at
    /// different locations: a provider is in one place at a time.
    func replaceHours(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let input = try request.decode(WorkingHoursInput.self)
        let hours = try environment.database.write { connection -> [WorkingHours] in
            let provider = try findProvider(id, context, connection)
            var validation = Validation()
            validation.require(input.hours != nil, "/hours", "is required (an empty list clears the week)")
            var accepted: [(index: Int, hours: WorkingHours, range: Range<Int>)] = []
            for (index, entry) in (input.hours ?? []).enumerated() {
                let pointer = "/hours/\(index)"
                validation.text(entry.locationId, pointer + "/locationId", maxLength: 64)
                if let location = entry.locationId, !location.isEmpty {
                    validation.require(
                        provider.locations.contains(location), pointer + "/locationId",
                        "\(location) is not one of the provider's locations")
                }
                validation.require(entry.weekday != nil, pointer + "/weekday", "is required (monday … sunday)")
                let range = checkClockRange(entry.start, entry.end, pointer, &validation)
                guard let location = entry.locationId, let weekday = entry.weekday, let range else { continue }
                if let other = accepted.first(where: { $0.hours.weekday == weekday && $0.range.overlaps(range) }) {
                    validation.fail(pointer, "overlaps /hours/\(other.index) on \(weekday.rawValue)")
                }
                accepted.append(
                    (
                        index,
                        WorkingHours(
                            locationId: location, weekday: weekday, start: entry.start ?? "", end: entry.end ?? ""),
                        range
                    ))
            }
            try validation.check()
            for location in Set(accepted.map(\.hours.locationId)) {
                try context.requireLocation(location, pointer: "/hours")
            }
            try SchedulingStore.replaceHours(accepted.map(\.hours), provider: id, in: connection)
            return try SchedulingStore.hours(provider: id, in: connection)
        }
        return try .json(["items": hours])
    }

    /// `start` and `end` as `HH:MM` on the five-minute grid, `start` before `end`; the minutes of
    /// the day they span, or nil after recording what is wrong.
    func checkClockRange(
        _ start: String?, _ end: String?, _ pointer: String, _ validation: inout Validation
    ) -> Range<Int>? {
        var minutes: [Int?] = []
        for (name, text) in [("start", start), ("end", end)] {
            guard let text else {
                validation.fail(pointer + "/" + name, "is required (HH:MM)")
                minutes.append(nil)
                continue
            }
            let minute = ScheduleTime.minuteOfDay(text)
            validation.require(minute != nil, pointer + "/" + name, "must be a time HH:MM")
            if let minute {
                validation.require(
                    minute % ScheduleTime.granule == 0, pointer + "/" + name,
                    "must be on a \(ScheduleTime.granule)-minute boundary")
            }
            minutes.append(minute)
        }
        guard let from = minutes[0], let to = minutes[1] else { return nil }
        guard from < to else {
            validation.fail(pointer + "/end", "must be after start")
            return nil
        }
        return from..<to
    }

    func listExceptions(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let from = try request.dateQuery("from") ?? CalendarDate.today()
        let to = try request.dateQuery("to") ?? ScheduleTime.adding(365, to: from)
        let exceptions = try environment.database.read { connection in
            _ = try findProvider(id, context, connection)
            return try SchedulingStore.exceptions(provider: id, from: from, to: to, in: connection)
        }
        return try .json(["items": exceptions])
    }

    /// A day or some hours off (at one location or all), or extra hours at one location. Booked
    /// appointments in time now off stay booked: the front desk reschedules them.
    func createException(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let input = try request.decode(ScheduleExceptionInput.self)
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let provider = try findProvider(id, context, connection)
            var validation = Validation()
            validation.require(input.date != nil, "/date", "is required (YYYY-MM-DD)")
            validation.require(input.kind != nil, "/kind", "is required (off, extra)")
            validation.text(input.reason, "/reason", maxLength: 200, required: false)
            validation.text(input.locationId, "/locationId", maxLength: 64, required: input.kind == .extra)
            if let location = input.locationId, !location.isEmpty {
                validation.require(
                    provider.locations.contains(location), "/locationId",
                    "\(location) is not one of the provider's locations")
            }
            if input.kind == .extra || input.start != nil || input.end != nil {
                _ = checkClockRange(input.start, input.end, "", &validation)
            }
            try validation.check()
            if let location = input.locationId {
                try context.requireLocation(location, pointer: "/locationId")
            } else {
                for location in provider.locations { try context.requireLocation(location, pointer: "/locationId") }
            }
            let exception = ScheduleException(
                id: Identifier.make("pex"), providerId: provider.id, locationId: input.locationId,
                date: input.date ?? CalendarDate.today(), kind: input.kind ?? .off, start: input.start, end: input.end,
                reason: input.reason, createdAt: Timestamp.now())
            try SchedulingStore.insert(exception, in: connection)
            return try .json(exception, status: 201)
        }
    }

    func deleteException(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let exceptionId = context.parameter("exceptionId")
        try environment.database.write { connection in
            let provider = try findProvider(id, context, connection)
            guard
                let row = try connection.queryFirst(
                    "SELECT location_id FROM provider_exceptions WHERE id = \(exceptionId) AND provider_id = \(id)")
            else { throw Problem.notFound("Exception \(exceptionId) of provider \(id) does not exist.") }
            // As when it was made: its location, or every location of the provider.
            for location in row.optionalString("location_id").map({ [$0] }) ?? provider.locations {
                try context.requireLocation(location, pointer: "")
            }
            _ = try SchedulingStore.deleteException(exceptionId, provider: id, in: connection)
        }
        return HTTPResponse(status: 204, headers: HTTPHeaders(), body: [])
    }

    // MARK: Appointment types

    func createAppointmentType(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let input = try request.decode(AppointmentTypeInput.self)
        var validation = Validation()
        validation.text(input.code, "/code", maxLength: 20)
        if let code = input.code, !code.isEmpty {
            validation.require(
                code.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 },
                "/code", "must be upper-case letters, digits, - and _")
        }
        validation.text(input.name, "/name")
        if let duration = input.durationMinutes {
            validation.require(
                (ScheduleTime.granule...480).contains(duration) && duration % ScheduleTime.granule == 0,
                "/durationMinutes",
                "must be \(ScheduleTime.granule) to 480 minutes, a multiple of \(ScheduleTime.granule)")
        } else {
            validation.fail("/durationMinutes", "is required")
        }
        try validation.check()
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let type = AppointmentType(
                id: Identifier.make("aty"), organizationId: context.organizationId, code: input.code ?? "",
                name: input.name ?? "", durationMinutes: input.durationMinutes ?? 0, createdAt: Timestamp.now())
            do {
                try SchedulingStore.insert(type, in: connection)
            } catch let error as DatabaseError where error.kind == .uniqueViolation {
                throw Problem.conflict("An appointment type with code \(type.code) already exists.")
            }
            return try .json(type, status: 201)
        }
    }

    func listAppointmentTypes(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try .json([
            "items": try environment.database.read {
                try SchedulingStore.appointmentTypes(organization: context.organizationId, in: $0)
            }
        ])
    }
}
