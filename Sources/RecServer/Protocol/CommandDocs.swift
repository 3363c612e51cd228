/// `COMMAND`'s view of the command table, in Redis's shapes: redis-cli
/// builds `help` and its hints from `COMMAND DOCS`, cluster clients find
/// each command's key from `COMMAND INFO`'s key specs.
enum CommandDocs {
    /// The 10-element entry Redis gives per command: name, arity, flags,
    /// first key, last key, step, ACL categories, tips, key specs, subcommands.
    static func info(_ command: Command) -> Reply {
        let spec = command.spec
        let arity = spec.minArgs == spec.maxArgs ? spec.minArgs + 1 : -(spec.minArgs + 1)
        var keySpecs: [Reply] = []
        if spec.key > 0 {
            let write = spec.flags.contains("write")
            keySpecs.append(.fields([
                ("flags", .set(write ? [.simple("RW"), .simple("update")] : [.simple("RO"), .simple("access")])),
                ("begin_search", .fields([("type", .text("index")), ("spec", .fields([("index", .integer(spec.key))]))])),
                ("find_keys", .fields([("type", .text("range")),
                                       ("spec", .fields([("lastkey", .integer(0)), ("keystep", .integer(1)), ("limit", .integer(0))]))])),
            ]))
        }
        return .array([
            .text(spec.name.lowercased()), .integer(arity), .set(spec.flags.map { .simple($0) }),
            .integer(spec.key), .integer(spec.key), .integer(spec.key > 0 ? 1 : 0),
            .set([]), .set([]), .set(keySpecs), .array([]),
        ])
    }

    /// The docs map: summary, since, group, arguments (each part of the
    /// syntax an argument, bracketed ones optional; redis-cli prints them as
    /// the hint and in `help`).
    static func docs(_ command: Command) -> Reply {
        let spec = command.spec
        let arguments: [Reply] = syntaxArguments(spec.syntax).map { arg in
            var fields: [(String, Reply)] = [("name", .text(arg.name)), ("type", .text("string")), ("display_text", .text(arg.name))]
            var flags: [Reply] = []
            if arg.optional { flags.append(.simple("optional")) }
            if !flags.isEmpty { fields.append(("flags", .set(flags))) }
            return .fields(fields)
        }
        return .fields([("summary", .text(spec.summary)), ("since", .text("0.1.0")), ("group", .text(spec.group)),
                        ("complexity", .text(spec.flags.contains("fast") ? "O(1) or O(k log k)" : "see README")),
                        ("arguments", .array(arguments))])
    }

    struct Argument: Equatable {
        var name: String
        var optional: Bool
    }

    /// The syntax after the command's name, split at spaces outside brackets.
    static func syntaxArguments(_ syntax: String) -> [Argument] {
        var parts: [String] = []
        var current = "", depth = 0
        for c in syntax {
            if c == "[" { depth += 1 }
            if c == "]" { depth -= 1 }
            if c == " " && depth == 0 {
                if !current.isEmpty { parts.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts.dropFirst().map { part in
            let optional = part.hasPrefix("[") && part.hasSuffix("]")
            let name = optional ? String(part.dropFirst().dropLast()) : part
            return Argument(name: name, optional: optional)
        }
    }
}
