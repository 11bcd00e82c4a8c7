import Foundation
import RCMCore
import RCMEvents
import RCMHTTP
import RCMSecurity
import RCMServiceKit
import RCMStorage

/// Registration: patients and their demographics, with a medical record number per organization.
public struct PatientService: PlatformService {
    public static let name = "patient"
    public static let subscribedTypes: [String] = []
    public static let migrations =
        PatientStore.migrations + [Outbox.migration, Outbox.cursorMigration, Idempotency.migration]

    let environment: ServiceEnvironment
    public var consumer: (any EventConsumer)? { nil }

    public init(environment: ServiceEnvironment) { self.environment = environment }

    public func registerRoutes(_ router: RouterBuilder) {
        router.group("/api/patients") { patients in
            patients.post("", create)
            patients.get("", search)
            patients.get("/{id}", read)
            patients.patch("/{id}", update)
            patients.get("/{id}/export", export)
            patients.post("/{id}/erase", erase)
            registerSchedulingRoutes(patients)
            patients.post("/{id}/merge", merge)
        }
    }

    func create(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        let input = try request.decode(PatientInput.self)
        var validation = Validation()
        validation.text(input.locationId, "/locationId", maxLength: 64)
        validation.text(input.givenName, "/givenName")
        validation.text(input.familyName, "/familyName")
        validation.require(input.dateOfBirth != nil, "/dateOfBirth", "is required")
        if let birth = input.dateOfBirth {
            validation.require(birth <= CalendarDate.today(), "/dateOfBirth", "must not be in the future")
        }
        validation.require(input.sex != nil, "/sex", "is required (female, male, other, unknown)")
        PatientService.validateContact(input, &validation)
        try validation.check()
        guard let dateOfBirth = input.dateOfBirth else { throw Problem.invalid(pointer: "/dateOfBirth", "is required") }
        try context.requireLocation(input.locationId ?? "", pointer: "/locationId")

        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let number = try PatientStore.nextValue("patient", start: 10001, in: connection)
            let record = try PatientStore.nextValue("mrn:" + context.organizationId, start: 1, in: connection)
            let now = Timestamp.now()
            var patient = Patient(
                id: "P\(number)", organizationId: context.organizationId, locationId: input.locationId ?? "",
                mrn: String(format: "MRN%07lld", record), givenName: input.givenName ?? "",
                familyName: input.familyName ?? "", dateOfBirth: dateOfBirth, sex: input.sex ?? .unknown,
                phone: input.phone, email: input.email, address: input.address, identifiers: input.identifiers,
                createdAt: now, updatedAt: now,
                version: 1)
            PatientService.apply(input, to: &patient)
            if input.confirmNotDuplicate != true {
                let similar = try PatientStore.duplicates(of: patient, fields: environment.fields, in: connection)
                if !similar.isEmpty { throw PatientService.possibleDuplicate(patient, similar, environment.fields) }
            }
            try PatientStore.insert(patient, fields: environment.fields, in: connection)
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "patient.registered", organizationId: patient.organizationId, locationId: patient.locationId,
                    correlationId: context.requestId, source: PatientService.name,
                    body: ["patientId": patient.id, "mrn": patient.mrn]),
                in: connection)
            var response = try HTTPResponse.json(patient, status: 201)
            response.headers.add("Location", "/api/patients/\(patient.id)")
            response.headers.add("ETag", "\"\(patient.version)\"")
            return response
        }
    }

    func read(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        if request.query["view"] == "summary" { return try summary(id, context) }
        guard
            let patient = try environment.database.read({
                try PatientStore.find(id, organization: context.organizationId, fields: environment.fields, in: $0)
            })
        else { throw Problem.notFound("Patient \(id) does not exist.") }
        guard context.mayAccess(location: patient.locationId) else {
            throw Problem.notFound("Patient \(id) does not exist.")
        }
        if let survivor = patient.mergedInto {
            // The old id keeps working: it points at the record it was merged into.
            var response = try HTTPResponse.json(["id": patient.id, "mergedInto": survivor], status: 308)
            response.headers.add("Location", "/api/patients/\(survivor)")
            return response
        }
        var response = try HTTPResponse.json(patient)
        response.headers.add("ETag", "\"\(patient.version)\"")
        return response
    }

    func update(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }  // deliver what committed without waiting for a poll
        let id = context.parameter("id")
        let input = try request.decode(PatientInput.self)
        var validation = Validation()
        if let value = input.givenName { validation.text(value, "/givenName") }
        if let value = input.familyName { validation.text(value, "/familyName") }
        if let value = input.locationId { validation.text(value, "/locationId", maxLength: 64) }
        PatientService.validateContact(input, &validation)
        try validation.check()
        let patient = try environment.database.write { connection -> Patient in
            guard
                var patient = try PatientStore.find(
                    id, organization: context.organizationId, fields: environment.fields, in: connection)
            else {
                throw Problem.notFound("Patient \(id) does not exist.")
            }
            guard context.mayAccess(location: patient.locationId) else {
                throw Problem.notFound("Patient \(id) does not exist.")
            }
            if let location = input.locationId { try context.requireLocation(location, pointer: "/locationId") }
            if let match = request.headers["If-Match"], match != "\"\(patient.version)\"", match != "*" {
                throw Problem(
                    type: "https://rcm.invalid/problems/precondition-failed", title: "Precondition failed", status: 412,
                    detail: "The patient changed since it was read (version \(patient.version)).",
                    errors: [.init(pointer: "header:If-Match", message: "does not match the current ETag")])
            }
            let expected = patient.version
            if let value = input.givenName { patient.givenName = value }
            if let value = input.familyName { patient.familyName = value }
            if let value = input.locationId { patient.locationId = value }
            if let value = input.dateOfBirth { patient.dateOfBirth = value }
            if let value = input.sex { patient.sex = value }
            if let value = input.phone { patient.phone = value }
            if let value = input.email { patient.email = value }
            if let value = input.address { patient.address = value }
            if let value = input.identifiers { patient.identifiers = value }
            PatientService.apply(input, to: &patient)
            if let survivor = patient.mergedInto {
                throw Problem.conflict("Patient \(id) was merged into \(survivor); change that record.", type: "merged")
            }
            patient.version += 1
            patient.updatedAt = Timestamp.now()
            guard
                try PatientStore.update(patient, expectedVersion: expected, fields: environment.fields, in: connection)
            else {
                throw Problem.conflict("The patient was changed concurrently; read it again.")
            }
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "patient.updated", organizationId: patient.organizationId, locationId: patient.locationId,
                    correlationId: context.requestId, source: PatientService.name, body: ["patientId": patient.id]),
                in: connection)
            return patient
        }
        var response = try HTTPResponse.json(patient)
        response.headers.add("ETag", "\"\(patient.version)\"")
        return response
    }

    /// `?view=summary`: who and where, without the sealed fields (nothing to decrypt) — what other
    /// services need to bill or check a patient.
    func summary(_ id: String, _ context: RequestContext) throws -> HTTPResponse {
        struct Summary: Encodable {
            let id: String
            let mrn: String
            let locationId: String
            let givenName: String
            let familyName: String
            let dateOfBirth: CalendarDate
            let sex: String
            let version: Int
            let mergedFrom: String?
        }
        let row = try environment.database.read { connection -> Row? in
            let select: (String) throws -> Row? = { id in
                try connection.queryFirst(
                    """
                    SELECT id, mrn, location_id, given_name, family_name, date_of_birth, sex, version, merged_into
                    FROM patients WHERE id = \(id) AND organization_id = \(context.organizationId)
                    """)
            }
            // A merged record answers with the record it was merged into (one hop; merges never chain).
            guard let row = try select(id) else { return nil }
            return try row.optionalString("merged_into").map(select) ?? row
        }
        guard let row, context.mayAccess(location: try row.string("location_id")) else {
            throw Problem.notFound("Patient \(id) does not exist.")
        }
        return try .json(
            Summary(
                id: try row.string("id"), mrn: try row.string("mrn"), locationId: try row.string("location_id"),
                givenName: try row.string("given_name"), familyName: try row.string("family_name"),
                dateOfBirth: try row.date("date_of_birth"), sex: try row.string("sex"), version: try row.int("version"),
                mergedFrom: try row.string("id") == id ? nil : id))
    }

    func search(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let limit = try request.pageLimit()
        var patientIds: [String]?
        if let memberId = request.query["memberId"], !memberId.isEmpty {
            // Member ids live with the insurance service (encrypted, found by blind index).
            struct Found: Decodable {
                struct Item: Decodable { let patientId: String }
                let items: [Item]
            }
            let found = try environment.services.client(for: "insurance").get(
                Found.self,
                "/api/insurance/coverages?memberId=\(memberId.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
                context: context)
            patientIds = Array(Set(found?.items.map(\.patientId) ?? [])).sorted()
            if patientIds?.isEmpty == true { return try .json(Page(items: [Patient](), limit: limit, cursor: \.id)) }
        }
        let query = PatientStore.Search(
            name: request.query["name"].flatMap { $0.isEmpty ? nil : $0 },
            dateOfBirth: try request.dateQuery("dateOfBirth"),
            phone: request.query["phone"], mrn: request.query["mrn"],
            identifier: try PatientService.identifierQuery(request.query["identifier"], fields: environment.fields),
            patientIds: patientIds, after: request.query["cursor"], limit: limit)
        let patients = try environment.database.read {
            try PatientStore.search(
                query, organization: context.organizationId, scope: context.locationFilter("location_id"),
                fields: environment.fields, in: $0)
        }
        return try .json(Page(items: patients, limit: limit, cursor: \.id))
    }

    /// `identifier=ssn|123-45-6789`: the blind index to look for, or 422 naming the parameter.
    static func identifierQuery(_ text: String?, fields: FieldEncryption) throws -> String? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: "|", maxSplits: 1)
        guard parts.count == 2, let system = Patient.NationalIdentifier.System(rawValue: String(parts[0])) else {
            throw Problem.invalid(
                pointer: "query:identifier",
                "must be system|value with system one of \(Patient.NationalIdentifier.System.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return PatientStore.identifierIndex(system: system.rawValue, value: String(parts[1]), fields: fields)
    }

    /// Copies the registration details beyond the basic demographics (create and update).
    static func apply(_ input: PatientInput, to patient: inout Patient) {
        if let value = input.middleName { patient.middleName = value }
        if let value = input.namePrefix { patient.namePrefix = value }
        if let value = input.nameSuffix { patient.nameSuffix = value }
        if let value = input.genderIdentity { patient.genderIdentity = value }
        if let value = input.preferredLanguage { patient.preferredLanguage = value }
        if let value = input.guarantor { patient.guarantor = value }
        if let value = input.emergencyContact { patient.emergencyContact = value }
        if let value = input.consents { patient.consents = value }
    }

    /// 409 listing the records that look like the same person; the client repeats the request
    /// with `confirmNotDuplicate: true` once someone has looked at them, or merges instead.
    static func possibleDuplicate(_ patient: Patient, _ similar: [Patient], _ fields: FieldEncryption) -> Problem {
        let indexes = Set(
            (patient.identifiers ?? []).map {
                PatientStore.identifierIndex(system: $0.system.rawValue, value: $0.value, fields: fields)
            })
        var problem = Problem.conflict(
            "\(similar.count) registered patient(s) look like the same person. Check them; to register anyway, send confirmNotDuplicate: true.",
            type: "possible-duplicate")
        problem.errors = [.init(pointer: "/confirmNotDuplicate", message: "required to register a possible duplicate")]
        problem.candidates = similar.map { other in
            let sameIdentifier = (other.identifiers ?? []).contains {
                indexes.contains(
                    PatientStore.identifierIndex(system: $0.system.rawValue, value: $0.value, fields: fields))
            }
            return Problem.Candidate(
                id: other.id,
                label: "\(other.givenName) \(other.familyName), born \(other.dateOfBirth), \(other.mrn)",
                matchedOn: sameIdentifier ? "identifier" : "name and date of birth")
        }
        return problem
    }

    static func validateRegistration(_ input: PatientInput, _ validation: inout Validation) {
        validation.text(input.middleName, "/middleName", maxLength: 100, required: false)
        validation.text(input.namePrefix, "/namePrefix", maxLength: 20, required: false)
        validation.text(input.nameSuffix, "/nameSuffix", maxLength: 20, required: false)
        validation.text(input.genderIdentity, "/genderIdentity", maxLength: 60, required: false)
        if let language = input.preferredLanguage {
            let parts = language.split(separator: "-", omittingEmptySubsequences: false)
            validation.require(
                language.count <= 35 && !parts.isEmpty && (2...3).contains(parts[0].count)
                    && parts.allSatisfy {
                        !$0.isEmpty && $0.count <= 8 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
                    },
                "/preferredLanguage", "must be a BCP 47 language tag such as en, hi or mr-IN")
        }
        for (name, contact) in [("guarantor", input.guarantor), ("emergencyContact", input.emergencyContact)] {
            guard let contact else { continue }
            validation.text(contact.name, "/\(name)/name")
            validation.text(contact.relationship, "/\(name)/relationship", maxLength: 40)
            if let phone = contact.phone { validatePhone(phone, "/\(name)/phone", &validation) }
        }
        for (index, consent) in (input.consents ?? []).enumerated() {
            validation.text(consent.type, "/consents/\(index)/type", maxLength: 60)
            validation.require(
                consent.grantedOn <= CalendarDate.today(), "/consents/\(index)/grantedOn", "must not be in the future")
            if let expires = consent.expiresOn {
                validation.require(
                    expires >= consent.grantedOn, "/consents/\(index)/expiresOn", "must not be before grantedOn")
            }
            if let withdrawn = consent.withdrawnOn {
                validation.require(
                    withdrawn >= consent.grantedOn, "/consents/\(index)/withdrawnOn", "must not be before grantedOn")
            }
        }
    }

    static func validatePhone(_ phone: String, _ pointer: String, _ validation: inout Validation) {
        let digits = phone.filter(\.isNumber)
        validation.require(
            digits.count >= 7 && digits.count <= 15 && phone.allSatisfy { $0.isNumber || " +-()".contains($0) },
            pointer, "must be a phone number of 7 to 15 digits")
    }

    static func validateContact(_ input: PatientInput, _ validation: inout Validation) {
        validateRegistration(input, &validation)
        for (index, identifier) in (input.identifiers ?? []).enumerated() {
            validation.require(
                !identifier.value.isEmpty && identifier.value.count <= 64, "/identifiers/\(index)/value",
                "must be 1 to 64 characters")
        }
        if let phone = input.phone { validatePhone(phone, "/phone", &validation) }
        if let email = input.email {
            let parts = email.split(separator: "@")
            validation.require(
                parts.count == 2 && parts[1].contains(".") && email.count <= 254 && !email.contains(" "), "/email",
                "must be an email address")
        }
    }
}

extension PatientService {
    /// Re-encrypts the patient service's sealed fields with the newest key (`rcm keys rotate`).
    public static func reencrypt(_ database: any Database, fields: FieldEncryption) throws -> Int {
        try PatientStore.reencrypt(database, fields: fields)
    }
}

extension PatientService {
    /// GDPR access and portability: everything the platform holds about one patient, as JSON —
    /// the record, coverages, invoices with their payments, claims, the timeline and the audit
    /// entries about them — gathered from each owning service with the caller's token.
    func export(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameter("id")
        guard
            let patient = try environment.database.read({
                try PatientStore.find(id, organization: context.organizationId, fields: environment.fields, in: $0)
            }), context.mayAccess(location: patient.locationId)
        else { throw Problem.notFound("Patient \(id) does not exist.") }
        func part(_ service: String, _ target: String) throws -> [UInt8] {
            try environment.services.client(for: service).getJSON(target, context: context) ?? Array("null".utf8)
        }
        let invoices = try part("billing", "/api/billing/invoices?patientId=\(id)&limit=200")
        struct Page: Decodable {
            struct Item: Decodable { let id: String }
            let items: [Item]
        }
        let invoiceIds = (try? JSON.decode(Page.self, from: invoices).items.map(\.id)) ?? []
        var payments: [UInt8] = Array("[".utf8)
        for (index, invoiceId) in invoiceIds.enumerated() {
            if index > 0 { payments.append(44) }
            payments += try part("payment", "/api/payments?invoiceId=\(invoiceId)")
        }
        payments.append(93)
        var body = Array(#"{"exportedAt":""#.utf8) + Array(Timestamp.now().utf8) + Array(#"","patient":"#.utf8)
        body += try JSON.encode(patient)
        for (name, bytes) in [
            ("coverages", try part("insurance", "/api/insurance/patients/\(id)/coverages")),
            ("invoices", invoices), ("payments", payments),
            ("claims", try part("claim", "/api/claims?patientId=\(id)&limit=200")),
            ("timeline", try part("reporting", "/api/reporting/timeline?patientId=\(id)")),
            ("audit", try part("audit", "/api/audit/events?resourceId=\(id)&limit=1000")),
        ] {
            body += Array(",\"\(name)\":".utf8) + bytes
        }
        body.append(125)
        var response = HTTPResponse(
            status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: body)
        response.headers.add("Content-Disposition", "attachment; filename=\"patient-\(id).json\"")
        return response
    }

    /// GDPR erasure: the person's identifying data is replaced (names) or removed (contact
    /// details, address); the record, its id, number, date of birth and location stay, because the
    /// financial records that law requires keep pointing at it. Announced as `patient.erased`.
    func erase(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let id = context.parameter("id")
        let patient = try environment.database.write { connection -> Patient in
            guard
                var patient = try PatientStore.find(
                    id, organization: context.organizationId, fields: environment.fields, in: connection),
                context.mayAccess(location: patient.locationId)
            else { throw Problem.notFound("Patient \(id) does not exist.") }
            let expected = patient.version
            patient.givenName = "Erased"
            patient.familyName = "Patient " + patient.mrn
            patient.phone = nil
            patient.email = nil
            patient.address = nil
            patient.identifiers = nil
            patient.version += 1
            patient.updatedAt = Timestamp.now()
            guard
                try PatientStore.update(patient, expectedVersion: expected, fields: environment.fields, in: connection)
            else { throw Problem.conflict("The patient was changed concurrently; try again.") }
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "patient.erased", organizationId: patient.organizationId, locationId: patient.locationId,
                    correlationId: context.requestId, source: PatientService.name, body: ["patientId": patient.id]),
                in: connection)
            return patient
        }
        return try .json(patient)
    }
}

extension PatientService {
    struct MergeInput: Decodable {
        /// The record that survives; this one (`{id}`) points at it from now on.
        var into: String?
        var reason: String?
    }

    /// Merges a duplicate record into the one that stays. Nothing is deleted or rewritten: the
    /// merged record keeps its id, number and history, answers reads with a redirect to the
    /// survivor, leaves search results, and `patient.merged` tells the other services, which
    /// show both records' history under the survivor.
    func merge(_ request: HTTPRequest, _ context: RequestContext) throws -> HTTPResponse {
        defer { environment.outbox.notify() }
        let id = context.parameter("id")
        let input = try request.decode(MergeInput.self)
        var validation = Validation()
        validation.text(input.into, "/into", maxLength: 64)
        validation.text(input.reason, "/reason", maxLength: 500, required: false)
        validation.require(input.into != id, "/into", "must be another patient")
        try validation.check()
        let survivorId = input.into ?? ""
        return try Idempotency.run(request, context: context, database: environment.database) { connection in
            let fields = environment.fields
            guard
                var merged = try PatientStore.find(
                    id, organization: context.organizationId, fields: fields, in: connection),
                context.mayAccess(location: merged.locationId)
            else { throw Problem.notFound("Patient \(id) does not exist.") }
            guard
                let survivor = try PatientStore.find(
                    survivorId, organization: context.organizationId, fields: fields, in: connection),
                context.mayAccess(location: survivor.locationId)
            else { throw Problem.invalid(pointer: "/into", "no patient \(survivorId) in this organization") }
            if let earlier = merged.mergedInto {
                throw Problem.conflict("Patient \(id) was already merged into \(earlier).", type: "merged")
            }
            if let other = survivor.mergedInto {
                throw Problem.invalid(pointer: "/into", "patient \(survivorId) was itself merged into \(other)")
            }
            let expected = merged.version
            merged.mergedInto = survivor.id
            merged.version += 1
            merged.updatedAt = Timestamp.now()
            guard try PatientStore.update(merged, expectedVersion: expected, fields: fields, in: connection) else {
                throw Problem.conflict("The patient was changed concurrently; try again.")
            }
            // Records merged into `merged` earlier now point at the survivor too (no chains).
            try connection.execute(
                """
                UPDATE patients SET merged_into = \(survivor.id) WHERE organization_id = \(context.organizationId)
                    AND merged_into = \(merged.id)
                """)
            try connection.execute(
                """
                INSERT INTO patient_merges (merged_id, organization_id, survivor_id, merged_by, merged_at, reason)
                VALUES (\(merged.id), \(context.organizationId), \(survivor.id), \(context.principal?.userId ?? "system"),
                    \(merged.updatedAt), \(input.reason))
                """)
            try environment.outbox.publish(
                try EventEnvelope.make(
                    type: "patient.merged", organizationId: merged.organizationId, locationId: survivor.locationId,
                    correlationId: context.requestId, source: PatientService.name,
                    body: ["patientId": merged.id, "mergedInto": survivor.id]),
                in: connection)
            return try .json(survivor)
        }
    }
}
