import CEpoll
#if canImport(Glibc)
import Glibc
#endif

/// Readiness events from epoll, level-triggered, plus an eventfd so another
/// thread can wake the loop (for shutdown).
final class Selector {
    struct Interest: OptionSet {
        let rawValue: UInt32
        static let read = Interest(rawValue: CEPOLL_IN | CEPOLL_RDHUP)
        static let write = Interest(rawValue: CEPOLL_OUT)
        /// The shared listener: wake one loop per connection, not all of them.
        /// (EPOLLEXCLUSIVE refuses EPOLLRDHUP, hence plain EPOLLIN.)
        static let acceptExclusive = Interest(rawValue: CEPOLL_IN | CEPOLL_EXCLUSIVE)
    }

    let epfd: Int32
    let wakeFd: Int32
    private(set) var readyFds = [Int32](repeating: 0, count: 256)
    private(set) var readyEvents = [UInt32](repeating: 0, count: 256)

    init() throws(SocketError) {
        epfd = cepoll_create()
        if epfd < 0 { throw .failed("epoll_create1") }
        wakeFd = cepoll_eventfd()
        if wakeFd < 0 { throw .failed("eventfd") }
        try add(wakeFd, .read)
    }

    deinit {
        close(wakeFd)
        close(epfd)
    }

    func add(_ fd: Int32, _ interest: Interest) throws(SocketError) {
        if cepoll_ctl(epfd, CEPOLL_CTL_ADD, fd, interest.rawValue) != 0 { throw .failed("epoll_ctl(ADD)") }
    }

    func modify(_ fd: Int32, _ interest: Interest) {
        _ = cepoll_ctl(epfd, CEPOLL_CTL_MOD, fd, interest.rawValue)
    }

    func remove(_ fd: Int32) {
        _ = cepoll_ctl(epfd, CEPOLL_CTL_DEL, fd, 0)
    }

    /// Blocks up to `timeoutMs` (-1: forever). Returns how many entries of
    /// `readyFds`/`readyEvents` are valid.
    func wait(timeoutMs: Int32) -> Int {
        let n = readyFds.withUnsafeMutableBufferPointer { fds in
            readyEvents.withUnsafeMutableBufferPointer { evs in
                cepoll_wait(epfd, fds.baseAddress, evs.baseAddress, Int32(fds.count), timeoutMs)
            }
        }
        // EINTR (a signal arrived) is an empty wake-up, not an error.
        return n < 0 ? 0 : Int(n)
    }

    /// Callable from any thread.
    func wakeUp() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFd, &one, 8)
    }

    func drainWake() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFd, &value, 8)
    }

    static func isReadable(_ events: UInt32) -> Bool { events & (CEPOLL_IN | CEPOLL_HUP | CEPOLL_ERR | CEPOLL_RDHUP) != 0 }
    static func isWritable(_ events: UInt32) -> Bool { events & (CEPOLL_OUT | CEPOLL_ERR | CEPOLL_HUP) != 0 }
}
