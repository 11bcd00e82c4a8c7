import Foundation

/// A resource in a bundle, kept as its own type so that it encodes with its own fields.
public enum FHIRResource: Codable, Sendable, Equatable {
    case patient(FHIRPatient)
    case organization(FHIROrganization)
    case coverage(FHIRCoverage)
    case coverageEligibilityRequest(FHIRCoverageEligibilityRequest)
    case coverageEligibilityResponse(FHIRCoverageEligibilityResponse)

    private struct TypeProbe: Decodable { let resourceType: String }

    public init(from decoder: any Decoder) throws {
        let type = try TypeProbe(from: decoder).resourceType
        switch type {
        case "Patient": self = .patient(try FHIRPatient(from: decoder))
        case "Organization": self = .organization(try FHIROrganization(from: decoder))
        case "Coverage": self = .coverage(try FHIRCoverage(from: decoder))
        case "CoverageEligibilityRequest":
            self = .coverageEligibilityRequest(try FHIRCoverageEligibilityRequest(from: decoder))
        case "CoverageEligibilityResponse":
            self = .coverageEligibilityResponse(try FHIRCoverageEligibilityResponse(from: decoder))
        default:
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unsupported resourceType \(type)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .patient(let resource): try resource.encode(to: encoder)
        case .organization(let resource): try resource.encode(to: encoder)
        case .coverage(let resource): try resource.encode(to: encoder)
        case .coverageEligibilityRequest(let resource): try resource.encode(to: encoder)
        case .coverageEligibilityResponse(let resource): try resource.encode(to: encoder)
        }
    }
}

/// FHIR R4 `Bundle` of type `collection` (NHCX sends each request and answer as one bundle).
public struct FHIRBundle: Codable, Sendable, Equatable {
    public var resourceType = "Bundle"
    public var id: String?
    public var meta: FHIRMeta?
    public var identifier: FHIRIdentifier?
    public var type: String
    public var timestamp: String?
    public var entry: [Entry]

    public struct Entry: Codable, Sendable, Equatable {
        public var fullUrl: String
        public var resource: FHIRResource

        public init(fullUrl: String, resource: FHIRResource) {
            self.fullUrl = fullUrl
            self.resource = resource
        }
    }

    public init(
        id: String?, meta: FHIRMeta? = nil, identifier: FHIRIdentifier?, type: String = "collection",
        timestamp: String?,
        entry: [Entry]
    ) {
        self.id = id
        self.meta = meta
        self.identifier = identifier
        self.type = type
        self.timestamp = timestamp
        self.entry = entry
    }

    /// The first resource of the bundle for which `pick` answers non-nil.
    public func first<T>(_ pick: (FHIRResource) -> T?) -> T? {
        for entry in entry { if let found = pick(entry.resource) { return found } }
        return nil
    }
}
