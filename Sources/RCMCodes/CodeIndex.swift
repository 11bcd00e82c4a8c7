import RCMCore

/// An immutable, in-memory index of one code set, built once: codes sorted for binary-search
/// prefix lookup, and each description word's posting list (sorted code indexes) for word search.
public final class CodeIndex: Sendable {
    public let system: CodeSystem
    /// Every code, sorted by its search key.
    public let entries: [CodeInfo]
    /// The search key of each entry (`CodeIndex.key`), sorted.
    let keys: [String]
    /// Each entry's place in the result order: billable before headers, shorter codes first,
    /// then by code.
    let rank: [Int32]
    /// Distinct description words, sorted; the postings of `words[w]` are
    /// `postings[postingStarts[w]..<postingStarts[w + 1]]`.
    let words: [String]
    let postingStarts: [Int32]
    let postings: [Int32]
    /// Each description's words in order, as indexes into `words`: entry `e` has
    /// `tokens[tokenStarts[e]..<tokenStarts[e + 1]]`.
    let tokens: [Int32]
    let tokenStarts: [Int32]
    /// Whether `words[w]` is a joining word ("of", "and", …) that phrase ranking looks past.
    let joining: [Bool]

    static let joiningWords: Set<String> = ["a", "and", "by", "for", "in", "of", "on", "or", "the", "to", "with"]

    /// Indexes `entries` (a later entry with the same code replaces an earlier one).
    public init(system: CodeSystem, entries: [CodeInfo]) {
        self.system = system
        var unique: [String: Int] = [:]
        var kept: [(key: String, entry: CodeInfo)] = []
        kept.reserveCapacity(entries.count)
        for var entry in entries {
            entry.system = system
            let key = CodeIndex.key(entry.code, system: system)
            if system != .local { entry.code = key }
            if let at = unique[key] {
                kept[at] = (key, entry)
            } else {
                unique[key] = kept.count
                kept.append((key, entry))
            }
        }
        kept.sort { $0.key < $1.key }
        let sorted = kept.map(\.entry)
        self.entries = sorted
        self.keys = kept.map(\.key)

        // Rank by bucket (billable, length), each bucket in code order: a linear pass.
        var buckets = [[Int32]](repeating: [], count: 128)
        for (index, entry) in sorted.enumerated() {
            buckets[(entry.billable ? 0 : 64) + min(keys[index].utf8.count, 63)].append(Int32(index))
        }
        var rank = [Int32](repeating: 0, count: sorted.count)
        var position: Int32 = 0
        for bucket in buckets {
            for index in bucket {
                rank[Int(index)] = position
                position += 1
            }
        }
        self.rank = rank

        // Each description as a list of word ids, then the words sorted and the ids renumbered.
        var ids: [String: Int32] = [:]
        var lists: [[Int32]] = []
        var tokens: [Int32] = []
        var tokenStarts: [Int32] = [0]
        tokenStarts.reserveCapacity(sorted.count + 1)
        for (index, entry) in sorted.enumerated() {
            for word in CodeText.words(entry.description) {
                let id: Int32
                if let known = ids[word] {
                    id = known
                } else {
                    id = Int32(lists.count)
                    ids[word] = id
                    lists.append([])
                }
                tokens.append(id)
                if lists[Int(id)].last != Int32(index) { lists[Int(id)].append(Int32(index)) }
            }
            tokenStarts.append(Int32(tokens.count))
        }
        let words = ids.keys.sorted()
        var renumbered = [Int32](repeating: 0, count: words.count)
        var starts: [Int32] = [0]
        var postings: [Int32] = []
        starts.reserveCapacity(words.count + 1)
        for (position, word) in words.enumerated() {
            let id = Int(ids[word] ?? 0)
            renumbered[id] = Int32(position)
            postings.append(contentsOf: lists[id])
            starts.append(Int32(postings.count))
        }
        self.words = words
        self.postingStarts = starts
        self.postings = postings
        self.tokens = tokens.map { renumbered[Int($0)] }
        self.tokenStarts = tokenStarts
        self.joining = words.map { CodeIndex.joiningWords.contains($0) }
    }

    /// A code as the index keys it: upper case; without dots except for local codes, where a dot
    /// may be part of the clinic's code.
    public static func key(_ code: String, system: CodeSystem) -> String {
        CodeText.key(code, keepingDots: system == .local)
    }

    public var count: Int { entries.count }
    public var billableCount: Int { entries.reduce(0) { $0 + ($1.billable ? 1 : 0) } }

    /// The code (any case, with or without dots), if present and in force on `date`.
    public func lookup(_ code: String, on date: CalendarDate? = nil) -> CodeInfo? {
        guard let index = exactIndex(CodeIndex.key(code, system: system)) else { return nil }
        let entry = entries[index]
        return entry.isEffective(on: date) ? entry : nil
    }

    /// Codes matching `query`: the exact code first, then codes starting with it, then codes
    /// whose description has, for every query word, a word starting with it; within the last
    /// two, billable before headers, shorter codes first, then by code. Only codes in force on
    /// `date` when one is given.
    public func search(_ query: String, limit: Int, on date: CalendarDate? = nil) -> [CodeMatch] {
        guard limit > 0 else { return [] }
        var results: [CodeMatch] = []
        var taken: Set<Int32> = []
        let key = CodeIndex.key(query, system: system)
        if !key.isEmpty, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            let range = prefixRange(key)
            if !range.isEmpty {
                var rest = range.lowerBound
                if keys[rest] == key {
                    if entries[rest].isEffective(on: date) {
                        results.append(CodeMatch(info: entries[rest], kind: .exactCode))
                        taken.insert(Int32(rest))
                    }
                    rest += 1
                }
                let prefixed = (rest..<range.upperBound).lazy.map { Int32($0) }
                let chosen = best(of: prefixed, limit: limit - results.count, on: date, excluding: taken) {
                    Int64(self.rank[Int($0)])
                }
                for index in chosen {
                    results.append(CodeMatch(info: entries[Int(index)], kind: .codePrefix))
                    taken.insert(index)
                }
            }
        }
        if results.count < limit {
            let terms = CodeText.words(query)
            let matched = descriptionMatches(terms)
            let phrase = terms.count > 1 ? terms.map { wordRange($0) } : []
            let chosen = best(of: matched, limit: limit - results.count, on: date, excluding: taken) { entry in
                // Billable first; then descriptions with more query words side by side, in the query's
                // order; then shorter codes (`rank` orders billable, then length, then code).
                let header: Int64 = self.entries[Int(entry)].billable ? 0 : 1
                let apart = Int64(phrase.count - self.adjacentPairs(entry, phrase))
                return (header << 40) | (apart << 32) | Int64(self.rank[Int(entry)])
            }
            for index in chosen {
                results.append(CodeMatch(info: entries[Int(index)], kind: .description))
            }
        }
        return results
    }

    // MARK: Internals

    /// The first index whose code is not less than `key`.
    func lowerBound(_ key: String) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func exactIndex(_ key: String) -> Int? {
        let index = lowerBound(key)
        return index < keys.count && keys[index] == key ? index : nil
    }

    /// The indexes of the codes that start with `key`.
    func prefixRange(_ key: String) -> Range<Int> {
        let low = lowerBound(key)
        var high = entries.count
        var first = low
        while first < high {  // the first index at or after `low` without the prefix
            let middle = (first + high) / 2
            if CodeText.hasPrefix(keys[middle], key) { first = middle + 1 } else { high = middle }
        }
        return low..<first
    }

    /// The indexes of the description words that start with `prefix`.
    func wordRange(_ prefix: String) -> Range<Int> {
        var low = 0
        var high = words.count
        while low < high {
            let middle = (low + high) / 2
            if words[middle] < prefix { low = middle + 1 } else { high = middle }
        }
        var end = words.count
        var first = low
        while first < end {
            let middle = (first + end) / 2
            if CodeText.hasPrefix(words[middle], prefix) { first = middle + 1 } else { end = middle }
        }
        return low..<first
    }

    /// Entries whose description has, for every query word, a word starting with it.
    func descriptionMatches(_ query: [String]) -> [Int32] {
        let terms = Array(Set(query).prefix(16))
        guard !terms.isEmpty else { return [] }
        var ranges: [(range: Range<Int>, size: Int)] = []
        for term in terms {
            let range = wordRange(term)
            if range.isEmpty { return [] }
            let size = Int(postingStarts[range.upperBound] - postingStarts[range.lowerBound])
            ranges.append((range, size))
        }
        ranges.sort { $0.size < $1.size }  // the rarest term first keeps the candidate list short
        var stage = [UInt8](repeating: 0, count: entries.count)
        var candidates: [Int32] = []
        candidates.reserveCapacity(ranges[0].size)
        postings.withUnsafeBufferPointer { postings in
            stage.withUnsafeMutableBufferPointer { stage in
                for (step, term) in ranges.enumerated() {
                    let from = UInt8(step)
                    let to = UInt8(step + 1)
                    for word in term.range {
                        for at in Int(postingStarts[word])..<Int(postingStarts[word + 1]) {
                            let entry = Int(postings[at])
                            if stage[entry] == from {
                                stage[entry] = to
                                if step == 0 { candidates.append(Int32(entry)) }
                            }
                        }
                    }
                }
                let complete = UInt8(ranges.count)
                candidates.removeAll { stage[Int($0)] != complete }
            }
        }
        return candidates
    }

    /// How many neighbouring query terms (`terms[i]`, `terms[i + 1]`, as word ranges) the entry's
    /// description has side by side, in that order, or with one joining word between ("fract femur"
    /// finds "fracture of femur").
    func adjacentPairs(_ entry: Int32, _ terms: [Range<Int>]) -> Int {
        guard terms.count > 1 else { return 0 }
        let from = Int(tokenStarts[Int(entry)])
        let to = Int(tokenStarts[Int(entry) + 1])
        var pairs = 0
        for term in 0..<(terms.count - 1) where to - from > 1 {
            for at in from..<(to - 1) where terms[term].contains(Int(tokens[at])) {
                let next = Int(tokens[at + 1])
                if terms[term + 1].contains(next)
                    || (joining[next] && at + 2 < to && terms[term + 1].contains(Int(tokens[at + 2])))
                {
                    pairs += 1
                    break
                }
            }
        }
        return pairs
    }

    /// The `limit` candidates with the smallest `key` that are in force on `date`, best first.
    func best(
        of candidates: some Sequence<Int32>, limit: Int, on date: CalendarDate?, excluding: Set<Int32>,
        key: (Int32) -> Int64
    ) -> [Int32] {
        guard limit > 0 else { return [] }
        var chosen: [(entry: Int32, key: Int64)] = []  // sorted by key
        chosen.reserveCapacity(limit + 1)
        for candidate in candidates {
            let order = key(candidate)
            if chosen.count == limit, let last = chosen.last, order >= last.key { continue }
            if !excluding.isEmpty, excluding.contains(candidate) { continue }
            if date != nil, !entries[Int(candidate)].isEffective(on: date) { continue }
            var low = 0
            var high = chosen.count
            while low < high {
                let middle = (low + high) / 2
                if chosen[middle].key < order { low = middle + 1 } else { high = middle }
            }
            chosen.insert((candidate, order), at: low)
            if chosen.count > limit { chosen.removeLast() }
        }
        return chosen.map(\.entry)
    }
}
