/// Who is making a request, as their verified access token says.
public struct Principal: Sendable, Equatable {
    public let userId: String
    public let organizationId: String
    public let roles: Set<String>
    /// The locations the user is limited to; empty means all of the organization's.
    public let locations: [String]

    public init(userId: String, organizationId: String, roles: Set<String>, locations: [String]) {
        self.userId = userId
        self.organizationId = organizationId
        self.roles = roles
        self.locations = locations
    }

    /// True when the user may see records of `location`.
    public func mayAccess(location: String) -> Bool { locations.isEmpty || locations.contains(location) }
}
