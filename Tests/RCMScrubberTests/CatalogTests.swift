import Testing

@testable import RCMScrubber

@Suite("Rule catalog")
struct CatalogTests {
    @Test("bundled catalog loads") func bundled() {
        #expect(!RuleCatalog.bundled.rules.isEmpty)
    }
}
