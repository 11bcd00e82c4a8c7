import Foundation
import RCMCore

/// Times of the schedule. Instants are whole minutes since 1970-01-01T00:00Z ("epoch minutes");
/// working hours and exceptions are wall-clock minutes of a day (0 to 1440) in the time zone of
/// their location, turned into instants per date, so that they follow the zone's offset changes.
enum ScheduleTime {
    /// Appointment times sit on this grid (minutes); durations and hours are multiples of it.
    static let granule = 5

    static func nowMinute(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 / 60).rounded(.down)) }

    /// Days since 1970-01-01 of a calendar date (proleptic Gregorian).
    static func epochDay(_ date: CalendarDate) -> Int64 {
        let year = Int64(date.month <= 2 ? date.year - 1 : date.year)
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let month = Int64(date.month)
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + Int64(date.day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar date `days` after 1970-01-01.
    static func date(epochDay days: Int64) -> CalendarDate {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        // Always a valid date, so the parse cannot fail.
        return CalendarDate(pad(Int(year), 4) + "-" + pad(Int(month), 2) + "-" + pad(Int(day), 2))!
    }

    static func adding(_ days: Int64, to date: CalendarDate) -> CalendarDate {
        self.date(epochDay: epochDay(date) + days)
    }

    /// ISO weekday of a date: Monday 1 … Sunday 7.
    static func isoWeekday(_ date: CalendarDate) -> Int {
        let days = epochDay(date)  // 1970-01-01 was a Thursday (4)
        return Int(((days + 3) % 7 + 7) % 7) + 1
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// `HH:MM` of a minute of the day (0…1440).
    static func clock(_ minuteOfDay: Int) -> String { pad(minuteOfDay / 60, 2) + ":" + pad(minuteOfDay % 60, 2) }

    /// The minute of the day of `HH:MM` (`24:00` is the end of the day), or nil.
    static func minuteOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard text.utf8.count == 5, parts.count == 2, parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), minutes < 60,
            hours < 24 || (hours == 24 && minutes == 0)
        else { return nil }
        return hours * 60 + minutes
    }

    /// `2026-12-07T03:30:00Z` of an epoch minute.
    static func utc(_ minute: Int64) -> String {
        let day = Int64((Double(minute) / 1440).rounded(.down))
        let rest = Int(minute - day * 1440)
        return "\(date(epochDay: day))T\(clock(rest)):00Z"
    }

    /// A moment as a client writes it: a date, a time and maybe an offset (`Z`, `+05:30`); without
    /// one, the time is the wall-clock time of the location.
    struct Written: Equatable {
        let date: CalendarDate
        let minuteOfDay: Int
        let second: Int
        /// Minutes east of UTC; nil for a wall-clock time.
        let offset: Int?
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]`; nil for anything else.
    static func parse(_ text: String) -> Written? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 16, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            let date = CalendarDate(String(decoding: bytes[0..<10], as: UTF8.self)),
            let minuteOfDay = minuteOfDay(String(decoding: bytes[11..<16], as: UTF8.self)), minuteOfDay < 1440
        else { return nil }
        var index = 16
        var second = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            guard index + 3 <= bytes.count,
                let value = Int(String(decoding: bytes[index + 1..<index + 3], as: UTF8.self)),
                value < 60
            else { return nil }
            second = value
            index += 3
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                let start = index
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    if bytes[index] != 48 { second = max(second, 1) }  // a fraction is off the grid
                    index += 1
                }
                guard index > start else { return nil }
            }
        }
        let rest = String(decoding: bytes[index...], as: UTF8.self)
        if rest.isEmpty { return Written(date: date, minuteOfDay: minuteOfDay, second: second, offset: nil) }
        if rest == "Z" { return Written(date: date, minuteOfDay: minuteOfDay, second: second, offset: 0) }
        guard rest.utf8.count == 6, let sign = rest.first, sign == "+" || sign == "-",
            let offset = self.minuteOfDay(String(rest.dropFirst())), offset < 1440
        else { return nil }
        return Written(date: date, minuteOfDay: minuteOfDay, second: second, offset: sign == "+" ? offset : -offset)
    }
}

/// A location's time zone: wall-clock times to instants and back.
struct ScheduleZone: Sendable {
    let identifier: String
    let timeZone: TimeZone

    init?(_ identifier: String) {
        guard !identifier.isEmpty, let zone = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.timeZone = zone
    }

    /// Minutes east of UTC at an instant.
    func offset(at minute: Int64) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(minute) * 60)) / 60
    }

    /// The instant of a wall-clock time. In a gap (clocks going forward) the time is read with the
    /// offset before the change; in an overlap, the first of the two instants.
    func instant(_ date: CalendarDate, _ minuteOfDay: Int) -> Int64 {
        let local = ScheduleTime.epochDay(date) * 1440 + Int64(minuteOfDay)
        let first = local - Int64(offset(at: local))
        let second = local - Int64(offset(at: first))
        return min(first, second)
    }

    /// The local date and minute of the day of an instant.
    func local(_ minute: Int64) -> (date: CalendarDate, minuteOfDay: Int) {
        let local = minute + Int64(offset(at: minute))
        let day = Int64((Double(local) / 1440).rounded(.down))
        return (ScheduleTime.date(epochDay: day), Int(local - day * 1440))
    }

    /// `2026-12-07T09:00:00+05:30` of an instant.
    func format(_ minute: Int64) -> String {
        let (date, minuteOfDay) = local(minute)
        let offset = offset(at: minute)
        let sign = offset < 0 ? "-" : "+"
        return "\(date)T\(ScheduleTime.clock(minuteOfDay)):00\(sign)\(ScheduleTime.clock(abs(offset)))"
    }

    /// The instant a client wrote, read in this zone when it gave no offset.
    func instant(_ written: ScheduleTime.Written) -> Int64 {
        if let offset = written.offset {
            return ScheduleTime.epochDay(written.date) * 1440 + Int64(written.minuteOfDay) - Int64(offset)
        }
        return instant(written.date, written.minuteOfDay)
    }
}
