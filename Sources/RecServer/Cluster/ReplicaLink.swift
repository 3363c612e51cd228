import Foundation
import RecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A node's connection to another, speaking RESP2 with the commands
/// themselves. It first says `CLUSTER REPLICATING` (plus `CATCHUP` on a
/// replay), so the other node applies writes for slots it does not own and
/// passes nothing on. Each use has links of its own (`ClusterState.Link`):
/// a replica's stream pipelines batches of writes; gathers, broadcasts,
/// catch-ups and RELOAD/SAVE wait for one reply at a time. Connect and
/// every read are bounded by `timeoutMs`.
final class ReplicaLink: Sendable {
    let address: String
    let timeoutMs: Int
    private let fd = Mutex<Int32>(-1)

    /// What the link says first: `CLUSTER REPLICATING`, plus `CATCHUP` on
    /// a primary's link that replays what a replica missed.
    let hello: [[UInt8]]

    init(address: String, timeoutMs: Int, catchUp: Bool = false) {
        self.address = address
        self.timeoutMs = timeoutMs
        hello = [Array("CLUSTER".utf8), Array("REPLICATING".utf8)] + (catchUp ? [Array("CATCHUP".utf8)] : [])
    }

    deinit { fd.withLock { if $0 >= 0 { close($0) } } }

    enum Failure: Error { case unreachable(String) }

    /// Sends `args` as one RESP command and waits for the reply; an error
    /// reply from the other node is a failure too.
    func send(_ args: [[UInt8]]) throws(Failure) {
        _ = try call(args)
    }

    /// Sends `args` as one RESP command and returns the whole reply; an
    /// error reply is a failure.
    func call(_ args: [[UInt8]]) throws(Failure) -> RESPValue {
        try exchange([args])[0]
    }

    /// Sends every command of `batch` at once and reads their replies in
    /// order (a replica's group commit then covers the whole batch).
    func pipeline(_ batch: [[[UInt8]]]) throws(Failure) {
        _ = try exchange(batch)
    }

    /// Connects (and says `hello`) when not connected, then sends `batch`
    /// and reads one reply per command; any error reply fails the whole,
    /// and any failure closes the connection for the next call to redo.
    private func exchange(_ batch: [[[UInt8]]]) throws(Failure) -> [RESPValue] {
        try fd.withLock { (fd: inout Int32) throws(Failure) -> [RESPValue] in
            do throws(Failure) {
                if fd < 0 {
                    fd = try connect()
                    _ = try roundTrip(fd, [hello])
                }
                return try roundTrip(fd, batch)
            } catch {
                if fd >= 0 { close(fd) }
                fd = -1
                throw error
            }
        }
    }

    private func connect() throws(Failure) -> Int32 {
        let (host, port) = ClusterMap.split(address)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else { throw .unreachable("cannot resolve \(host)") }
        defer { freeaddrinfo(list) }
        let s = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard s >= 0 else { throw .unreachable("socket: \(String(cString: strerror(errno)))") }
        if Glibc.connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
            let e = errno
            close(s)
            throw .unreachable("connect: \(String(cString: strerror(e)))")
        }
        var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if poll(&p, 1, Int32(timeoutMs)) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0 {
            close(s)
            throw .unreachable(error != 0 ? "connect: \(String(cString: strerror(error)))" : "connect timed out")
        }
        // Blocking from here, with timeouts on both directions.
        _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK)
        var tv = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return s
    }

    private static func frame(_ args: [[UInt8]], into out: inout [UInt8]) {
        out += Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [0x0D, 0x0A]
        }
    }

    private func roundTrip(_ fd: Int32, _ batch: [[[UInt8]]]) throws(Failure) -> [RESPValue] {
        var out: [UInt8] = []
        for args in batch { Self.frame(args, into: &out) }
        try sendAll(fd, out)
        var reader = Reader(fd: fd, timeoutMs: timeoutMs)
        var replies: [RESPValue] = []
        for _ in batch {
            let reply = try reader.value()
            if case .error(let text) = reply { throw .unreachable("refused: " + text) }
            replies.append(reply)
        }
        return replies
    }

    private func sendAll(_ fd: Int32, _ out: [UInt8]) throws(Failure) {
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                throw .unreachable("send: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }

    /// A RESP2 reply, read whole.
    enum RESPValue {
        case simple(String), error(String), integer(Int), bulk([UInt8]?), array([RESPValue]?)

        var text: String? {
            switch self {
            case .simple(let s): s
            case .bulk(let b): b.map { String(decoding: $0, as: UTF8.self) }
            case .integer(let i): String(i)
            default: nil
            }
        }
        var elements: [RESPValue] { if case .array(let a) = self { a ?? [] } else { [] } }
    }

    /// Buffered reads of one reply from the socket.
    private struct Reader {
        let fd: Int32
        let timeoutMs: Int
        var buffer: [UInt8] = []
        var at = 0

        mutating func fill() throws(Failure) {
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
                if n > 0 {
                    buffer += chunk[0..<n]
                    return
                }
                if n < 0 && errno == EINTR { continue }
                throw .unreachable(n == 0 ? "closed" : "no reply within \(timeoutMs) ms")
            }
        }

        mutating func line() throws(Failure) -> [UInt8] {
            while true {
                if let end = buffer[at...].firstIndex(of: 0x0A), end > at, buffer[end - 1] == 0x0D {
                    defer { at = end + 1 }
                    return Array(buffer[at..<(end - 1)])
                }
                try fill()
            }
        }

        mutating func value() throws(Failure) -> RESPValue {
            let l = try line()
            guard let kind = l.first else { throw .unreachable("empty reply line") }
            let rest = String(decoding: l.dropFirst(), as: UTF8.self)
            switch kind {
            case UInt8(ascii: "+"): return .simple(rest)
            case UInt8(ascii: "-"): return .error(rest)
            case UInt8(ascii: ":"):
                guard let v = Int(rest) else { throw .unreachable("bad integer reply \(rest)") }
                return .integer(v)
            case UInt8(ascii: "$"):
                guard let n = Int(rest) else { throw .unreachable("bad bulk length \(rest)") }
                if n < 0 { return .bulk(nil) }
                while buffer.count - at < n + 2 { try fill() }
                defer { at += n + 2 }
                return .bulk(Array(buffer[at..<(at + n)]))
            case UInt8(ascii: "*"):
                guard let n = Int(rest) else { throw .unreachable("bad array length \(rest)") }
                if n < 0 { return .array(nil) }
                var items: [RESPValue] = []
                for _ in 0..<n { items.append(try value()) }
                return .array(items)
            default:
                throw .unreachable("unexpected reply type \(Character(UnicodeScalar(kind)))")
            }
        }
    }
}
