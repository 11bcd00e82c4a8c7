import RCMCore
import RCMHTTP
import RCMStorage

/// Location scoping: a user whose token names locations sees only records of those locations.
/// Records elsewhere answer 404, as another organization's do; lists leave them out.
extension RequestContext {
    /// The locations the caller is limited to, or nil for every location of the organization.
    public var limitedLocations: [String]? {
        guard let principal, !principal.locations.isEmpty else { return nil }
        return principal.locations
    }

    public func mayAccess(location: String) -> Bool { principal?.mayAccess(location: location) ?? true }

    /// ` AND <column> IN (…)` for a limited caller; nothing otherwise. `column` is code, never input.
    public func locationFilter(_ column: String) -> SQL {
        guard let locations = limitedLocations else { return "" }
        return " AND \(unsafeRaw: column) IN " + SQL.list(locations)
    }

    /// Refuses to create or change records at a location the caller is not limited to.
    public func requireLocation(_ location: String, pointer: String) throws {
        guard mayAccess(location: location) else {
            throw Problem.forbidden(
                "Location \(location) is not one of yours.",
                errors: [.init(pointer: pointer, message: "not one of your locations")])
        }
    }
}
