import Foundation
import RecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A node's connection to another: a primary's per-user writes to its
/// replicas, and catalog changes (ITEM) to every node, sent as the commands
/// themselves (RESP); the client is acknowledged only after the other node
/// answered, so a replica promoted by a new epoch holds every acknowledged
/// write. The connection first says `CLUSTER
/// REPLICATING`, so the replica applies writes for slots it does not own.
/// One request at a time; connect and reply are bounded by `timeout`.
final class ReplicaLink: Sendable {
    let address: String
    let timeoutMs: Int
    private let fd = Mutex<Int32>(-1)

    init(address: String, timeoutMs: Int) {
        self.address = address
        self.timeoutMs = timeoutMs
    }

    deinit { fd.withLock { if $0 >= 0 { close($0) } } }

    enum Failure: Error { case unreachable(String) }

    /// Sends `args` as one RESP command and reads the one-line reply; an
    /// error reply from the replica is a failure too.
    func send(_ args: [[UInt8]]) throws(Failure) {
        try fd.withLock { (fd: inout Int32) throws(Failure) in
            if fd < 0 {
                fd = try connect()
                do { try roundTrip(fd, [Array("CLUSTER".utf8), Array("REPLICATING".utf8)]) } catch let e as Failure {
                    close(fd)
                    fd = -1
                    throw e
                } catch { throw .unreachable("\(error)") }
            }
            do { try roundTrip(fd, args) } catch let e as Failure {
                close(fd)
                fd = -1
                throw e
            } catch { throw .unreachable("\(error)") }
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

    private func roundTrip(_ fd: Int32, _ args: [[UInt8]]) throws(Failure) {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [0x0D, 0x0A]
        }
        var sent = 0
        while sent < out.count {
            let n = out.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                throw .unreachable("send: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
        // The replies used here are one line: +OK or -ERR ...
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.last != 0x0A {
            let n = recv(fd, &byte, 1, 0)
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                throw .unreachable(n == 0 ? "closed" : "no reply within \(timeoutMs) ms")
            }
            line.append(byte)
        }
        if line.first == UInt8(ascii: "-") { throw .unreachable("refused: " + String(decoding: line.dropLast(2), as: UTF8.self)) }
    }
}
