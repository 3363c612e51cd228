/// Named input limits; breaking one is a `ProtocolError` and a close.
public struct RequestLimits: Sendable, Equatable {
    /// Longest line-dialect (or RESP inline) command, terminator excluded.
    public var maxLineBytes = 64 * 1024
    /// Largest RESP request: all bulk strings of one command together.
    public var maxRequestBytes = 1024 * 1024
    /// Most arguments in one command, either dialect.
    public var maxArgs = 1024

    public init() {}
}
