import Foundation
import RCMCore
import Testing

@testable import BillingService

@Suite("Estimate arithmetic")
struct EstimateCalculatorTests {
    func money(_ text: String) -> Money { Money(exactly: Decimal(string: text)!)! }

    func coverage(copay: String, deductible: String, met: String, coinsurance: Decimal) throws -> CoverageSummary {
        try JSON.decode(
            CoverageSummary.self,
            from: """
                {"id": "cov_1", "payerId": "pyr_1", "payerName": "Payer", "planName": "Plan", "memberId": "M",
                 "copay": \(copay), "coinsurancePercent": \(coinsurance), "deductible": \(deductible), "deductibleMet": \(met)}
                """)
    }

    func estimate(_ coverage: CoverageSummary?, prices: [LinePrice], units: [Int], cap: Money? = nil) -> Estimate {
        EstimateCalculator.make(
            id: "est_1", organization: "org",
            patient: PatientSummary(
                id: "P1", locationId: "loc", givenName: "A", familyName: "B", dateOfBirth: nil, sex: nil),
            location: "loc", date: CalendarDate("2026-12-01")!, basis: "services", currency: "INR",
            services: zip(prices, units).map { ($0.description, $1) }, prices: prices, taxes: [:], coverage: coverage,
            outOfPocketRemaining: cap, diagnoses: [], providerNPI: nil)
    }

    @Test("copay, then deductible, then coinsurance on the allowed amount, with each step explained")
    func split() throws {
        let share = try coverage(copay: "50", deductible: "1000", met: "800", coinsurance: 20)
        let result = estimate(
            share,
            prices: [
                LinePrice(charge: money("500"), allowed: money("400"), description: "A", basis: "fee schedule"),
                LinePrice(charge: money("300"), allowed: nil, description: "B", basis: "fee schedule"),
            ], units: [1, 1])
        // Line 1 on 400 allowed: copay 50, deductible 200, 20% of 150 = 30 → 280.
        // Line 2 on 300: 20% of 300 = 60.
        #expect(result.lines.map(\.patientAmount) == [money("280"), money("60")])
        #expect(result.lines.map(\.payerAmount) == [money("120"), money("240")])
        #expect(result.total == money("700"))
        #expect(result.lines[0].explanation.contains("Deductible: 200.00 (0.00 of it left after this line)."))
        #expect(result.goodFaithEstimate == nil)
    }

    @Test("the out-of-pocket maximum left caps the patient's share; the payer pays the rest")
    func cap() throws {
        let share = try coverage(copay: "0", deductible: "5000", met: "0", coinsurance: 20)
        let result = estimate(
            share, prices: [LinePrice(charge: money("3000"), allowed: nil, description: "A", basis: "x")], units: [2],
            cap: money("1500"))
        #expect(result.patientAmount == money("1500"))
        #expect(result.payerAmount == money("4500"))
        #expect(result.notes.first?.contains("out-of-pocket maximum") == true)
    }

    @Test("self-pay: everything is the patient's, and a Good Faith Estimate lists the expected charges")
    func selfPay() {
        let result = estimate(
            nil, prices: [LinePrice(charge: money("250"), allowed: nil, description: "Blood test", basis: "x")],
            units: [3])
        #expect(result.patientAmount == money("750"))
        #expect(result.goodFaithEstimate?.totalExpectedCharges == money("750"))
        #expect(result.goodFaithEstimate?.items.first?.quantity == 3)
    }
}
