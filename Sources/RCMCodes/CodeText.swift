import Foundation

/// How codes and descriptions are normalized for search.
enum CodeText {
    /// A code as an index keys it: upper case, without spaces and (unless kept) dots.
    static func key(_ code: String, keepingDots: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(code.utf8.count)
        for byte in code.utf8 where (keepingDots || byte != UInt8(ascii: ".")) && byte != UInt8(ascii: " ") {
            bytes.append(byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The words of `text`: lower case, accents removed, split at anything but letters and digits.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        func flush() {
            if !current.isEmpty {
                words.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            }
        }
        let ascii = text.utf8.allSatisfy { $0 < 0x80 }
        let folded = ascii ? text : text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        for byte in folded.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...:
                current.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                current.append(byte + 32)
            default:
                flush()
            }
        }
        flush()
        return words
    }

    /// Whether `text` starts with `prefix`, byte for byte.
    @inline(__always)
    static func hasPrefix(_ text: String, _ prefix: String) -> Bool {
        text.utf8.starts(with: prefix.utf8)
    }
}
