/// A request that breaks the framing rules. The connection gets one error
/// reply naming the problem, then is closed, as Redis does: after a framing
/// error the position of the next command is unknowable.
public enum ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    case lineTooLong(limit: Int)
    case requestTooLarge(limit: Int)
    case invalidMultibulkLength
    case invalidBulkLength
    case tooManyArguments(count: Int, limit: Int)
    case expectedBulk(found: UInt8)
    case missingBulkTerminator

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "Protocol error: line longer than max-line-bytes (\(limit))"
        case .requestTooLarge(let limit): "Protocol error: request larger than max-request-bytes (\(limit))"
        case .invalidMultibulkLength: "Protocol error: invalid multibulk length"
        case .invalidBulkLength: "Protocol error: invalid bulk length"
        case .tooManyArguments(let n, let limit): "Protocol error: \(n) arguments, more than max-args (\(limit))"
        case .expectedBulk(let b): "Protocol error: expected '$', got '\(Self.printable(b))'"
        case .missingBulkTerminator: "Protocol error: bulk string not followed by CRLF"
        }
    }

    static func printable(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
    }
}
