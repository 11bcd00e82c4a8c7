import RCMCore

/// A clinician who sees patients at some of the organization's locations.
public struct Provider: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var prefix: String?
    public var givenName: String
    public var familyName: String
    public var suffix: String?
    /// National Provider Identifier (ten digits, Luhn check digit).
    public var npi: String
    public var specialty: String
    /// The locations the provider works at.
    public var locations: [String]
    public var createdAt: String

    var displayName: String {
        ([prefix, givenName, familyName, suffix].compactMap { $0 }.filter { !$0.isEmpty }).joined(separator: " ")
    }
}

/// The body of `POST /api/patients/providers`.
struct ProviderInput: Decodable {
    var prefix: String?
    var givenName: String?
    var familyName: String?
    var suffix: String?
    var npi: String?
    var specialty: String?
    var locations: [String]?
}

public enum Weekday: String, Codable, Sendable, CaseIterable {
    case monday, tuesday, wednesday, thursday, friday, saturday, sunday

    /// Monday 1 … Sunday 7.
    var iso: Int { Weekday.allCases.firstIndex(of: self)! + 1 }

    init?(iso: Int) {
        guard (1...7).contains(iso) else { return nil }
        self = Weekday.allCases[iso - 1]
    }
}

/// Weekly working hours of a provider at one location, in the location's wall-clock time.
public struct WorkingHours: Codable, Sendable, Equatable {
    public var locationId: String
    public var weekday: Weekday
    /// `HH:MM`.
    public var start: String
    /// `HH:MM`, after `start` (`24:00` for the end of the day).
    public var end: String
}

/// The body of `PUT /api/patients/providers/{id}/hours`: the whole week, replacing what was there.
struct WorkingHoursInput: Decodable {
    struct Entry: Decodable {
        var locationId: String?
        var weekday: Weekday?
        var start: String?
        var end: String?
    }
    var hours: [Entry]?
}

/// A date on which a provider is off (all day or some hours), or works extra hours.
public struct ScheduleException: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Not available: the whole day when `start` and `end` are absent.
        case off
        /// Available in addition to the weekly hours, at `locationId`.
        case extra
    }

    public var id: String
    public var providerId: String
    /// For `off`, absent means every location.
    public var locationId: String?
    public var date: CalendarDate
    public var kind: Kind
    public var start: String?
    public var end: String?
    public var reason: String?
    public var createdAt: String
}

/// The body of `POST /api/patients/providers/{id}/exceptions`.
struct ScheduleExceptionInput: Decodable {
    var locationId: String?
    var date: CalendarDate?
    var kind: ScheduleException.Kind?
    var start: String?
    var end: String?
    var reason: String?
}

/// What an appointment is for, and how long it takes.
public struct AppointmentType: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    /// Unique within the organization: `NEW`, `FOLLOWUP`, `LAB`.
    public var code: String
    public var name: String
    public var durationMinutes: Int
    public var createdAt: String
}

/// The body of `POST /api/patients/appointment-types`.
struct AppointmentTypeInput: Decodable {
    var code: String?
    var name: String?
    var durationMinutes: Int?
}

/// `booked` → `checked_in` → `completed`; `booked` → `cancelled` or `no_show`. Nothing leaves
/// `completed`, `cancelled` or `no_show`.
public enum AppointmentStatus: String, Codable, Sendable, CaseIterable {
    case booked
    case checkedIn = "checked_in"
    case completed
    case cancelled
    case noShow = "no_show"

    /// Whether the appointment still holds its provider's time.
    var holdsTime: Bool { self == .booked || self == .checkedIn || self == .completed }

    func allows(_ next: AppointmentStatus) -> Bool {
        switch (self, next) {
        case (.booked, .checkedIn), (.booked, .cancelled), (.booked, .noShow), (.checkedIn, .completed): return true
        default: return false
        }
    }
}

/// A patient's appointment with a provider at a location.
public struct Appointment: Codable, Sendable, Equatable {
    public var id: String
    public var organizationId: String
    public var patientId: String
    public var providerId: String
    public var providerNpi: String
    public var locationId: String
    public var appointmentTypeId: String
    public var appointmentTypeCode: String
    /// UTC: `2026-12-07T03:30:00Z`.
    public var start: String
    public var end: String
    /// The same instants in the location's time zone: `2026-12-07T09:00:00+05:30`.
    public var localStart: String
    public var localEnd: String
    public var timeZone: String
    public var status: AppointmentStatus
    /// Service codes planned for the visit (for estimates later).
    public var plannedServices: [String]
    public var cancelReason: String?
    public var createdAt: String
    public var updatedAt: String
    public var version: Int
}

/// The body of `POST /api/patients/appointments`.
struct BookingInput: Decodable {
    var patientId: String?
    var providerId: String?
    var locationId: String?
    var appointmentTypeId: String?
    var start: String?
    var plannedServices: [String]?
}

/// The body of `POST /api/patients/appointments/{id}/reschedule`: a new start, and optionally
/// another provider or location.
struct RescheduleInput: Decodable {
    var start: String?
    var providerId: String?
    var locationId: String?
}

/// The body of `cancel` (a reason is required) and of the other transitions (optional note).
struct TransitionInput: Decodable {
    var reason: String?
}

/// A free time for one appointment type with one provider at one location.
public struct Slot: Codable, Sendable, Equatable {
    public var providerId: String
    public var providerName: String
    public var locationId: String
    public var appointmentTypeId: String
    public var start: String
    public var end: String
    public var localStart: String
    public var timeZone: String
}

/// Time zones of the schedule: the organization's default and per-location overrides.
public struct ScheduleTimeZones: Codable, Sendable, Equatable {
    /// Used for locations without their own; `UTC` until set.
    public var defaultTimeZone: String
    public var locations: [String: String]
}

/// The body of `PUT /api/patients/time-zones`.
struct ScheduleTimeZonesInput: Decodable {
    var defaultTimeZone: String?
    var locations: [String: String]?
}

/// What every `appointment.*` event carries.
struct AppointmentEvent: Encodable {
    let appointmentId: String
    let patientId: String
    let providerId: String
    let providerNpi: String
    let locationId: String
    let start: String
    let end: String
    let localStart: String
    let timeZone: String
    let appointmentTypeId: String
    let appointmentTypeCode: String
    let plannedServices: [String]
    let status: String
    let reason: String?
    /// For `appointment.rescheduled`: where and when it was before.
    let previous: Previous?

    struct Previous: Encodable {
        let providerId: String
        let locationId: String
        let start: String
        let end: String
    }

    init(_ appointment: Appointment, reason: String? = nil, previous: Appointment? = nil) {
        appointmentId = appointment.id
        patientId = appointment.patientId
        providerId = appointment.providerId
        providerNpi = appointment.providerNpi
        locationId = appointment.locationId
        start = appointment.start
        end = appointment.end
        localStart = appointment.localStart
        timeZone = appointment.timeZone
        appointmentTypeId = appointment.appointmentTypeId
        appointmentTypeCode = appointment.appointmentTypeCode
        plannedServices = appointment.plannedServices
        status = appointment.status.rawValue
        self.reason = reason
        self.previous = previous.map {
            Previous(providerId: $0.providerId, locationId: $0.locationId, start: $0.start, end: $0.end)
        }
    }
}
