import Testing

@testable import RCMPlatform

@Suite("Configuration from the environment")
struct ConfigurationTests {
    @Test("the relays' nice value: 10 unless RCM_RELAY_NICE names one from 0 to 19")
    func relayNiceness() throws {
        #expect(try PlatformConfiguration.fromEnvironment([:]).relayNiceness == 10)
        #expect(try PlatformConfiguration.fromEnvironment(["RCM_RELAY_NICE": "0"]).relayNiceness == 0)
        #expect(try PlatformConfiguration.fromEnvironment(["RCM_RELAY_NICE": "19"]).relayNiceness == 19)
        for refused in ["20", "-5", "low", ""] {
            #expect(throws: UsageError.self, "\(refused)") {
                try PlatformConfiguration.fromEnvironment(["RCM_RELAY_NICE": refused])
            }
        }
    }
}
