import Foundation
import RecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The optional HTTP admin port: `GET /metrics` (Prometheus text) and
/// `GET /healthz`. Scraped every few seconds by one or two clients, so one
/// thread serving one request at a time is enough, and it never touches the
/// event loops.
final class AdminServer: @unchecked Sendable {  // the listener is immutable; `stopping` is atomic
    let listener: ListeningSocket
    let render: @Sendable () -> String
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(host: String, port: Int, render: @escaping @Sendable () -> String) throws(SocketError) {
        listener = try ListeningSocket(host: host, port: port, backlog: 16)
        self.render = render
    }

    var port: Int { listener.port }

    func start() {
        let thread = Thread { [self] in
            while !stopping.load(ordering: .relaxed) {
                var p = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 200) <= 0 { continue }
                if case .success(let fd?) = Syscall.accept(listener.fd) { serve(fd) }
            }
            finished.signal()
        }
        thread.name = "recd-admin"
        thread.start()
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
        listener.close()
    }

    /// Reads one request head (2 s at most), answers, closes.
    func serve(_ fd: Int32) {
        defer { Glibc.close(fd) }
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(2)
        while request.count < 8192 && !request.ends(with: [0x0D, 0x0A, 0x0D, 0x0A]) && Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            request += chunk[0..<n]
        }
        let line = String(decoding: request.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self).split(separator: " ")
        let (status, body, type): (String, String, String)
        if line.count >= 2 && line[0] == "GET" && (line[1] == "/metrics" || line[1].hasPrefix("/metrics?")) {
            (status, body, type) = ("200 OK", render(), "text/plain; version=0.0.4")
        } else if line.count >= 2 && line[0] == "GET" && line[1] == "/healthz" {
            (status, body, type) = ("200 OK", "ok\n", "text/plain")
        } else if line.count >= 2 && line[0] != "GET" {
            (status, body, type) = ("405 Method Not Allowed", "only GET\n", "text/plain")
        } else {
            (status, body, type) = ("404 Not Found", "try /metrics or /healthz\n", "text/plain")
        }
        let response = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        var sent = 0
        while sent < response.count {
            let n = response.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&p, 1, 1000) <= 0 { return }
                continue
            }
            return
        }
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
