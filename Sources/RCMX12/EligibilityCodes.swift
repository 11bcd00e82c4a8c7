/// Code lists of the 270/271 (005010X279A1) in plain language.
public enum EligibilityCodes {
    /// EB01 eligibility or benefit information codes.
    public static let benefitMeanings: [String: String] = [
        "1": "Active coverage",
        "2": "Active coverage - full risk capitation",
        "3": "Active coverage - services capitated",
        "4": "Active coverage - services capitated to primary care physician",
        "5": "Active coverage - pending investigation",
        "6": "Inactive coverage",
        "7": "Inactive - pending eligibility update",
        "8": "Inactive - pending investigation",
        "A": "Co-insurance",
        "B": "Co-payment",
        "C": "Deductible",
        "CB": "Coverage basis",
        "D": "Benefit description",
        "E": "Exclusions",
        "F": "Limitations",
        "G": "Out of pocket (stop loss)",
        "H": "Unlimited",
        "I": "Non-covered",
        "J": "Cost containment",
        "K": "Reserve",
        "L": "Primary care provider",
        "M": "Pre-existing condition",
        "MC": "Managed care coordinator",
        "N": "Services restricted to the following provider",
        "O": "Not deemed a medical necessity",
        "P": "Benefit disclaimer",
        "Q": "Second surgical opinion required",
        "R": "Other or additional payer",
        "S": "Prior year(s) history",
        "T": "Card(s) reported lost or stolen",
        "U": "Contact the following entity for eligibility or benefit information",
        "V": "Cannot process",
        "W": "Other source of data",
        "X": "Health care facility",
        "Y": "Spend down",
    ]

    /// EB01 codes meaning the coverage is active, and inactive.
    public static let activeCodes: Set<String> = ["1", "2", "3", "4", "5"]
    public static let inactiveCodes: Set<String> = ["6", "7", "8"]

    /// AAA03 reject reason codes of the 271, explained for the front desk.
    public static let rejectionExplanations: [String: String] = [
        "04": "The number of inquiries allowed has been exceeded; ask the payer before sending more.",
        "15": "Required information is missing from the inquiry; check the patient and provider details and resend.",
        "33": "The payer found errors in the inquiry's data; check every field and resend.",
        "35": "The provider is out of network for this patient's plan.",
        "41": "The payer does not allow this provider (or submitter) to see this information.",
        "42": "The payer's system is unavailable; retry later.",
        "43": "The provider identifier (NPI) is missing or not recognised by the payer; check the NPI.",
        "44": "The provider name is missing or does not match the payer's records.",
        "45": "The provider specialty is missing or not accepted by the payer.",
        "46": "The provider phone number is missing or invalid.",
        "47": "The provider state is missing or invalid.",
        "48": "The referring provider identifier is missing or invalid.",
        "49": "The provider is not the patient's primary care physician on file with the payer.",
        "50": "This provider is not allowed to send eligibility inquiries to the payer (enrolment needed).",
        "51": "The payer has no record of this provider; check the provider's enrolment with the payer.",
        "52": "The date of service is outside the provider's enrolment period with this plan.",
        "53": "The benefit asked about does not fit this provider type.",
        "54": "The service code qualifier is not accepted; ask with a different service type.",
        "55": "The service or procedure code is not accepted by the payer.",
        "56": "A date in the inquiry is not acceptable to the payer.",
        "57": "The date of service is missing or invalid; check it and resend.",
        "58": "The date of birth is missing or invalid; check it against the insurance card.",
        "60": "The date of birth is after the date of service; check both dates.",
        "61": "The payer's records show a date of death before the date of service.",
        "62": "The date of service is outside the period the payer allows inquiries for.",
        "63": "The date of service is in the future; the payer only answers for today or earlier.",
        "64": "The patient's identifier is missing or invalid; check the member ID on the card.",
        "65": "The patient's name is missing or invalid; check the spelling against the card.",
        "66": "The patient's gender is missing or invalid.",
        "67": "The payer cannot find this patient; check the name, date of birth and member ID.",
        "68": "The patient's identifier matches more than one person at the payer; add the date of birth or full name.",
        "69": "The service asked about does not fit the patient's age.",
        "70": "The service asked about does not fit the patient's gender.",
        "71": "The date of birth does not match the payer's records for this patient; check it with the patient.",
        "72": "The member ID is missing or invalid; check it against the insurance card.",
        "73": "The subscriber's name is missing or invalid; check the spelling against the insurance card.",
        "74": "The subscriber's gender is missing or invalid.",
        "75": "The payer cannot find the subscriber; check the member ID, name and date of birth.",
        "76": "The subscriber's ID matches more than one person at the payer; add the date of birth or full name.",
        "77": "The subscriber was found but the patient (dependent) was not; check the dependent's details.",
        "78": "The subscriber is not in the group or plan given; check the group number.",
        "79": "The participant identifier is invalid; check the payer and submitter identifiers.",
        "80": "The payer did not answer in time; the inquiry was dropped. Retry later.",
        "97": "The provider address is missing or invalid.",
        "98": "The service asked about is considered experimental by the payer.",
        "AA": "The payer cannot find the authorization number given.",
        "AE": "The patient's primary care physician must authorize this service first.",
        "AF": "The diagnosis code(s) are missing or invalid.",
        "AG": "The procedure code(s) are missing or invalid.",
        "AO": "The payer needs more information about the patient's condition.",
        "CI": "The certification information does not match the patient.",
        "E8": "The request needs medical review by the payer.",
        "IA": "The authorization number is not in a valid format.",
        "MA": "An authorization number is required but missing.",
        "T4": "The payer name or identifier is missing; check the payer selected for the patient.",
    ]

    /// AAA04 follow-up action codes.
    public static let followUpExplanations: [String: String] = [
        "C": "Correct the inquiry and send it again.",
        "N": "Do not send this inquiry again; it will not be accepted.",
        "P": "Send the original inquiry again.",
        "R": "The inquiry may be sent again.",
        "S": "Do not send again; the payer has asked a third party.",
        "W": "Wait 30 days, then send again.",
        "X": "Wait 10 days, then send again.",
        "Y": "Do not send again; the payer will send its answer by other means.",
    ]

    /// A plain-language meaning of an EB01 code (the code itself when unknown).
    public static func benefitMeaning(_ code: String) -> String {
        benefitMeanings[code] ?? "Benefit information code \(code)"
    }

    /// A plain-language explanation of an AAA03 code.
    public static func rejectionExplanation(_ code: String) -> String {
        rejectionExplanations[code] ?? "The payer rejected the inquiry (reason code \(code)); contact the payer."
    }

    /// A plain-language explanation of an AAA04 code.
    public static func followUpExplanation(_ code: String) -> String {
        followUpExplanations[code] ?? "Follow-up action code \(code)."
    }
}
