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
    /// Bill a signed encounter instead of listing services.
    var encounterId: String?

    struct Service: Decodable {
        var code: String?
        /// Defaults to the charge master's description.
        var description: String?
        /// Unit price; defaults to the charge master's price.
        var cost: Money?
        var quantity: Int?
    }
}

/// A line priced and ready to be split.
struct PricedLine: Equatable {
    var code: String
    var description: String
    var quantity: Int
    var unitPrice: Money
}
