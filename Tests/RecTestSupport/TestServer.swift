import Foundation
import RecCore
import RecServer
#if canImport(Glibc)
import Glibc
#endif

/// A real server on an ephemeral loopback port, for end-to-end tests.
public final class TestServer: @unchecked Sendable {  // immutable after init
    public let server: Server
    public let port: Int

    public init(index: RecIndex, configure: (inout ServerConfig) -> Void = { _ in }) throws {
        var config = ServerConfig()
        config.port = 0
        config.threads = 2
        configure(&config)
        server = Server(config: config, store: IndexStore(index))
        port = try server.start()
    }

    /// A server with live state (EVENT, RELOAD, ...) over `live`.
    public init(live: LiveService, cluster: ClusterState? = nil) throws {
        server = Server(live: live, cluster: cluster)
        port = try server.start()
    }

    deinit { server.stop() }

    public func connect() throws -> TestClient { try TestClient(port: port) }
}

/// A blocking TCP client with a receive timeout. Bytes that arrive past the
/// reply being read stay buffered for the next read, as pipelined replies do.
public final class TestClient: @unchecked Sendable {  // one fd; tests use it from one thread at a time
    public let fd: Int32
    private var pending: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 65536)

    public init(port: Int, timeoutSeconds: Int = 5) throws {
        // The socket becomes `fd` only once connected: a class whose stored
        // properties are all set runs its deinit when init throws, and a
        // second close of the same number could close another thread's fd
        // (the in-process server's own sockets, as the fuzz test found).
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            close(s)
            throw POSIXError(.ECONNREFUSED)
        }
        fd = s
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// One recv into `pending`: the byte count, 0 when the peer closed, -1 on timeout or error.
    @discardableResult
    private func receive() -> Int {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { pending.append(contentsOf: chunk[0..<n]) }
        return n
    }

    /// Reads `count` newline-terminated lines (line dialect replies); fewer if the peer
    /// closes or the timeout passes first.
    public func readLines(_ count: Int) -> [String] {
        var lines: [String] = []
        var start = 0, scanned = 0
        while lines.count < count {
            if scanned == pending.count {
                if receive() <= 0 { break }
                continue
            }
            if pending[scanned] == 0x0A {
                lines.append(String(decoding: pending[start..<scanned], as: UTF8.self))
                start = scanned + 1
            }
            scanned += 1
        }
        pending.removeFirst(start)
        return lines
    }

    /// Reads until the peer closes the connection (or the timeout); true if it closed.
    public func readUntilClosed() -> (bytes: [UInt8], closed: Bool) {
        var closed = false
        while true {
            let n = receive()
            if n == 0 { closed = true }
            if n <= 0 { break }
        }
        defer { pending.removeAll() }
        return (pending, closed)
    }

    /// Reads one complete RESP value (recursively for arrays).
    public func readRESP() -> RESPValue? {
        while true {
            if let (value, used) = RESPValue.parse(pending, 0) {
                pending.removeFirst(used)
                return value
            }
            if receive() <= 0 { return nil }
        }
    }
}

/// A decoded RESP reply, for assertions.
public indirect enum RESPValue: Equatable, CustomStringConvertible {
    case simple(String)
    case error(String)
    case integer(Int)
    case bulk(String?)
    case array([RESPValue])
    /// RESP3: `%` (keys and values in turn), `~`, `,`, `_`, `#`, `=` (without its `txt:`).
    case map([RESPValue])
    case set([RESPValue])
    case double(String)
    case null
    case boolean(Bool)
    case verbatim(String)

    public var description: String {
        switch self {
        case .simple(let s): "+\(s)"
        case .error(let s): "-\(s)"
        case .integer(let i): ":\(i)"
        case .bulk(let s): s.map { "\"\($0)\"" } ?? "nil"
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .map(let a): "{" + a.map(\.description).joined(separator: ", ") + "}"
        case .set(let a): "~[" + a.map(\.description).joined(separator: ", ") + "]"
        case .double(let d): ",\(d)"
        case .null: "_"
        case .boolean(let b): b ? "#t" : "#f"
        case .verbatim(let s): "=\"\(s)\""
        }
    }

    /// Bulk strings of an array reply.
    public var strings: [String] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap { if case .bulk(let s) = $0 { return s } else { return nil } }
    }

    public static func parse(_ b: [UInt8], _ at: Int) -> (RESPValue, Int)? {
        guard at < b.count, let crlf = findCRLF(b, at) else { return nil }
        let line = String(decoding: b[(at + 1)..<crlf], as: UTF8.self)
        let next = crlf + 2
        switch b[at] {
        case UInt8(ascii: "+"): return (.simple(line), next)
        case UInt8(ascii: "-"): return (.error(line), next)
        case UInt8(ascii: ":"): return (.integer(Int(line) ?? 0), next)
        case UInt8(ascii: "$"):
            let n = Int(line) ?? -1
            if n < 0 { return (.bulk(nil), next) }
            guard next + n + 2 <= b.count else { return nil }
            return (.bulk(String(decoding: b[next..<(next + n)], as: UTF8.self)), next + n + 2)
        case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"):
            guard let count = Int(line) else { return nil }
            let n = b[at] == UInt8(ascii: "%") ? 2 * count : count
            var items: [RESPValue] = []
            var p = next
            for _ in 0..<max(0, n) {
                guard let (v, q) = parse(b, p) else { return nil }
                items.append(v)
                p = q
            }
            switch b[at] {
            case UInt8(ascii: "%"): return (.map(items), p)
            case UInt8(ascii: "~"): return (.set(items), p)
            default: return (.array(items), p)
            }
        case UInt8(ascii: ","): return (.double(line), next)
        case UInt8(ascii: "_"): return line.isEmpty ? (.null, next) : nil
        case UInt8(ascii: "#"): return line == "t" || line == "f" ? (.boolean(line == "t"), next) : nil
        case UInt8(ascii: "="):
            guard let n = Int(line), n >= 4, next + n + 2 <= b.count else { return nil }
            return (.verbatim(String(decoding: b[(next + 4)..<(next + n)], as: UTF8.self)), next + n + 2)
        default: return nil
        }
    }

    static func findCRLF(_ b: [UInt8], _ from: Int) -> Int? {
        var i = from
        while i + 1 < b.count {
            if b[i] == 0x0D && b[i + 1] == 0x0A { return i }
            i += 1
        }
        return nil
    }
}

/// Encodes a command as a RESP multibulk, as client libraries send it.
public func resp(_ args: String...) -> [UInt8] {
    var out = Array("*\(args.count)\r\n".utf8)
    for a in args {
        out += Array("$\(a.utf8.count)\r\n".utf8) + Array(a.utf8) + [0x0D, 0x0A]
    }
    return out
}

/// A port nothing listens on right now (bound to 0, read back, released), for
/// servers started in a child process or on a second port.
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let status = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            bind(fd, p, length) == 0 ? getsockname(fd, p, &length) : -1
        }
    }
    precondition(status == 0, "freePort: cannot bind a loopback socket (errno \(errno))")
    return Int(UInt16(bigEndian: addr.sin_port))
}
