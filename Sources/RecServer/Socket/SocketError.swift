#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, with the call's name and errno captured where it
/// happened so the message says what to fix ("bind: Address already in use").
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public let detail: String

    public init(_ call: String, errno: Int32, detail: String = "") {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    static func failed(_ call: String, detail: String = "") -> SocketError {
        SocketError(call, errno: Glibc.errno, detail: detail)
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return detail.isEmpty ? "\(call): \(reason)" : "\(call) \(detail): \(reason)"
    }
}
