/// `VSIM ... FILTER expr`: Redis 8's vector-set filter expressions over an
/// item's catalog fields (`.category`, `.price`, `.instock`, `.title`), e.g.
/// `.category == "mugs" and .price < 10`, `not (.instock == 0)`,
/// `.category in ["mugs", "cups"]`. Operators: `== != < <= > >= in`, `and`
/// `or` `not` (also `&& || !`), parentheses, numbers, double-quoted strings,
/// `true`/`false`. As in Redis, a missing field makes its comparison false.
indirect enum VectorFilter {
    enum Value: Equatable {
        case number(Double)
        case string(String)
        case list([Value])
        case missing
    }

    case constant(Value)
    case field(String)
    case compare(String, VectorFilter, VectorFilter)
    case and(VectorFilter, VectorFilter)
    case or(VectorFilter, VectorFilter)
    case not(VectorFilter)

    static let fields: Set<String> = ["category", "price", "instock", "title"]

    struct ParseError: Error { let message: String }

    static func parse(_ text: String) throws(ParseError) -> VectorFilter {
        var p = Parser(tokens: try tokenize(text))
        let e = try p.or()
        guard p.at == p.tokens.count else { throw ParseError(message: "unexpected '\(p.tokens[p.at])' in FILTER") }
        return e
    }

    /// Whether the item whose fields `lookup` gives passes.
    func matches(_ lookup: (String) -> Value) -> Bool { truth(evaluate(lookup)) }

    private func evaluate(_ lookup: (String) -> Value) -> Value {
        switch self {
        case .constant(let v): return v
        case .field(let name): return lookup(name)
        case .and(let a, let b): return .number(a.matches(lookup) && b.matches(lookup) ? 1 : 0)
        case .or(let a, let b): return .number(a.matches(lookup) || b.matches(lookup) ? 1 : 0)
        case .not(let a): return .number(a.matches(lookup) ? 0 : 1)
        case .compare(let op, let a, let b):
            let x = a.evaluate(lookup), y = b.evaluate(lookup)
            if x == .missing || y == .missing { return .number(0) }
            let result: Bool
            switch (op, x, y) {
            case ("in", _, .list(let items)): result = items.contains(x)
            case ("==", _, _): result = x == y
            case ("!=", _, _): result = x != y
            case (_, .number(let l), .number(let r)):
                result = op == "<" ? l < r : op == "<=" ? l <= r : op == ">" ? l > r : l >= r
            case (_, .string(let l), .string(let r)):
                result = op == "<" ? l < r : op == "<=" ? l <= r : op == ">" ? l > r : l >= r
            default: result = false
            }
            return .number(result ? 1 : 0)
        }
    }

    private func truth(_ v: Value) -> Bool {
        switch v {
        case .number(let n): n != 0
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .missing: false
        }
    }

    static func tokenize(_ text: String) throws(ParseError) -> [String] {
        var tokens: [String] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            if c == "\"" || c == "'" {
                var j = i + 1
                while j < chars.count && chars[j] != c { j += 1 }
                guard j < chars.count else { throw ParseError(message: "unterminated string in FILTER") }
                tokens.append(String(chars[i...j]))
                i = j + 1
            } else if "()[],".contains(c) {
                tokens.append(String(c))
                i += 1
            } else if "=!<>&|".contains(c) {
                var j = i + 1
                while j < chars.count && "=&|".contains(chars[j]) && j - i < 2 { j += 1 }
                tokens.append(String(chars[i..<j]))
                i = j
            } else {
                var j = i
                while j < chars.count && !" \t()[],=!<>&|\"'".contains(chars[j]) { j += 1 }
                tokens.append(String(chars[i..<j]))
                i = j
            }
        }
        return tokens
    }

    struct Parser {
        let tokens: [String]
        var at = 0

        mutating func next() -> String? {
            guard at < tokens.count else { return nil }
            defer { at += 1 }
            return tokens[at]
        }

        func peek() -> String? { at < tokens.count ? tokens[at] : nil }

        mutating func or() throws(ParseError) -> VectorFilter {
            var e = try and()
            while let t = peek(), t == "or" || t == "||" {
                at += 1
                e = .or(e, try and())
            }
            return e
        }

        mutating func and() throws(ParseError) -> VectorFilter {
            var e = try not()
            while let t = peek(), t == "and" || t == "&&" {
                at += 1
                e = .and(e, try not())
            }
            return e
        }

        mutating func not() throws(ParseError) -> VectorFilter {
            if let t = peek(), t == "not" || t == "!" {
                at += 1
                return .not(try not())
            }
            return try comparison()
        }

        mutating func comparison() throws(ParseError) -> VectorFilter {
            let left = try primary()
            if let op = peek(), ["==", "!=", "<", "<=", ">", ">=", "in"].contains(op) {
                at += 1
                return .compare(op, left, try primary())
            }
            return left
        }

        mutating func primary() throws(ParseError) -> VectorFilter {
            guard let t = next() else { throw ParseError(message: "FILTER ends too early") }
            if t == "(" {
                let e = try or()
                guard next() == ")" else { throw ParseError(message: "missing ')' in FILTER") }
                return e
            }
            if t == "[" {
                var items: [Value] = []
                while let u = peek(), u != "]" {
                    guard case .constant(let v) = try primary() else { throw ParseError(message: "lists hold numbers and strings only") }
                    items.append(v)
                    if peek() == "," { at += 1 }
                }
                guard next() == "]" else { throw ParseError(message: "missing ']' in FILTER") }
                return .constant(.list(items))
            }
            if t.hasPrefix(".") {
                let name = String(t.dropFirst())
                guard VectorFilter.fields.contains(name) else {
                    throw ParseError(message: "unknown field '\(t)' in FILTER (fields: .category, .price, .instock, .title)")
                }
                return .field(name)
            }
            if t.hasPrefix("\"") || t.hasPrefix("'") { return .constant(.string(String(t.dropFirst().dropLast()))) }
            if t == "true" { return .constant(.number(1)) }
            if t == "false" { return .constant(.number(0)) }
            if let n = Double(t), n.isFinite { return .constant(.number(n)) }
            throw ParseError(message: "unexpected '\(t)' in FILTER")
        }
    }
}
