/// A loop of a transaction set ("2000A", "2100C", ...): its own segments, then its child loops.
public struct X12Loop: Sendable, Codable, Equatable {
    /// The id of the root loop of every transaction set (header and trailer segments).
    public static let transactionRoot = "TRANSACTION"

    public var id: String
    public var segments: [X12Segment]
    public var loops: [X12Loop]

    public init(id: String, segments: [X12Segment] = [], loops: [X12Loop] = []) {
        self.id = id
        self.segments = segments
        self.loops = loops
    }

    /// The first segment with this id in this loop (not in child loops).
    public func segment(_ id: String) -> X12Segment? { segments.first { $0.id == id } }

    /// Every loop with this id at any depth below (and including) this one, in file order.
    public func loops(withId id: String) -> [X12Loop] {
        var found: [X12Loop] = []
        visit { if $0.id == id { found.append($0) } }
        return found
    }

    /// Calls `body` for this loop and every loop below it, depth first in file order.
    public func visit(_ body: (X12Loop) -> Void) {
        body(self)
        for loop in loops { loop.visit(body) }
    }

    /// This loop's segments and its child loops' segments, in file order (trailer segments of the
    /// root, such as SE, come last).
    public var allSegments: [X12Segment] {
        var all: [X12Segment] = []
        collect(into: &all)
        return all.sorted { $0.position < $1.position }
    }

    private func collect(into all: inout [X12Segment]) {
        all.append(contentsOf: segments)
        for loop in loops { loop.collect(into: &all) }
    }
}

/// One loop of an implementation guide: the segment (and qualifier) that starts it and the loops it
/// may appear in.
public struct X12LoopDefinition: Sendable, Equatable {
    public var id: String
    /// The segment that starts the loop ("HL", "NM1", "CLP"...).
    public var trigger: String
    /// The element of the trigger that must hold one of ``qualifiers`` (1-based; 0 = none).
    public var qualifierPosition: Int
    /// Accepted values of the qualifier element; empty = any.
    public var qualifiers: Set<String>
    /// Loops this one may be nested in; "" stands for the transaction set itself.
    public var parents: [String]

    public init(
        _ id: String, _ trigger: String, at qualifierPosition: Int = 0, _ qualifiers: [String] = [],
        in parents: [String]
    ) {
        self.id = id
        self.trigger = trigger
        self.qualifierPosition = qualifierPosition
        self.qualifiers = Set(qualifiers)
        self.parents = parents
    }

    func matches(_ segment: X12Segment) -> Bool {
        qualifierPosition == 0 || qualifiers.isEmpty || qualifiers.contains(segment[qualifierPosition])
    }
}

/// The loop structure of one transaction set of one implementation guide, as data.
public struct X12LoopTable: Sendable {
    /// ST01.
    public var transactionSet: String
    /// The GS08 / ST03 prefix this table is for ("005010X222"); "005010" matches any 5010 guide.
    public var versionPrefix: String
    public var definitions: [X12LoopDefinition]
    /// Segments that close every loop and belong to the transaction set itself (summary segments).
    public var rootSegments: Set<String>
    /// Segments that close the innermost loops with these ids before being added (LE after LS … LE).
    public var closers: [String: Set<String>]
    /// What each segment id does to the loop stack: one dictionary lookup per segment.
    let actions: [String: X12LoopAction]

    public init(
        _ transactionSet: String, _ versionPrefix: String, rootSegments: Set<String> = [],
        closers: [String: Set<String>] = [:], _ definitions: [X12LoopDefinition]
    ) {
        self.transactionSet = transactionSet
        self.versionPrefix = versionPrefix
        self.definitions = definitions
        self.rootSegments = rootSegments.union(["SE"])
        self.closers = closers
        var actions: [String: X12LoopAction] = Dictionary(grouping: definitions, by: \.trigger).mapValues {
            .triggers($0)
        }
        for (id, loops) in closers { actions[id] = .closes(loops) }
        for id in self.rootSegments { actions[id] = .root }
        self.actions = actions
    }

    /// The table for a transaction set id and version, or nil when there is none.
    public static func table(for transactionSet: String, version: String) -> X12LoopTable? {
        X12LoopTables.all.first { $0.transactionSet == transactionSet && version.hasPrefix($0.versionPrefix) }
    }

    /// Builds the loop tree of a transaction set's segments (ST first, SE last).
    public func buildLoops(_ segments: [X12Segment]) -> X12Loop {
        var builder = X12LoopBuilder(table: self)
        for segment in segments { builder.add(segment) }
        return builder.finish()
    }
}

/// What a segment id does in a loop table.
enum X12LoopAction: Sendable {
    /// Closes every loop; the segment belongs to the transaction set (SE, PLB, AK9).
    case root
    /// Closes the innermost loops with these ids (LE).
    case closes(Set<String>)
    /// May start one of these loops.
    case triggers([X12LoopDefinition])
}

/// Builds a loop tree one segment at a time. A trigger segment starts the loop whose allowed parent is
/// open deepest in the current stack; other segments join the innermost open loop.
struct X12LoopBuilder {
    let table: X12LoopTable?
    var stack: [X12Loop] = [X12Loop(id: X12Loop.transactionRoot)]

    init(table: X12LoopTable?) { self.table = table }

    mutating func add(_ segment: X12Segment) {
        guard let table else {
            stack[0].segments.append(segment)
            return
        }
        switch table.actions[segment.id] {
        case .root:
            pop(to: 0)
            stack[0].segments.append(segment)
            return
        case .closes(let closed):
            while stack.count > 1, let top = stack.last, closed.contains(top.id) { pop(to: stack.count - 2) }
        case .triggers(let candidates):
            var best: (definition: X12LoopDefinition, depth: Int)?
            for definition in candidates where definition.matches(segment) {
                for parent in definition.parents {
                    guard let depth = depth(of: parent) else { continue }
                    if best == nil || depth > (best?.depth ?? -1) { best = (definition, depth) }
                }
            }
            if let best {
                pop(to: best.depth)
                stack.append(X12Loop(id: best.definition.id, segments: [segment]))
                return
            }
        case nil:
            break
        }
        stack[stack.count - 1].segments.append(segment)
    }

    /// Depth of the innermost open loop with this id ("" = the root, depth 0).
    private func depth(of id: String) -> Int? {
        if id.isEmpty { return 0 }
        var index = stack.count - 1
        while index > 0 {
            if stack[index].id == id { return index }
            index -= 1
        }
        return nil
    }

    /// Closes loops until `depth` is the innermost.
    private mutating func pop(to depth: Int) {
        while stack.count - 1 > depth, let loop = stack.popLast() {
            stack[stack.count - 1].loops.append(loop)
        }
    }

    mutating func finish() -> X12Loop {
        pop(to: 0)
        return stack[0]
    }
}
