import RCMCore

/// When one provider works: weekly hours plus extra hours, minus time off, per location and date.
struct Availability {
    let hours: [WorkingHours]
    let exceptions: [ScheduleException]

    /// Working intervals at `location` on `date`, in minutes of the day, sorted and disjoint.
    func minutes(at location: String, on date: CalendarDate) -> [Range<Int>] {
        let weekday = ScheduleTime.isoWeekday(date)
        var open: [Range<Int>] = hours.filter { $0.locationId == location && $0.weekday.iso == weekday }
            .compactMap { Availability.range($0.start, $0.end) }
        open += exceptions.filter { $0.kind == .extra && $0.date == date && $0.locationId == location }
            .compactMap { exception in
                exception.start.flatMap { start in exception.end.flatMap { Availability.range(start, $0) } }
            }
        var merged = Availability.merge(open)
        for off in exceptions where off.kind == .off && off.date == date && (off.locationId ?? location) == location {
            let range =
                off.start.flatMap { start in off.end.flatMap { Availability.range(start, $0) } } ?? 0..<1440
            merged = Availability.subtract(range, from: merged)
        }
        return merged
    }

    /// Working intervals at `location` on `date` as instants (epoch minutes) in `zone`.
    func instants(at location: String, on date: CalendarDate, zone: ScheduleZone) -> [Range<Int64>] {
        minutes(at: location, on: date).compactMap { range in
            let start = Availability.instant(date, range.lowerBound, zone)
            let end = Availability.instant(date, range.upperBound, zone)
            return start < end ? start..<end : nil
        }
    }

    static func instant(_ date: CalendarDate, _ minuteOfDay: Int, _ zone: ScheduleZone) -> Int64 {
        minuteOfDay >= 1440 ? zone.instant(ScheduleTime.adding(1, to: date), 0) : zone.instant(date, minuteOfDay)
    }

    static func range(_ start: String, _ end: String) -> Range<Int>? {
        guard let start = ScheduleTime.minuteOfDay(start), let end = ScheduleTime.minuteOfDay(end), start < end else {
            return nil
        }
        return start..<end
    }

    static func merge(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    static func subtract(_ cut: Range<Int>, from ranges: [Range<Int>]) -> [Range<Int>] {
        ranges.flatMap { range -> [Range<Int>] in
            guard range.overlaps(cut) else { return [range] }
            var parts: [Range<Int>] = []
            if range.lowerBound < cut.lowerBound { parts.append(range.lowerBound..<cut.lowerBound) }
            if cut.upperBound < range.upperBound { parts.append(cut.upperBound..<range.upperBound) }
            return parts
        }
    }
}
