import Foundation
import RCMCore
import Testing

@testable import BillingService

@Suite("Payer and patient split")
struct CostShareTests {
    func money(_ text: String) -> Money { Money(exactly: Decimal(string: text)!)! }

    @Test("uninsured: the patient owes every line")
    func uninsured() {
        let splits = CostShare.split([money("400"), money("250")], under: nil)
        #expect(splits.map(\.patient) == [money("400"), money("250")])
        #expect(splits.map(\.payer) == [.zero, .zero])
    }

    @Test("copay once, then remaining deductible, then coinsurance")
    func order() {
        let share = CostShare(copay: money("100"), deductibleRemaining: money("200"), coinsurancePercent: 10)
        let splits = CostShare.split([money("400"), money("250")], under: share)
        // Line 1: 100 copay + 200 deductible + 10% of 100 = 310 patient, 90 payer.
        // Line 2: no copay or deductible left; 10% of 250 = 25 patient.
        #expect(splits[0] == .init(payer: money("90"), patient: money("310")))
        #expect(splits[1] == .init(payer: money("225"), patient: money("25")))
    }

    @Test("each line rounds half to even; totals are the sums of the lines")
    func lineRounding() {
        let share = CostShare(copay: .zero, deductibleRemaining: .zero, coinsurancePercent: 10)
        // 0.25 → 0.025 → 0.02; 0.35 → 0.035 → 0.04; 0.45 → 0.045 → 0.04; 33.33 → 3.333 → 3.33
        let amounts = [money("0.25"), money("0.35"), money("0.45"), money("33.33")]
        let splits = CostShare.split(amounts, under: share)
        #expect(splits.map(\.patient) == [money("0.02"), money("0.04"), money("0.04"), money("3.33")])
        for (amount, split) in zip(amounts, splits) { #expect(split.payer + split.patient == amount) }
        #expect(splits.map(\.patient).sum() + splits.map(\.payer).sum() == amounts.sum())
    }

    @Test("a copay larger than the visit is capped at the visit")
    func copayCapped() {
        let share = CostShare(copay: money("500"), deductibleRemaining: .zero, coinsurancePercent: 0)
        let splits = CostShare.split([money("120"), money("80")], under: share)
        #expect(splits.map(\.patient) == [money("120"), money("80")])
        #expect(splits.map(\.payer).sum() == .zero)
    }

    @Test("ledger entries decide balance and status")
    func derive() {
        let total = money("650")
        func entry(_ kind: String, _ amount: String) -> Invoice.Entry {
            .init(kind: kind, amount: money(amount), reference: nil, occurredAt: "")
        }
        #expect(Invoice.derive(total: total, entries: [entry("charge", "650")]).status == .issued)
        let partial = Invoice.derive(total: total, entries: [entry("charge", "650"), entry("payment", "155")])
        #expect(partial.status == .partiallyPaid && partial.balance == money("495"))
        let paid = Invoice.derive(
            total: total, entries: [entry("charge", "650"), entry("payment", "155"), entry("payment", "495")])
        #expect(paid.status == .paid && paid.balance == .zero)
        let refunded = Invoice.derive(
            total: total,
            entries: [entry("charge", "650"), entry("payment", "155"), entry("payment", "495"), entry("refund", "55")])
        #expect(refunded.status == .partiallyPaid && refunded.balance == money("55"))
        #expect(Invoice.derive(total: total, entries: [entry("charge", "650"), entry("void", "650")]).status == .void)
    }
}
