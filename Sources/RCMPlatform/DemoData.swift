import Foundation
import IdentityService
import RCMCore
import RCMHTTP
import RCMSecurity
import RCMServiceKit

/// The demo organization: two locations, two payers, three patients (P10001 and P10003 insured,
/// P10002 not) and a charge master. Loaded through the services' own APIs, in-process, so it is
/// validated like any other input; loading twice changes nothing.
public enum DemoData {
    public static let locations = ["loc_andheri", "loc_powai"]

    public static let chargeMaster: [(code: String, description: String, price: Decimal)] = [
        ("OPD001", "Doctor Consultation", 400),
        ("OPD002", "Specialist Consultation", 800),
        ("LAB025", "Blood Test", 250),
        ("LAB031", "Complete Blood Count", 350),
        ("LAB040", "Lipid Profile", 600),
        ("RAD010", "Chest X-Ray", 750),
        ("PRC005", "Wound Dressing", 150.50),
    ]

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Loads what belongs to the services this process hosts (all six by default) or reaches at a
    /// configured URL (`rcm demo load` in a cluster, where each service runs apart).
    public static func load(into platform: Platform) throws {
        let services = Set(platform.services.keys).union(platform.configuration.serviceURLs.keys)
        if let identity = platform.databases["identity"] {
            try IdentityService.ensureOrganization(
                id: platform.configuration.organizationId, name: "Sunrise Clinics",
                currency: platform.configuration.currency,
                locations: [("loc_andheri", "Sunrise Andheri"), ("loc_powai", "Sunrise Powai")], in: identity)
        }
        let client = Client(platform: platform, token: try platform.systemToken())
        if services.contains("billing") { try loadChargeMaster(into: client) }
        if services.contains("patient") && services.contains("insurance") {
            try loadPatientsAndCoverage(into: client)
        }
        if services.contains("patient") { try loadSchedule(into: client) }
    }

    /// One user per role, with a fresh random password each, when the installation has no users yet.
    /// Returns their credentials so that `rcm serve --demo` can print them.
    public static func loadUsers(into platform: Platform) throws -> [(email: String, password: String, role: Role)] {
        guard let identity = platform.databases["identity"], try IdentityService.userCount(in: identity) == 0 else {
            return []
        }
        var created: [(email: String, password: String, role: Role)] = []
        for role in Role.allCases {
            let email = role.rawValue.replacingOccurrences(of: "_", with: ".") + "@demo.rcm.invalid"
            let password = "demo-" + SecureRandom.token().prefix(16)
            _ = try IdentityService.createUser(
                email: email, password: password, displayName: "Demo \(role.rawValue)",
                organizationId: platform.configuration.organizationId, roles: [role], in: identity)
            created.append((email, password, role))
        }
        return created
    }

    /// The services' APIs with a system token: in-process for the services this process hosts,
    /// over HTTP for the others.
    struct Client {
        let platform: Platform
        let token: String

        /// The service owning a path (`/api/billing/...` → billing).
        static func service(of path: String) -> String {
            let area = path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
            switch area {
            case "patients": return "patient"
            case "claims": return "claim"
            case "payments": return "payment"
            default: return area
            }
        }

        func send(_ method: HTTPMethod, _ target: String, body: [UInt8]) -> HTTPResponse {
            let (path, query) = HTTPApplication.split(target)
            let service = Client.service(of: path)
            var headers = HTTPHeaders([("Authorization", "Bearer " + token)])
            if !body.isEmpty { headers.add("Content-Type", "application/json") }
            let request = HTTPRequest(method: method, path: path, query: query, headers: headers, body: body)
            if platform.services[service] != nil { return platform.application.respond(to: request) }
            do {
                return try platform.directory.client(for: service).send(request)
            } catch {
                return .problem(Problem.upstream("\(service): \(error)"))
            }
        }

        func test(_ method: HTTPMethod, _ target: String) -> HTTPResponse { send(method, target, body: []) }

        func test<Body: Encodable>(_ method: HTTPMethod, _ target: String, json: Body) throws -> HTTPResponse {
            send(method, target, body: try JSON.encode(json))
        }
    }

    static func loadChargeMaster(into application: Client) throws {
        for location in locations {
            for item in chargeMaster {
                try expect(
                    200,
                    application.test(
                        .PUT, "/api/billing/charge-items/\(location)/\(item.code)",
                        json: ["description": AnyEncodable(item.description), "price": AnyEncodable(item.price)]))
            }
        }
    }

    static func loadPatientsAndCoverage(into application: Client) throws {
        if application.test(.GET, "/api/patients/P10001").status == 200 { return }
        let star = try created(
            application.test(
                .POST, "/api/insurance/payers", json: ["name": "Star Health Insurance", "payerCode": "STARHEALTH"]))
        let icici = try created(
            application.test(
                .POST, "/api/insurance/payers", json: ["name": "ICICI Lombard", "payerCode": "ICICILOMBARD"]))
        let patients: [[String: String]] = [
            [
                "locationId": "loc_andheri", "givenName": "Asha", "familyName": "Rao", "dateOfBirth": "1986-04-12",
                "sex": "female", "phone": "+91 98200 11111", "email": "asha.rao@example.com",
            ],
            [
                "locationId": "loc_andheri", "givenName": "Rahul", "familyName": "Mehta", "dateOfBirth": "1979-11-03",
                "sex": "male", "phone": "+91 98200 22222",
            ],
            [
                "locationId": "loc_powai", "givenName": "Priya", "familyName": "Nair", "dateOfBirth": "1992-07-21",
                "sex": "female", "email": "priya.nair@example.com",
            ],
        ]
        var ids: [String] = []
        for patient in patients {
            ids.append(try created(application.test(.POST, "/api/patients", json: patient)))
        }
        let coverages: [[String: AnyEncodable]] = [
            [
                "patientId": AnyEncodable(ids[0]), "payerId": AnyEncodable(star),
                "planName": AnyEncodable("Family Health Optima"),
                "memberId": AnyEncodable("SH-DEDMET-445566"), "groupNumber": AnyEncodable("GRP-ACME-2026"),
                "relationship": AnyEncodable("self"), "validFrom": AnyEncodable("2025-01-01"),
                "validTo": AnyEncodable("2030-12-31"),
                "copay": AnyEncodable(Decimal(100)), "coinsurancePercent": AnyEncodable(Decimal(10)),
                "deductible": AnyEncodable(Decimal(5000)), "deductibleMet": AnyEncodable(Decimal(5000)),
            ],
            [
                "patientId": AnyEncodable(ids[2]), "payerId": AnyEncodable(icici),
                "planName": AnyEncodable("Complete Health"),
                "memberId": AnyEncodable("IL-778899"), "relationship": AnyEncodable("self"),
                "validFrom": AnyEncodable("2025-04-01"), "copay": AnyEncodable(Decimal(0)),
                "coinsurancePercent": AnyEncodable(Decimal(20)), "deductible": AnyEncodable(Decimal(1000)),
                "deductibleMet": AnyEncodable(Decimal(250)),
            ],
        ]
        for coverage in coverages {
            _ = try created(application.test(.POST, "/api/insurance/coverages", json: coverage))
        }
    }

    /// Providers, their hours (Monday to Saturday, 09:00–17:00, India time), appointment types,
    /// and a few appointments of the demo patients on the next working days. (The NPIs are valid
    /// but avoid 1234567893: a test looks for the digits 123456789 of a demo SSN in stored data.)
    static func loadSchedule(into application: Client) throws {
        struct Items: Decodable {
            struct Item: Decodable { let id: String }
            let items: [Item]
        }
        guard try application.test(.GET, "/api/patients/providers").decode(Items.self).items.isEmpty else { return }
        try expect(
            200,
            application.test(.PUT, "/api/patients/time-zones", json: ["defaultTimeZone": AnyEncodable("Asia/Kolkata")]))
        var types: [String: String] = [:]
        for (code, name, minutes) in [
            ("NEW", "New patient visit", 30), ("FOLLOWUP", "Follow-up", 15), ("LAB", "Lab draw", 10),
        ] {
            types[code] = try created(
                application.test(
                    .POST, "/api/patients/appointment-types",
                    json: [
                        "code": AnyEncodable(code), "name": AnyEncodable(name),
                        "durationMinutes": AnyEncodable(minutes),
                    ]))
        }
        let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        let providers:
            [(prefix: String, given: String, family: String, npi: String, specialty: String, days: [String: String])] =
                [
                    (
                        "Dr.", "Anil", "Kapoor", "1467532986", "General Medicine",
                        Dictionary(uniqueKeysWithValues: weekdays.map { ($0, "loc_andheri") })
                    ),
                    (
                        "Dr.", "Meera", "Iyer", "1245319599", "Cardiology",
                        Dictionary(uniqueKeysWithValues: weekdays.map { ($0, "loc_powai") })
                    ),
                    (
                        "Dr.", "Sanjay", "Desai", "1987654328", "Family Medicine",
                        [
                            "monday": "loc_andheri", "tuesday": "loc_powai", "wednesday": "loc_andheri",
                            "thursday": "loc_powai",
                            "friday": "loc_andheri", "saturday": "loc_powai",
                        ]
                    ),
                ]
        var ids: [String] = []
        for provider in providers {
            let id = try created(
                application.test(
                    .POST, "/api/patients/providers",
                    json: [
                        "prefix": AnyEncodable(provider.prefix), "givenName": AnyEncodable(provider.given),
                        "familyName": AnyEncodable(provider.family), "npi": AnyEncodable(provider.npi),
                        "specialty": AnyEncodable(provider.specialty),
                        "locations": AnyEncodable(Set(provider.days.values).sorted()),
                    ]))
            let hours = provider.days.sorted { $0.key < $1.key }.map {
                ["locationId": $0.value, "weekday": $0.key, "start": "09:00", "end": "17:00"]
            }
            try expect(200, application.test(.PUT, "/api/patients/providers/\(id)/hours", json: ["hours": hours]))
            ids.append(id)
        }
        guard application.test(.GET, "/api/patients/P10001").status == 200 else { return }
        // The next two working days (Monday to Saturday) in Mumbai, after today.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Kolkata") ?? .gmt
        var days: [String] = []
        var day = Date()
        while days.count < 2 {
            day = day.addingTimeInterval(86_400)
            guard calendar.component(.weekday, from: day) != 1 else { continue }  // Sunday
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            days.append(String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0))
        }
        let appointments:
            [(patient: String, provider: String, location: String, type: String, start: String, services: [String])] = [
                ("P10001", ids[0], "loc_andheri", "NEW", days[0] + "T10:00", ["OPD001", "LAB025"]),
                ("P10002", ids[0], "loc_andheri", "FOLLOWUP", days[0] + "T10:30", ["OPD001"]),
                ("P10003", ids[1], "loc_powai", "NEW", days[1] + "T11:00", ["OPD002", "LAB040"]),
            ]
        for appointment in appointments {
            _ = try created(
                application.test(
                    .POST, "/api/patients/appointments",
                    json: [
                        "patientId": AnyEncodable(appointment.patient),
                        "providerId": AnyEncodable(appointment.provider),
                        "locationId": AnyEncodable(appointment.location),
                        "appointmentTypeId": AnyEncodable(types[appointment.type] ?? ""),
                        "start": AnyEncodable(appointment.start), "plannedServices": AnyEncodable(appointment.services),
                    ]))
        }
    }

    private static func expect(_ status: Int, _ response: HTTPResponse) throws {
        guard response.status == status else {
            throw LoadError(description: "demo data: expected \(status), got \(response.status): \(response.bodyText)")
        }
    }

    private static func created(_ response: HTTPResponse) throws -> String {
        try expect(201, response)
        struct Created: Decodable { let id: String }
        return try response.decode(Created.self).id
    }
}

/// Type erasure for building mixed JSON bodies.
struct AnyEncodable: Encodable {
    let encodeValue: (any Encoder) throws -> Void
    init<T: Encodable>(_ value: T) {
        // Through a container, so that JSONEncoder writes a Decimal as a number.
        encodeValue = { encoder in
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }
    func encode(to encoder: any Encoder) throws { try encodeValue(encoder) }
}
