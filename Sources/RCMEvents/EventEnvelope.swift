import RCMCore

/// What every event carries, whatever its type. The payload is the JSON of a versioned,
/// type-specific body; consumers check `schemaVersion` before reading it.
public struct EventEnvelope: Codable, Sendable, Equatable {
    public let id: String
    /// Dotted name, `<entity>.<past-tense verb>`: `invoice.issued`, `payment.recorded`.
    public let type: String
    public let schemaVersion: Int
    /// UTC ISO 8601 with milliseconds.
    public let occurredAt: String
    public let organizationId: String
    public let locationId: String?
    /// Ties the events of one business flow together (usually the request id that started it).
    public let correlationId: String
    /// The service that published it.
    public let source: String
    /// JSON text of the body.
    public let payload: String

    public init(
        id: String = Identifier.make("evt"), type: String, schemaVersion: Int = 1, occurredAt: String = Timestamp.now(),
        organizationId: String, locationId: String?, correlationId: String, source: String, payload: String
    ) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.occurredAt = occurredAt
        self.organizationId = organizationId
        self.locationId = locationId
        self.correlationId = correlationId
        self.source = source
        self.payload = payload
    }

    /// An envelope around an encodable body.
    public static func make<Body: Encodable>(
        type: String, schemaVersion: Int = 1, organizationId: String, locationId: String?, correlationId: String,
        source: String, body: Body
    ) throws -> EventEnvelope {
        EventEnvelope(
            type: type, schemaVersion: schemaVersion, organizationId: organizationId, locationId: locationId,
            correlationId: correlationId, source: source, payload: try JSON.encodeString(body))
    }

    public func decode<Body: Decodable>(_ type: Body.Type) throws -> Body { try JSON.decode(type, from: payload) }
}
