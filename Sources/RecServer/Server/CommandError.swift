/// A command that cannot run as given. The connection goes on; the reply is
/// `ERR <code> <message>` with a message saying what to change.
struct CommandError: Error {
    let code: String
    let message: String

    static func arity(_ command: Command) -> CommandError {
        CommandError(code: "ARGS", message: "wrong number of arguments; usage: \(command.spec.syntax)")
    }

    static func syntax(_ message: String) -> CommandError { CommandError(code: "SYNTAX", message: message) }
}
