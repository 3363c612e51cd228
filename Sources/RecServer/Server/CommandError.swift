import RecCore
/// A command that cannot run as given. The connection goes on; the reply is
/// `ERR <code> <message>` with a message saying what to change.
public struct CommandError: Error, Sendable {
    public let code: String
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    static func arity(_ command: Command) -> CommandError {
        CommandError(code: "ARGS", message: "wrong number of arguments; usage: \(command.spec.syntax)")
    }

    static func syntax(_ message: String) -> CommandError { CommandError(code: "SYNTAX", message: message) }

    /// The event log or a snapshot file could not be written: nothing was acknowledged.
    /// The data-dir refused a change; the message says what took effect.
    static func store(_ error: StoreError) -> CommandError { CommandError(code: "STORAGE", message: error.message) }
    static func storage(_ message: String) -> CommandError { CommandError(code: "STORAGE", message: message + "; not applied") }
}
