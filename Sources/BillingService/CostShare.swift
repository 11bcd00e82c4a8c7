import Foundation
import RCMCore

/// What a coverage makes the patient pay, and how an invoice's lines are split between payer and
/// patient: first the copay (once per invoice), then what remains of the deductible, then the
/// coinsurance percentage of the rest, each line rounded half-to-even to a minor unit. Totals are
/// the sums of the lines, so they always add up.
public struct CostShare: Sendable, Equatable {
    public var copay: Money
    public var deductibleRemaining: Money
    public var coinsurancePercent: Decimal

    public init(copay: Money, deductibleRemaining: Money, coinsurancePercent: Decimal) {
        self.copay = copay
        self.deductibleRemaining = deductibleRemaining
        self.coinsurancePercent = coinsurancePercent
    }

    public struct LineSplit: Sendable, Equatable {
        public var payer: Money
        public var patient: Money
    }

    /// Splits line amounts; with no coverage the patient owes everything.
    public static func split(_ amounts: [Money], under share: CostShare?) -> [LineSplit] {
        guard let share else { return amounts.map { LineSplit(payer: .zero, patient: $0) } }
        var copayLeft = share.copay
        var deductibleLeft = share.deductibleRemaining
        return amounts.map { amount in
            var remaining = amount
            let copay = Money.min(copayLeft, remaining)
            copayLeft -= copay
            remaining -= copay
            let deductible = Money.min(deductibleLeft, remaining)
            deductibleLeft -= deductible
            remaining -= deductible
            let coinsurance = remaining.percentage(share.coinsurancePercent)
            let patient = copay + deductible + coinsurance
            return LineSplit(payer: amount - patient, patient: patient)
        }
    }
}
