import Foundation
import RCMCore
import Testing

@Suite("Percent-decoding")
struct PercentEncodingTests {
    @Test("decodes as Foundation's removingPercentEncoding does, + as a space when asked")
    func matchesFoundation() {
        let samples = [
            "abc", "a%20b", "%41%42", "%", "%4", "%zz", "x%", "%C3%28", "%E2%82%AC", "caf%C3%A9", "100%25", "",
            "%%41", "a+b%2Bc", "J%C3%BCrgen+M%c3%bcller",
        ]
        for sample in samples {
            #expect(
                PercentEncoding.decode(Substring(sample).utf8, plusIsSpace: false) == sample.removingPercentEncoding,
                "\(sample)")
            #expect(
                PercentEncoding.decode(Substring(sample).utf8, plusIsSpace: true)
                    == sample.replacingOccurrences(of: "+", with: " ").removingPercentEncoding, "\(sample)")
        }
    }
}
