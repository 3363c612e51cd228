/// Named RFM segments: the first rule whose conditions all hold names the
/// user. Written in config as `name:cond,cond;name:cond...`, each condition
/// a score (r, f or m), a comparison (>=, <=, =, >, <) and a digit 1-5; a
/// rule with no conditions matches everyone (put it last).
public struct SegmentRules: Sendable, Equatable {
    public struct Condition: Sendable, Equatable {
        enum Measure: Sendable, Equatable { case r, f, m }
        enum Comparison: String, Sendable, Equatable, CaseIterable { case ge = ">=", le = "<=", eq = "=", gt = ">", lt = "<" }
        let measure: Measure
        let comparison: Comparison
        let value: Int

        func holds(_ r: Int, _ f: Int, _ m: Int) -> Bool {
            let x = measure == .r ? r : measure == .f ? f : m
            switch comparison {
            case .ge: return x >= value
            case .le: return x <= value
            case .eq: return x == value
            case .gt: return x > value
            case .lt: return x < value
            }
        }
    }

    public let rules: [(name: String, conditions: [Condition])]

    public static let defaultText =
        "champions:r>=4,f>=4,m>=4;loyal:f>=4;new:r>=4,f<=1;at_risk:r<=2,f>=3;hibernating:r<=2,f<=2;needs_attention:"

    public static let standard = try! SegmentRules(defaultText)

    /// Parses the config text; the error says which rule or condition is wrong.
    public init(_ text: String) throws(ConfigError) {
        var rules: [(String, [Condition])] = []
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pieces[0])
            guard !name.isEmpty, pieces.count == 2 else {
                throw .badValue(name: "segment-rules", value: String(part), expected: "name:condition,condition (e.g. champions:r>=4,f>=4)",
                                origin: "segment-rules")
            }
            var conditions: [Condition] = []
            for c in pieces[1].split(separator: ",") {
                let text = String(c)
                guard let first = text.first, let measure = ["r": Condition.Measure.r, "f": .f, "m": .m][String(first)],
                      let comparison = Condition.Comparison.allCases.first(where: { text.dropFirst().hasPrefix($0.rawValue) }),
                      let value = Int(text.dropFirst(1 + comparison.rawValue.count)), (1...5).contains(value) else {
                    throw .badValue(name: "segment-rules", value: text, expected: "r, f or m, then >=, <=, =, > or <, then 1-5",
                                    origin: "rule '\(name)'")
                }
                conditions.append(Condition(measure: measure, comparison: comparison, value: value))
            }
            rules.append((name, conditions))
        }
        self.rules = rules
    }

    public func segment(r: Int, f: Int, m: Int) -> String {
        for rule in rules where rule.conditions.allSatisfy({ $0.holds(r, f, m) }) { return rule.name }
        return "other"
    }

    public static func == (a: SegmentRules, b: SegmentRules) -> Bool {
        a.rules.map(\.name) == b.rules.map(\.name) && a.rules.map(\.conditions) == b.rules.map(\.conditions)
    }
}
