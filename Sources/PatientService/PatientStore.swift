import Foundation
import RCMCore
import RCMSecurity
import RCMStorage

/// Reads and writes patients in the patient service's own database.
struct PatientStore {
    static let migrations = [
        Migration(
            1, "patients",
            [
                """
                CREATE TABLE patients (
                    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, location_id TEXT NOT NULL, mrn TEXT NOT NULL,
                    given_name TEXT NOT NULL, family_name TEXT NOT NULL, search_name TEXT NOT NULL,
                    date_of_birth TEXT NOT NULL, sex TEXT NOT NULL, phone TEXT, phone_index TEXT, email TEXT, address TEXT,
                    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL,
                    UNIQUE (organization_id, mrn))
                """,
                "CREATE INDEX patients_search ON patients (organization_id, search_name)",
                "CREATE INDEX patients_birth ON patients (organization_id, date_of_birth)",
                "CREATE INDEX patients_phone ON patients (organization_id, phone_index)",
                "ALTER TABLE patients ADD COLUMN identifiers TEXT",
                """
                CREATE TABLE patient_identifiers (
                    patient_id TEXT NOT NULL, organization_id TEXT NOT NULL, value_index TEXT NOT NULL,
                    PRIMARY KEY (patient_id, value_index))
                """,
                "CREATE INDEX patient_identifiers_index ON patient_identifiers (organization_id, value_index)",
                "CREATE TABLE counters (name TEXT PRIMARY KEY, next_value BIGINT NOT NULL)",
            ]),
        Migration(
            2, "registration: name parts, guarantor, emergency contact, consents, duplicates and merges",
            [
                "ALTER TABLE patients ADD COLUMN middle_name TEXT",
                "ALTER TABLE patients ADD COLUMN name_prefix TEXT",
                "ALTER TABLE patients ADD COLUMN name_suffix TEXT",
                "ALTER TABLE patients ADD COLUMN gender_identity TEXT",
                "ALTER TABLE patients ADD COLUMN preferred_language TEXT",
                "ALTER TABLE patients ADD COLUMN contacts TEXT",
                "ALTER TABLE patients ADD COLUMN consents TEXT",
                "ALTER TABLE patients ADD COLUMN merged_into TEXT",
                "ALTER TABLE patients ADD COLUMN duplicate_key TEXT",
                "CREATE INDEX patients_duplicate ON patients (organization_id, duplicate_key)",
                """
                CREATE TABLE patient_merges (
                    merged_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, survivor_id TEXT NOT NULL,
                    merged_by TEXT NOT NULL, merged_at TEXT NOT NULL, reason TEXT)
                """,
            ]),
        SchedulingStore.migration,
    ]

    /// Patient ids are `P` and a number from one sequence (so the first patient is `P10001`);
    /// record numbers count per organization.
    static func nextValue(_ name: String, start: Int64, in connection: any SQLConnection) throws -> Int64 {
        // One statement: the first call inserts `start + 1` and answers `start`.
        let row = try connection.queryFirst(
            """
            INSERT INTO counters (name, next_value) VALUES (\(name), \(start + 1))
            ON CONFLICT (name) DO UPDATE SET next_value = counters.next_value + 1
            RETURNING next_value - 1 AS value
            """)
        return try row?.int64("value") ?? start
    }

    /// Phone, email and address are stored encrypted (AES-256-GCM); the phone also as a blind index.
    struct Sealed {
        let phone: String?
        let phoneIndex: String?
        let email: String?
        let address: String?
        let identifiers: String?
        /// Guarantor and emergency contact, as one sealed JSON object.
        let contacts: String?
        /// Blind indexes of the identifiers (`system|value`), for exact-match search.
        let identifierIndexes: [String]

        init(_ patient: Patient, _ fields: FieldEncryption) throws {
            phone = try patient.phone.map { try fields.encrypt($0, field: "patients.phone") }
            phoneIndex = patient.phone.map { fields.blindIndex($0, field: "patients.phone", digitsOnly: true) }
            email = try patient.email.map { try fields.encrypt($0, field: "patients.email") }
            address = try patient.address.map {
                try fields.encrypt(try JSON.encodeString($0), field: "patients.address")
            }
            identifiers = try patient.identifiers.map {
                try fields.encrypt(try JSON.encodeString($0), field: "patients.identifiers")
            }
            let people = Contacts(guarantor: patient.guarantor, emergencyContact: patient.emergencyContact)
            contacts =
                people.guarantor == nil && people.emergencyContact == nil
                ? nil : try fields.encrypt(try JSON.encodeString(people), field: "patients.contacts")
            identifierIndexes = (patient.identifiers ?? []).map {
                PatientStore.identifierIndex(system: $0.system.rawValue, value: $0.value, fields: fields)
            }
        }
    }

    struct Contacts: Codable {
        var guarantor: Patient.Contact?
        var emergencyContact: Patient.Contact?
    }

    /// Folded family name, given name and date of birth: equal keys are likely the same person.
    static func duplicateKey(givenName: String, familyName: String, dateOfBirth: CalendarDate) -> String {
        let letters: (String) -> String = { fold($0).filter { $0.isLetter } }
        return letters(familyName) + "|" + letters(givenName) + "|" + dateOfBirth.description
    }

    static func duplicateKey(_ patient: Patient) -> String {
        duplicateKey(givenName: patient.givenName, familyName: patient.familyName, dateOfBirth: patient.dateOfBirth)
    }

    static func identifierIndex(system: String, value: String, fields: FieldEncryption) -> String {
        fields.blindIndex(system + "|" + value.filter { $0.isLetter || $0.isNumber }, field: "patients.identifiers")
    }

    /// Replaces the search rows of a patient's identifiers.
    static func indexIdentifiers(_ patient: Patient, _ sealed: Sealed, in connection: any SQLConnection) throws {
        try connection.execute("DELETE FROM patient_identifiers WHERE patient_id = \(patient.id)")
        for index in Set(sealed.identifierIndexes) {
            try connection.execute(
                """
                INSERT INTO patient_identifiers (patient_id, organization_id, value_index)
                VALUES (\(patient.id), \(patient.organizationId), \(index))
                """)
        }
    }

    static func insert(_ patient: Patient, fields: FieldEncryption, in connection: any SQLConnection) throws {
        let sealed = try Sealed(patient, fields)
        try connection.execute(
            """
            INSERT INTO patients (id, organization_id, location_id, mrn, given_name, family_name, search_name,
                date_of_birth, sex, phone, phone_index, email, address, identifiers, created_at, updated_at, version,
                middle_name, name_prefix, name_suffix, gender_identity, preferred_language, contacts, consents,
                duplicate_key)
            VALUES (\(patient.id), \(patient.organizationId), \(patient.locationId), \(patient.mrn), \(patient.givenName),
                \(patient.familyName), \(searchName(patient)), \(patient.dateOfBirth), \(patient.sex.rawValue),
                \(sealed.phone), \(sealed.phoneIndex), \(sealed.email), \(sealed.address), \(sealed.identifiers),
                \(patient.createdAt),
                \(patient.updatedAt), \(patient.version), \(patient.middleName), \(patient.namePrefix),
                \(patient.nameSuffix), \(patient.genderIdentity), \(patient.preferredLanguage), \(sealed.contacts),
                \(try patient.consents.map { try JSON.encodeString($0) }), \(duplicateKey(patient)))
            """)
        try indexIdentifiers(patient, sealed, in: connection)
    }

    static func update(
        _ patient: Patient, expectedVersion: Int, fields: FieldEncryption, in connection: any SQLConnection
    ) throws -> Bool {
        let sealed = try Sealed(patient, fields)
        let updated =
            try connection.execute(
                """
                UPDATE patients SET location_id = \(patient.locationId), given_name = \(patient.givenName),
                    family_name = \(patient.familyName), search_name = \(searchName(patient)),
                    date_of_birth = \(patient.dateOfBirth), sex = \(patient.sex.rawValue), phone = \(sealed.phone),
                    phone_index = \(sealed.phoneIndex),
                    email = \(sealed.email), address = \(sealed.address), identifiers = \(sealed.identifiers),
                    updated_at = \(patient.updatedAt), version = \(patient.version), middle_name = \(patient.middleName),
                    name_prefix = \(patient.namePrefix), name_suffix = \(patient.nameSuffix),
                    gender_identity = \(patient.genderIdentity), preferred_language = \(patient.preferredLanguage),
                    contacts = \(sealed.contacts), consents = \(try patient.consents.map { try JSON.encodeString($0) }),
                    duplicate_key = \(duplicateKey(patient)), merged_into = \(patient.mergedInto)
                WHERE id = \(patient.id) AND organization_id = \(patient.organizationId) AND version = \(expectedVersion)
                """) == 1
        if updated { try indexIdentifiers(patient, sealed, in: connection) }
        return updated
    }

    static func find(
        _ id: String, organization: String, fields: FieldEncryption, in connection: any SQLConnection
    )
        throws -> Patient?
    {
        try connection.queryFirst("SELECT * FROM patients WHERE id = \(id) AND organization_id = \(organization)")
            .map { try patient(from: $0, fields: fields) }
    }

    struct Search {
        var name: String?
        var dateOfBirth: CalendarDate?
        var phone: String?
        var mrn: String?
        /// The blind index of `system|value`.
        var identifier: String?
        /// Only these patients (found by another service, e.g. by member id).
        var patientIds: [String]?
        var after: String?
        var limit: Int
    }

    static func search(
        _ search: Search, organization: String, scope: SQL, fields: FieldEncryption, in connection: any SQLConnection
    ) throws
        -> [Patient]
    {
        var sql: SQL = "SELECT * FROM patients WHERE organization_id = \(organization) AND merged_into IS NULL" + scope
        if let name = search.name {
            let prefix = escapeLike(fold(name))
            sql =
                sql
                + " AND (search_name LIKE \(prefix + "%") ESCAPE '\\' OR search_name LIKE \("%|" + prefix + "%") ESCAPE '\\')"
        }
        if let date = search.dateOfBirth { sql = sql + " AND date_of_birth = \(date)" }
        if let phone = search.phone {
            sql = sql + " AND phone_index = \(fields.blindIndex(phone, field: "patients.phone", digitsOnly: true))"
        }
        if let mrn = search.mrn { sql = sql + " AND mrn = \(mrn)" }
        if let identifier = search.identifier {
            sql =
                sql
                + " AND id IN (SELECT patient_id FROM patient_identifiers WHERE organization_id = \(organization) AND value_index = \(identifier))"
        }
        if let ids = search.patientIds { sql = sql + " AND id IN \(SQL.list(ids))" }
        if let after = search.after { sql = sql + " AND id > \(after)" }
        sql = sql + " ORDER BY id LIMIT \(search.limit)"
        return try connection.query(sql).map { try patient(from: $0, fields: fields) }
    }

    /// Family then given name, lower-cased, for prefix search on either order's first word.
    static func searchName(_ patient: Patient) -> String {
        fold(patient.familyName) + " " + fold(patient.givenName) + "|" + fold(patient.givenName) + " "
            + fold(patient.familyName)
    }

    /// Case- and accent-insensitive form of a name.
    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    static func patient(from row: Row, fields: FieldEncryption) throws -> Patient {
        let contacts = try row.optionalString("contacts").map {
            try JSON.decode(Contacts.self, from: try fields.decrypt($0, field: "patients.contacts"))
        }
        return Patient(
            id: try row.string("id"), organizationId: try row.string("organization_id"),
            locationId: try row.string("location_id"), mrn: try row.string("mrn"),
            givenName: try row.string("given_name"), familyName: try row.string("family_name"),
            dateOfBirth: try row.date("date_of_birth"), sex: Patient.Sex(rawValue: try row.string("sex")) ?? .unknown,
            phone: try row.optionalString("phone").map { try fields.decrypt($0, field: "patients.phone") },
            email: try row.optionalString("email").map { try fields.decrypt($0, field: "patients.email") },
            address: try row.optionalString("address").map {
                try JSON.decode(Patient.Address.self, from: try fields.decrypt($0, field: "patients.address"))
            },
            identifiers: try row.optionalString("identifiers").map {
                try JSON.decode(
                    [Patient.NationalIdentifier].self, from: try fields.decrypt($0, field: "patients.identifiers"))
            },
            createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"),
            version: try row.int("version"), middleName: row.optionalString("middle_name"),
            namePrefix: row.optionalString("name_prefix"), nameSuffix: row.optionalString("name_suffix"),
            genderIdentity: row.optionalString("gender_identity"),
            preferredLanguage: row.optionalString("preferred_language"),
            guarantor: contacts?.guarantor, emergencyContact: contacts?.emergencyContact,
            consents: try row.optionalString("consents").map { try JSON.decode([Patient.Consent].self, from: $0) },
            mergedInto: row.optionalString("merged_into"))
    }

    /// Records of the organization that look like the same person: the same identifier, or the
    /// same folded name and date of birth. Merged-away records are not candidates.
    static func duplicates(
        of patient: Patient, fields: FieldEncryption, in connection: any SQLConnection
    ) throws -> [Patient] {
        let indexes = (patient.identifiers ?? []).map {
            identifierIndex(system: $0.system.rawValue, value: $0.value, fields: fields)
        }
        var sql: SQL = """
            SELECT * FROM patients WHERE organization_id = \(patient.organizationId) AND merged_into IS NULL
                AND id <> \(patient.id) AND (duplicate_key = \(duplicateKey(patient))
            """
        if !indexes.isEmpty {
            sql =
                sql
                + " OR id IN (SELECT patient_id FROM patient_identifiers WHERE organization_id = \(patient.organizationId) AND value_index IN \(SQL.list(indexes)))"
        }
        sql = sql + ") ORDER BY id LIMIT 10"
        return try connection.query(sql).map { try PatientStore.patient(from: $0, fields: fields) }
    }
}

extension PatientStore {
    /// Re-encrypts every patient's sealed fields with the newest key; returns how many rows changed.
    static func reencrypt(_ database: any Database, fields: FieldEncryption) throws -> Int {
        try database.write { connection in
            var changed = 0
            for row in try connection.query("SELECT * FROM patients") {
                let sealed = [
                    row.optionalString("phone"), row.optionalString("email"), row.optionalString("address"),
                    row.optionalString("identifiers"), row.optionalString("contacts"),
                ]
                guard sealed.contains(where: { $0.map(fields.needsRotation) ?? false }) else { continue }
                let patient = try patient(from: row, fields: fields)
                let fresh = try Sealed(patient, fields)
                try connection.execute(
                    """
                    UPDATE patients SET phone = \(fresh.phone), phone_index = \(fresh.phoneIndex), email = \(fresh.email),
                        address = \(fresh.address), identifiers = \(fresh.identifiers), contacts = \(fresh.contacts)
                    WHERE id = \(patient.id)
                    """)
                changed += 1
            }
            return changed
        }
    }
}
