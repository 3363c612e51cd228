/// The README's command reference, made from the command table: the syntax
/// (with each command's options) and summary of every command. A test holds
/// the README's copy to it, so the two cannot drift apart.
public enum CommandReference {
    public static var markdown: String {
        var lines = ["| command | what it answers |", "|---|---|"]
        for command in Command.allCases {
            let spec = command.spec
            let syntax = spec.syntax.replacingOccurrences(of: "|", with: "\\|")
            lines.append("| `\(syntax)` | \(spec.summary) |")
        }
        return lines.joined(separator: "\n")
    }
}
