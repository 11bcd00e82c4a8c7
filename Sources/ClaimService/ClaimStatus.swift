/// A claim's lifecycle. Transitions are a pure function, tested as values.
///
///     held → draft (the scrubber's findings resolved or overridden, with a reason)
///     draft → submitted → accepted → paid | partially_paid | denied
///                       ↘ rejected → submitted (corrected and resubmitted)
///     partially_paid → paid (the rest arrives)
public enum ClaimStatus: String, Codable, Sendable, CaseIterable {
    /// Waiting in the work queue: the claim scrubber found errors that would make the payer reject it.
    case held
    case draft
    case submitted
    case accepted
    case rejected
    case paid
    case partiallyPaid = "partially_paid"
    case denied

    public var allowedNext: Set<ClaimStatus> {
        switch self {
        case .held: return [.draft]
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
