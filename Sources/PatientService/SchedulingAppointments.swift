import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMServiceKit
import RCMStorage

/// Free slots, booking, rescheduling and the appointment's life after booking.
extension PatientService {
    // MARK: Slots

    /// `GET /api/patients/slots`: free times for an appointment type, by start, across providers
    /// and locations (or one of each): weekly hours plus extra hours, minus time off, minus booked
    /// time, in the future, at the caller's locations.
    func searchSlots(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let limit = try request.pageLimit()
        let typeKey = try request.requiredQuery("appointmentType")
        let providerId = request.query["providerId"].flatMap { $0.isEmpty ? nil : $0 }
        let locationId = request.query["locationId"].flatMap { $0.isEmpty ? nil : $0 }
        let from = try PatientService.boundQuery(request, "from")
        let to = try PatientService.boundQuery(request, "to")
        let after = try request.query["cursor"].map(PatientService.slotCursor)
        let now = ScheduleTime.nowMinute()
        // The range, checked once in UTC (each location's zone shifts it by hours, not days).
        let utc = ScheduleZone("UTC")!
        let utcStart = from.map { utc.instant($0, end: false) } ?? now
        let utcEnd = to.map { utc.instant($0, end: true) } ?? utcStart + 7 * 1440
        guard utcEnd > utcStart else { throw Problem.invalid(pointer: "query:to", "must be after from") }
        guard utcEnd - utcStart <= 31 * 1440 else {
            throw Problem.invalid(pointer: "query:to", "must be at most 31 days after from")
        }

        let slots = try environment.database.read { connection -> [Slot] in
            guard
                let type = try SchedulingStore.appointmentType(
                    typeKey, organization: context.organizationId, in: connection)
            else { throw Problem.invalid(pointer: "query:appointmentType", "no appointment type \(typeKey)") }
            var providers = try SchedulingStore.providers(
                organization: context.organizationId, location: locationId, in: connection
            ).filter { visible($0, context) }
            if let providerId {
                providers = providers.filter { $0.id == providerId }
                guard !providers.isEmpty else {
                    throw Problem.invalid(pointer: "query:providerId", "no provider \(providerId) here")
                }
            }
            let settings = try SchedulingStore.timeZones(organization: context.organizationId, in: connection)
            let duration = Int64(type.durationMinutes)
            let step = Int64(max(ScheduleTime.granule, min(type.durationMinutes, 15)))
            var found: [(key: (Int64, String, String), slot: Slot)] = []
            for provider in providers {
                let hours = try SchedulingStore.hours(provider: provider.id, in: connection)
                for location in provider.locations
                where (locationId ?? location) == location && context.mayAccess(location: location) {
                    let zone = PatientService.zone(location, settings)
                    let start = from.map { zone.instant($0, end: false) } ?? now
                    let end = to.map { zone.instant($0, end: true) } ?? start + 7 * 1440
                    guard end > start, end - start <= 32 * 1440 else { continue }
                    let firstDate = zone.local(start).date
                    let lastDate = zone.local(end - 1).date
                    let availability = Availability(
                        hours: hours,
                        exceptions: try SchedulingStore.exceptions(
                            provider: provider.id, from: firstDate, to: lastDate, in: connection))
                    let busy =
                        try SchedulingStore.busy(
                            providers: [provider.id], from: start, to: end + duration, in: connection)[provider.id]
                        ?? []
                    var date = firstDate
                    while date <= lastDate {
                        for interval in availability.instants(at: location, on: date, zone: zone) {
                            var slot = interval.lowerBound
                            while slot + duration <= interval.upperBound {
                                defer { slot += step }
                                guard slot >= start, slot < end, slot > now else { continue }
                                let key = (slot, provider.id, location)
                                if let after, !(key > after) { continue }
                                guard
                                    !stride(from: slot, to: slot + duration, by: ScheduleTime.granule).contains(
                                        where: busy.contains)
                                else { continue }
                                found.append(
                                    (
                                        key,
                                        Slot(
                                            providerId: provider.id, providerName: provider.displayName,
                                            locationId: location, appointmentTypeId: type.id,
                                            start: ScheduleTime.utc(slot), end: ScheduleTime.utc(slot + duration),
                                            localStart: zone.format(slot), timeZone: zone.identifier)
                                    ))
                            }
                        }
                        date = ScheduleTime.adding(1, to: date)
                    }
                }
            }
            return found.sorted { $0.key < $1.key }.prefix(limit).map(\.slot)
        }
        return try .json(
            Page(items: slots, limit: limit) { slot in
                let minute = ScheduleTime.parse(slot.start).map { ScheduleZone("UTC")!.instant($0) } ?? 0
                return "\(minute)~\(slot.providerId)~\(slot.locationId)"
            })
    }

    /// A `from`/`to` query bound: a date (the whole day, in each location's zone) or a date-time.
    enum Bound {
        case date(CalendarDate)
        case written(ScheduleTime.Written)
    }

    static func boundQuery(_ request: HTTPRequest, _ name: String) throws -> Bound? {
        guard var text = request.query[name], !text.isEmpty else { return nil }
        if let date = CalendarDate(text) { return .date(date) }
        // An unencoded `+` of an offset arrives as a space.
        if text.utf8.count > 16, let space = text.lastIndex(of: " "),
            text.distance(from: text.startIndex, to: space) > 10
        {
            text.replaceSubrange(space...space, with: "+")
        }
        guard let written = ScheduleTime.parse(text) else {
            throw Problem.invalid(
                pointer: "query:\(name)", "must be a date YYYY-MM-DD or a date-time such as 2026-12-07T09:00:00+05:30")
        }
        return .written(written)
    }

    static func slotCursor(_ text: String) throws -> (Int64, String, String) {
        let parts = text.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 3, let minute = Int64(parts[0]) else {
            throw Problem.invalid(pointer: "query:cursor", "is not a cursor this API gave")
        }
        return (minute, String(parts[1]), String(parts[2]))
    }

    // MARK: Booking

    /// Where and when an appointment would be, checked against everything but the other bookings
    /// (which the busy-slot rows check, in the same transaction).
    struct Placement {
        let provider: Provider
        let locationId: String
        let type: AppointmentType
        let zone: ScheduleZone
        let start: Int64
        let end: Int64
        var localDate: CalendarDate { zone.local(start).date }
    }

    /// Checks provider, location, type and start; adds what is wrong to `validation`.
    func place(
        providerId: String, locationId: String, typeKey: String, start written: ScheduleTime.Written?,
        _ context: RequestContext, _ connection: any SQLConnection, _ validation: inout Validation
    ) throws -> Placement? {
        let provider = try SchedulingStore.provider(providerId, organization: context.organizationId, in: connection)
        validation.require(provider != nil, "/providerId", "no provider \(providerId) in this organization")
        if let provider {
            validation.require(
                provider.locations.contains(locationId), "/locationId",
                "provider \(providerId) does not work at \(locationId)")
        }
        let type = try SchedulingStore.appointmentType(typeKey, organization: context.organizationId, in: connection)
        validation.require(type != nil, "/appointmentTypeId", "no appointment type \(typeKey) in this organization")
        guard let provider, let type, let written, provider.locations.contains(locationId) else { return nil }
        let settings = try SchedulingStore.timeZones(organization: context.organizationId, in: connection)
        let zone = PatientService.zone(locationId, settings)
        let start = zone.instant(written)
        let end = start + Int64(type.durationMinutes)
        guard written.second == 0, start % Int64(ScheduleTime.granule) == 0 else {
            validation.fail("/start", "must be on a \(ScheduleTime.granule)-minute boundary")
            return nil
        }
        guard start > ScheduleTime.nowMinute() else {
            validation.fail("/start", "must be in the future")
            return nil
        }
        let date = zone.local(start).date
        let availability = Availability(
            hours: try SchedulingStore.hours(provider: provider.id, in: connection),
            exceptions: try SchedulingStore.exceptions(provider: provider.id, from: date, to: date, in: connection))
        let open = availability.instants(at: locationId, on: date, zone: zone)
        guard open.contains(where: { $0.lowerBound <= start && end <= $0.upperBound }) else {
            let hours = availability.minutes(at: locationId, on: date)
                .map { ScheduleTime.clock($0.lowerBound) + "–" + ScheduleTime.clock($0.upperBound) }
            validation.fail(
                "/start",
                "\(zone.format(start)) to \(zone.format(end)) is outside the provider's working hours at \(locationId) on \(date) ("
                    + (hours.isEmpty ? "none" : hours.joined(separator: ", ")) + ", \(zone.identifier))")
            return nil
        }
        return Placement(provider: provider, locationId: locationId, type: type, zone: zone, start: start, end: end)
    }

    func book(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let input = try request.decode(BookingInput.self)
        var validation = Validation()
        validation.text(input.patientId, "/patientId", maxLength: 64)
        validation.text(input.providerId, "/providerId", maxLength: 64)
        validation.text(input.locationId, "/locationId", maxLength: 64)
        validation.text(input.appointmentTypeId, "/appointmentTypeId", maxLength: 64)
        let start = PatientService.checkStart(input.start, &validation)
        let services = input.plannedServices ?? []
        validation.require(services.count <= 20, "/plannedServices", "must list at most 20 services")
        for (index, code) in services.enumerated() {
            validation.text(code, "/plannedServices/\(index)", maxLength: 32)
        }
        try validation.check()
        let locationId = input.locationId ?? ""
        try context.requireLocation(locationId, pointer: "/locationId")
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            var validation = Validation()
            let patientId = input.patientId ?? ""
            let patient = try connection.queryFirst(
                "SELECT id FROM patients WHERE id = \(patientId) AND organization_id = \(context.organizationId)")
            validation.require(patient != nil, "/patientId", "no patient \(patientId) in this organization")
            let placement = try place(
                providerId: input.providerId ?? "", locationId: locationId, typeKey: input.appointmentTypeId ?? "",
                start: start, context, connection, &validation)
            try validation.check()
            guard let placement else { throw Problem.invalid(pointer: "/start", "cannot be placed") }
            let now = Timestamp.now()
            let appointment = Appointment(
                id: Identifier.make("appt"), organizationId: context.organizationId, patientId: patientId,
                providerId: placement.provider.id, providerNpi: placement.provider.npi, locationId: locationId,
                appointmentTypeId: placement.type.id, appointmentTypeCode: placement.type.code,
                start: ScheduleTime.utc(placement.start), end: ScheduleTime.utc(placement.end),
                localStart: placement.zone.format(placement.start), localEnd: placement.zone.format(placement.end),
                timeZone: placement.zone.identifier, status: .booked, plannedServices: services, cancelReason: nil,
                createdAt: now, updatedAt: now, version: 1)
            try occupy(placement, appointment.id, connection)
            try SchedulingStore.insert(
                appointment, startMinute: placement.start, endMinute: placement.end, localDate: placement.localDate,
                in: connection)
            try publish("appointment.booked", appointment, context, connection)
            var response = try HTTPResponse.json(appointment, status: 201)
            response.headers.add("Location", "/api/patients/appointments/\(appointment.id)")
            response.headers.add("ETag", "\"\(appointment.version)\"")
            return response
        }
    }

    static func checkStart(_ text: String?, _ validation: inout Validation) -> ScheduleTime.Written? {
        guard let text else {
            validation.fail("/start", "is required")
            return nil
        }
        let written = ScheduleTime.parse(text)
        validation.require(
            written != nil, "/start",
            "must be a date-time such as 2026-12-07T09:00:00+05:30 (no offset: the location's time)")
        return written
    }

    /// Holds the provider's time, or 409 when any of it is taken (the transaction is abandoned).
    func occupy(_ placement: Placement, _ appointmentId: String, _ connection: any SQLConnection) throws {
        guard
            try SchedulingStore.occupy(
                provider: placement.provider.id, from: placement.start, to: placement.end, appointment: appointmentId,
                in: connection)
        else {
            throw Problem.conflict(
                "Provider \(placement.provider.id) is already booked between \(placement.zone.format(placement.start)) and \(placement.zone.format(placement.end)).",
                type: "slot-taken")
        }
    }

    func publish(
        _ type: String, _ appointment: Appointment, _ context: RequestContext, _ connection: any SQLConnection,
        reason: String? = nil, previous: Appointment? = nil
    ) throws {
        try environment.outbox.publish(
            try EventEnvelope.make(
                type: type, organizationId: appointment.organizationId, locationId: appointment.locationId,
                correlationId: context.requestId, source: PatientService.name,
                body: AppointmentEvent(appointment, reason: reason, previous: previous)),
            in: connection)
    }

    // MARK: Reading

    func findAppointment(_ id: String, _ context: RequestContext, _ connection: any SQLConnection) throws -> Appointment
    {
        guard
            let appointment = try SchedulingStore.appointment(id, organization: context.organizationId, in: connection),
            context.mayAccess(location: appointment.locationId)
        else { throw Problem.notFound("Appointment \(id) does not exist.") }
        return appointment
    }

    func readAppointment(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        let appointment = try environment.database.read { try findAppointment(id, context, $0) }
        var response = try HTTPResponse.json(appointment)
        response.headers.add("ETag", "\"\(appointment.version)\"")
        return response
    }

    /// By patient, by provider and day, by location and day (`date` is the location's date), or
    /// between two instants; ordered by start.
    func listAppointments(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let limit = try request.pageLimit()
        func text(_ name: String) -> String? { request.query[name].flatMap { $0.isEmpty ? nil : $0 } }
        var search = SchedulingStore.Search(
            patientId: text("patientId"), providerId: text("providerId"), locationId: text("locationId"),
            date: try request.dateQuery("date"), limit: limit)
        if let status = text("status") {
            guard let value = AppointmentStatus(rawValue: status) else {
                throw Problem.invalid(
                    pointer: "query:status",
                    "must be one of \(AppointmentStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            search.status = value
        }
        let utc = ScheduleZone("UTC")!
        for name in ["from", "to"] {
            guard let bound = try PatientService.boundQuery(request, name) else { continue }
            let minute = utc.instant(bound, end: name == "to")
            if name == "from" { search.from = minute } else { search.to = minute }
        }
        if let cursor = text("cursor") {
            let parts = cursor.split(separator: "~")
            guard parts.count == 2, let minute = Int64(parts[0]) else {
                throw Problem.invalid(pointer: "query:cursor", "is not a cursor this API gave")
            }
            search.after = (minute, String(parts[1]))
        }
        let appointments = try environment.database.read {
            try SchedulingStore.appointments(
                search, organization: context.organizationId, scope: context.locationFilter("location_id"), in: $0)
        }
        return try .json(
            Page(items: appointments, limit: limit) { appointment in
                "\(SchedulingStore.minutes(of: appointment)?.0 ?? 0)~\(appointment.id)"
            })
    }

    // MARK: Changes

    func reschedule(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let id = context.parameter("id")
        let input = try request.decode(RescheduleInput.self)
        var validation = Validation()
        let start = PatientService.checkStart(input.start, &validation)
        validation.text(input.providerId, "/providerId", maxLength: 64, required: false)
        validation.text(input.locationId, "/locationId", maxLength: 64, required: false)
        try validation.check()
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let previous = try findAppointment(id, context, connection)
            try PatientService.requireTransition(previous, to: .booked, action: "rescheduled")
            let locationId = input.locationId ?? previous.locationId
            try context.requireLocation(locationId, pointer: "/locationId")
            var validation = Validation()
            let placement = try place(
                providerId: input.providerId ?? previous.providerId, locationId: locationId,
                typeKey: previous.appointmentTypeId, start: start, context, connection, &validation)
            try validation.check()
            guard let placement else { throw Problem.invalid(pointer: "/start", "cannot be placed") }
            try occupy(placement, id, connection)
            try SchedulingStore.release(
                appointment: id, keeping: (placement.provider.id, placement.start, placement.end), in: connection)
            var appointment = previous
            appointment.providerId = placement.provider.id
            appointment.providerNpi = placement.provider.npi
            appointment.locationId = locationId
            appointment.start = ScheduleTime.utc(placement.start)
            appointment.end = ScheduleTime.utc(placement.end)
            appointment.localStart = placement.zone.format(placement.start)
            appointment.localEnd = placement.zone.format(placement.end)
            appointment.timeZone = placement.zone.identifier
            appointment.updatedAt = Timestamp.now()
            appointment.version += 1
            guard
                try SchedulingStore.update(
                    appointment, startMinute: placement.start, endMinute: placement.end,
                    localDate: placement.localDate, expectedVersion: previous.version, in: connection)
            else { throw Problem.conflict("The appointment was changed concurrently; read it again.") }
            try publish("appointment.rescheduled", appointment, context, connection, previous: previous)
            var response = try HTTPResponse.json(appointment)
            response.headers.add("ETag", "\"\(appointment.version)\"")
            return response
        }
    }

    /// 409 unless the appointment may move to `next` (for a reschedule: unless it is still booked).
    static func requireTransition(_ appointment: Appointment, to next: AppointmentStatus, action: String) throws {
        let allowed = next == .booked ? appointment.status == .booked : appointment.status.allows(next)
        guard allowed else {
            throw Problem.conflict(
                "Appointment \(appointment.id) is \(appointment.status.rawValue) and cannot be \(action).",
                type: "invalid-transition")
        }
    }

    func cancel(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try transition(request, context, to: .cancelled, event: "appointment.cancelled", action: "cancelled")
    }

    func checkIn(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try transition(request, context, to: .checkedIn, event: "appointment.checked_in", action: "checked in")
    }

    func noShow(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try transition(request, context, to: .noShow, event: "appointment.no_show", action: "marked as a no-show")
    }

    func complete(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        try transition(request, context, to: .completed, event: "appointment.completed", action: "completed")
    }

    /// Moves an appointment along its state machine; cancelling needs a reason. A cancelled or
    /// missed appointment gives its provider's time back.
    func transition(
        _ request: HTTPRequest, _ context: RequestContext, to next: AppointmentStatus, event: String, action: String
    ) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let id = context.parameter("id")
        let input = request.body.isEmpty ? TransitionInput() : try request.decode(TransitionInput.self)
        var validation = Validation()
        validation.text(input.reason, "/reason", maxLength: 500, required: next == .cancelled)
        try validation.check()
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let previous = try findAppointment(id, context, connection)
            try PatientService.requireTransition(previous, to: next, action: action)
            var appointment = previous
            appointment.status = next
            if next == .cancelled { appointment.cancelReason = input.reason }
            appointment.updatedAt = Timestamp.now()
            appointment.version += 1
            guard let (start, end) = SchedulingStore.minutes(of: previous) else {
                throw Problem.internalError
            }
            if !next.holdsTime { try SchedulingStore.release(appointment: id, in: connection) }
            let zone = ScheduleZone(previous.timeZone) ?? ScheduleZone("UTC")!
            guard
                try SchedulingStore.update(
                    appointment, startMinute: start, endMinute: end, localDate: zone.local(start).date,
                    expectedVersion: previous.version, in: connection)
            else { throw Problem.conflict("The appointment was changed concurrently; read it again.") }
            try publish(event, appointment, context, connection, reason: input.reason)
            var response = try HTTPResponse.json(appointment)
            response.headers.add("ETag", "\"\(appointment.version)\"")
            return response
        }
    }
}

extension ScheduleZone {
    /// The instant of a query bound: a date's start (or, as an end, the next day's start).
    func instant(_ bound: PatientService.Bound, end: Bool) -> Int64 {
        switch bound {
        case .date(let date): return instant(end ? ScheduleTime.adding(1, to: date) : date, 0)
        case .written(let written): return instant(written)
        }
    }
}
