import Foundation
import RCMCore
import RCMSecurity
import RCMStorage

/// Encounter versions and their charges. A version is never changed once signed; charges are
/// only ever added.
enum EncounterStore {
    static func insert(_ encounter: Encounter, fields: FieldEncryption, in connection: any SQLConnection) throws {
        try connection.execute(
            """
            INSERT INTO encounters (id, version, organization_id, location_id, patient_id, appointment_id, status,
                rendering_npi, referring_npi, place_of_service, date_of_service, diagnoses, services, notes, created_at,
                signed_at, signed_by, amendment_reason)
            VALUES (\(encounter.id), \(encounter.version), \(encounter.organizationId), \(encounter.locationId),
                \(encounter.patientId), \(encounter.appointmentId), \(encounter.status.rawValue),
                \(encounter.renderingProviderNPI), \(encounter.referringProviderNPI), \(encounter.placeOfService),
                \(encounter.dateOfService), \(try JSON.encodeString(encounter.diagnoses)),
                \(try JSON.encodeString(encounter.services)),
                \(try encounter.notes.map { try fields.encrypt($0, field: "encounters.notes") }), \(encounter.createdAt),
                \(encounter.signedAt), \(encounter.signedBy), \(encounter.amendmentReason))
            """)
    }

    /// Replaces a draft's content; false when it is no longer a draft of that version.
    static func replaceDraft(
        _ encounter: Encounter, fields: FieldEncryption, in connection: any SQLConnection
    ) throws
        -> Bool
    {
        try connection.execute(
            """
            UPDATE encounters SET location_id = \(encounter.locationId), appointment_id = \(encounter.appointmentId),
                rendering_npi = \(encounter.renderingProviderNPI), referring_npi = \(encounter.referringProviderNPI),
                place_of_service = \(encounter.placeOfService), date_of_service = \(encounter.dateOfService),
                diagnoses = \(try JSON.encodeString(encounter.diagnoses)),
                services = \(try JSON.encodeString(encounter.services)),
                notes = \(try encounter.notes.map { try fields.encrypt($0, field: "encounters.notes") })
            WHERE id = \(encounter.id) AND version = \(encounter.version) AND status = 'draft'
            """) == 1
    }

    static func markSigned(_ encounter: Encounter, in connection: any SQLConnection) throws -> Bool {
        try connection.execute(
            """
            UPDATE encounters SET status = 'signed', signed_at = \(encounter.signedAt), signed_by = \(encounter.signedBy)
            WHERE id = \(encounter.id) AND version = \(encounter.version) AND status = 'draft'
            """) == 1
    }

    /// The given version, or the latest.
    static func find(
        _ id: String, version: Int?, organization: String, fields: FieldEncryption, in connection: any SQLConnection
    ) throws -> Encounter? {
        var sql: SQL = "SELECT * FROM encounters WHERE id = \(id) AND organization_id = \(organization)"
        if let version { sql = sql + " AND version = \(version)" }
        sql = sql + " ORDER BY version DESC LIMIT 1"
        return try connection.queryFirst(sql).map { try encounter(from: $0, fields: fields) }
    }

    static func latest(
        patientId: String, organization: String, scope: SQL, limit: Int, fields: FieldEncryption,
        in connection: any SQLConnection
    ) throws -> [Encounter] {
        let sql: SQL =
            """
            SELECT e.* FROM encounters e
            WHERE e.organization_id = \(organization) AND e.patient_id = \(patientId)
                AND e.version = (SELECT MAX(version) FROM encounters v WHERE v.id = e.id)
            """ + scope + " ORDER BY e.date_of_service DESC, e.id LIMIT \(limit)"
        return try connection.query(sql).map { try encounter(from: $0, fields: fields) }
    }

    static func encounter(from row: Row, fields: FieldEncryption) throws -> Encounter {
        Encounter(
            id: try row.string("id"), version: try row.int("version"),
            organizationId: try row.string("organization_id"),
            locationId: try row.string("location_id"), patientId: try row.string("patient_id"),
            appointmentId: row.optionalString("appointment_id"),
            status: Encounter.Status(rawValue: try row.string("status")) ?? .draft,
            renderingProviderNPI: try row.string("rendering_npi"),
            referringProviderNPI: row.optionalString("referring_npi"),
            placeOfService: try row.string("place_of_service"), dateOfService: try row.date("date_of_service"),
            diagnoses: try JSON.decode([String].self, from: try row.string("diagnoses")),
            services: try JSON.decode([Encounter.Service].self, from: try row.string("services")),
            notes: try row.optionalString("notes").map { try fields.decrypt($0, field: "encounters.notes") },
            createdAt: try row.string("created_at"), signedAt: row.optionalString("signed_at"),
            signedBy: row.optionalString("signed_by"), amendmentReason: row.optionalString("amendment_reason"))
    }

    static func charges(_ encounterId: String, in connection: any SQLConnection) throws -> [Charge] {
        try connection.query(
            "SELECT * FROM charges WHERE encounter_id = \(encounterId) ORDER BY created_at, line_number, id"
        )
        .map { row in
            Charge(
                id: try row.string("id"), encounterId: try row.string("encounter_id"),
                encounterVersion: try row.int("encounter_version"), lineNumber: try row.int("line_number"),
                code: try row.string("code"),
                modifiers: try JSON.decode([String].self, from: try row.string("modifiers")),
                units: try row.int("units"), unitPrice: try row.money("unit_price"), amount: try row.money("amount"),
                reverses: row.optionalString("reverses"), createdAt: try row.string("created_at"))
        }
    }

    /// The charges of a signature (every line) or an amendment (the difference with `previous`):
    /// a line whose code, modifiers or units changed, or that went, is reversed; a new or changed
    /// line is charged at the fee schedule's standard price on the date of service.
    static func addCharges(
        for encounter: Encounter, previous: Encounter?, organization: String, in connection: any SQLConnection
    ) throws -> [Charge] {
        struct Key: Hashable {
            let code: String
            let modifiers: [String]
            let units: Int
        }
        let now = Timestamp.now()
        var added: [Charge] = []
        // Live charges: charges not reversed, by their line's key.
        var live: [Key: [Charge]] = [:]
        if previous != nil {
            let all = try charges(encounter.id, in: connection)
            let reversed = Set(all.compactMap(\.reverses))
            for charge in all where charge.reverses == nil && !reversed.contains(charge.id) {
                live[Key(code: charge.code, modifiers: charge.modifiers, units: charge.units), default: []].append(
                    charge)
            }
        }
        var kept: [Key: Int] = [:]
        for (index, service) in encounter.services.enumerated() {
            let key = Key(code: service.code, modifiers: service.modifiers, units: service.units)
            if var existing = live[key], !existing.isEmpty {
                existing.removeFirst()
                live[key] = existing
                kept[key, default: 0] += 1
                continue
            }
            guard
                let price = try FeeSchedule.price(
                    code: service.code, modifiers: service.modifiers, payerId: nil, location: encounter.locationId,
                    date: encounter.dateOfService, organization: organization, in: connection)
            else { throw Problem.invalid(pointer: "/services/\(index)/code", "\(service.code) has no price") }
            added.append(
                Charge(
                    id: Identifier.make("chg"), encounterId: encounter.id, encounterVersion: encounter.version,
                    lineNumber: index + 1, code: service.code, modifiers: service.modifiers, units: service.units,
                    unitPrice: price.charge, amount: price.charge * Int64(service.units), reverses: nil, createdAt: now)
            )
        }
        for charge in live.values.flatMap({ $0 }) {
            added.append(
                Charge(
                    id: Identifier.make("chg"), encounterId: encounter.id, encounterVersion: encounter.version,
                    lineNumber: charge.lineNumber, code: charge.code, modifiers: charge.modifiers, units: charge.units,
                    unitPrice: charge.unitPrice, amount: Money.zero - charge.amount, reverses: charge.id, createdAt: now
                ))
        }
        for charge in added {
            try connection.execute(
                """
                INSERT INTO charges (id, organization_id, encounter_id, encounter_version, line_number, code, modifiers,
                    units, unit_price, amount, reverses, created_at)
                VALUES (\(charge.id), \(organization), \(charge.encounterId), \(charge.encounterVersion),
                    \(charge.lineNumber), \(charge.code), \(try JSON.encodeString(charge.modifiers)), \(charge.units),
                    \(charge.unitPrice), \(charge.amount), \(charge.reverses), \(charge.createdAt))
                """)
        }
        return added
    }
}
