import Testing

@testable import ClaimService

@Suite("Claim lifecycle")
struct ClaimStatusTests {
    @Test("the allowed transitions, as a table")
    func transitions() {
        let expected: [ClaimStatus: Set<ClaimStatus>] = [
            .held: [.draft], .draft: [.submitted], .submitted: [.accepted, .rejected],
            .accepted: [.paid, .partiallyPaid, .denied],
            .rejected: [.submitted], .partiallyPaid: [.paid], .paid: [], .denied: [],
        ]
        for from in ClaimStatus.allCases {
            for to in ClaimStatus.allCases {
                #expect(from.canMove(to: to) == (expected[from]?.contains(to) == true), "\(from) → \(to)")
            }
        }
    }

    @Test("only payment statuses carry an amount")
    func payments() {
        #expect(ClaimStatus.allCases.filter(\.carriesPayment) == [.paid, .partiallyPaid])
    }
}
