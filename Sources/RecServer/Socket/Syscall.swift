import CEpoll
#if canImport(Glibc)
import Glibc
#endif

/// Outcome of a non-blocking read or write.
enum IOResult: Equatable {
    case bytes(Int)
    /// EAGAIN: nothing more now; wait for the selector.
    case wouldBlock
    /// The peer closed (read returned 0).
    case eof
    case failed(Int32)
}

/// Every socket syscall goes through here: EINTR is retried, EAGAIN becomes
/// `.wouldBlock`, and other failures carry their errno.
enum Syscall {
    /// `host:port` of the socket's peer or its own end, for CLIENT LIST.
    static func address(of fd: Int32, peer: Bool) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return "?" }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST)), service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let ok = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard ok == 0 else { return "?" }
        return String(cString: host) + ":" + String(cString: service)
    }

    /// Half-close: the peer reads to the end of what was sent, then EOF.
    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .eof }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            return .failed(e)
        }
    }

    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> IOResult {
        while true {
            // MSG_NOSIGNAL: a peer that vanished must give EPIPE, not kill the daemon.
            let n = Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .bytes(n) }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            return .failed(e)
        }
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec socket.
    static func accept(_ listener: Int32) -> Result<Int32?, SocketError> {
        while true {
            let fd = cepoll_accept4(listener, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            if fd >= 0 { return .success(fd) }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .success(nil)
            // The client gave up between SYN and accept: not our failure.
            case ECONNABORTED, EPROTO: continue
            default: return .failure(SocketError("accept4", errno: e))
            }
        }
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
