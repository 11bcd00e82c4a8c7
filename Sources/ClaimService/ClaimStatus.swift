/// A claim's lifecycle. Transitions are a pure function, tested as values.
///
///     draft → submitted → accepted → paid | partially_paid | denied
///                       ↘ rejected → submitted (corrected and resubmitted)
///     partially_paid → paid (the rest arrives)
public enum ClaimStatus: String, Codable, Sendable, CaseIterable {
    case draft
    case submitted
    case accepted
    case rejected
    case paid
    case partiallyPaid = "partially_paid"
    case denied

    public var allowedNext: Set<ClaimStatus> {
        switch self {
        case .draft: return [.submitted]
        case .submitted: return [.accepted, .rejected]
        case .accepted: return [.paid, .partiallyPaid, .denied]
        case .rejected: return [.submitted]
        case .partiallyPaid: return [.paid]
        case .paid, .denied: return []
        }
    }

    public func canMove(to next: ClaimStatus) -> Bool { allowedNext.contains(next) }

    /// Statuses that report a payer's payment and so need the amount paid.
    public var carriesPayment: Bool { self == .paid || self == .partiallyPaid }
}
