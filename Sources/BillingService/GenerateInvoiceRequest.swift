import RCMCore

/// The body of `POST /api/billing/generate`: the specification's example is
/// `{"patientId": "P10001", "services": [{"code": "OPD001", "description": "Doctor Consultation", "cost": 400}]}`.
struct GenerateInvoiceRequest: Decodable {
    var patientId: String?
    var services: [Service]?
    /// Defaults to the patient's registered location.
    var locationId: String?
    /// Defaults to today.
    var dateOfService: CalendarDate?

    struct Service: Decodable {
        var code: String?
        /// Defaults to the charge master's description.
        var description: String?
        /// Unit price; defaults to the charge master's price.
        var cost: Money?
        var quantity: Int?
    }
}
