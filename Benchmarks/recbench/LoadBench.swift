import Foundation
import CEpoll
import RecCore
#if canImport(Glibc)
import Glibc
#endif

/// `recbench load`: drives a running recd (or anything speaking its
/// protocol) over N connections with a mix of commands on real ids.
///
/// Closed loop by default: each connection keeps `pipeline` requests in
/// flight. With `--rate R` it is open loop: requests are due on a fixed
/// schedule (R per second over all connections) and latency is measured from
/// when a request was due, not when it could be sent, so a server stall
/// shows up in the percentiles instead of silently slowing the client
/// (coordinated omission).
enum LoadBench {
    struct Settings: Sendable {
        var host = "127.0.0.1"
        var port = 7070
        var connections = 50
        var threads = 1
        var pipeline = 1
        var resp = true
        var durationNs: UInt64 = 10_000_000_000
        var requests: Int?
        var rate: Double?
    }

    final class Connection {
        let fd: Int32
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var start = 0, end = 0
        /// In-flight requests, oldest first: kind and when it was due/sent.
        var kinds: [Int]
        var due: [UInt64]
        var head = 0, inFlight = 0
        var nextDue: UInt64 = 0
        var cursor: Int

        init(fd: Int32, pipeline: Int, cursor: Int) {
            self.fd = fd
            kinds = [Int](repeating: 0, count: pipeline)
            due = [UInt64](repeating: 0, count: pipeline)
            self.cursor = cursor
        }
    }

    /// One client thread's results.
    final class Results: @unchecked Sendable {  // written by its thread, read after join
        var histograms = [LatencyHistogram](repeating: LatencyHistogram(), count: RequestPool.Kind.allCases.count)
        var errors = [Int](repeating: 0, count: RequestPool.Kind.allCases.count)
        var failure: String?
    }

    static func run(_ options: Options) {
        var s = Settings()
        s.host = options.string("host") ?? s.host
        s.port = options.int("port", s.port)
        s.connections = max(1, options.int("connections", s.connections))
        s.threads = max(1, min(s.connections, options.int("threads", s.threads)))
        s.pipeline = max(1, options.int("pipeline", s.pipeline))
        let dialect = options.string("dialect") ?? "resp"
        guard dialect == "resp" || dialect == "line" else { Options.fail("--dialect must be resp or line") }
        s.resp = dialect == "resp"
        if let d = options.string("duration") {
            guard let secs = Double(d), secs > 0 else { Options.fail("--duration must be seconds > 0") }
            s.durationNs = UInt64(secs * 1e9)
        }
        if options.string("requests") != nil { s.requests = max(1, options.int("requests", 0)) }
        if let r = options.string("rate") {
            guard let rate = Double(r), rate > 0 else { Options.fail("--rate must be requests per second > 0") }
            s.rate = rate
        }
        guard let mix = RequestPool.parseMix(options.string("mix") ?? "sim:40,rec:50,session:10") else {
            Options.fail("--mix: like sim:40,rec:50,session:10 (sim, rec, session, popular, zrevrange, event)")
        }
        let snapshotDir = options.required("snapshot")
        let snapshot: Snapshot
        do { snapshot = try SnapshotLoader.load(directory: snapshotDir) } catch { Options.fail(error.description) }
        let pool = RequestPool(snapshot: snapshot, mix: mix, k: options.int("k", 10), resp: s.resp)
        let json = options.flag("json")

        let results = (0..<s.threads).map { _ in Results() }
        let group = DispatchGroup()
        let begin = Measure.now()
        for t in 0..<s.threads {
            let share = s.connections / s.threads + (t < s.connections % s.threads ? 1 : 0)
            let budget = s.requests.map { $0 / s.threads + (t < $0 % s.threads ? 1 : 0) }
            group.enter()
            let settings = s
            Thread {
                drive(settings, connections: share, budget: budget, pool: pool, seed: t, results: results[t])
                group.leave()
            }.start()
        }
        group.wait()
        let elapsed = Double(Measure.now() - begin) / 1e9
        if let failure = results.compactMap(\.failure).first { Options.fail(failure) }
        report(s, mix: mix, results: results, elapsed: elapsed, json: json)
    }

    static func connect(_ s: Settings) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(s.port).bigEndian
        guard inet_pton(AF_INET, s.host, &addr.sin_addr) == 1 else { close(fd); return nil }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func drive(_ s: Settings, connections n: Int, budget: Int?, pool: RequestPool, seed: Int, results: Results) {
        var conns: [Connection] = []
        for c in 0..<n {
            guard let fd = connect(s) else {
                results.failure = "cannot connect to \(s.host):\(s.port)"
                for conn in conns { close(conn.fd) }
                return
            }
            conns.append(Connection(fd: fd, pipeline: s.pipeline, cursor: (seed * 7919 + c * 104_729) % 1_000_003))
        }
        defer { for c in conns { close(c.fd) } }
        _ = crecd_set_timer_slack(1_000)  // the open loop's sleeps end when the send is due
        // epoll, not poll: poll walked all connections' sockets on every
        // call, so the client spent more CPU per request than the server.
        let epfd = cepoll_create()
        defer { close(epfd) }
        var byFd = [Int](repeating: -1, count: Int(conns.map(\.fd).max() ?? 0) + 1)
        for (i, c) in conns.enumerated() {
            byFd[Int(c.fd)] = i
            _ = cepoll_ctl(epfd, CEPOLL_CTL_ADD, c.fd, CEPOLL_IN)
        }
        var readyFds = [Int32](repeating: 0, count: max(1, n))
        var readyEvents = [UInt32](repeating: 0, count: max(1, n))
        let start = Measure.now()
        // Open loop: each connection gets rate / connections per second, staggered.
        let interval: UInt64 = s.rate.map { UInt64(1e9 * Double(s.connections) / $0) } ?? 0
        for (i, c) in conns.enumerated() { c.nextDue = start + (interval * UInt64(i)) / UInt64(max(1, n)) }
        var sent = 0, received = 0
        let limit = budget ?? Int.max
        while true {
            let now = Measure.now()
            let timeUp = budget == nil && now - start >= s.durationNs
            if (timeUp || sent >= limit) && received == sent { break }
            if timeUp && now - start >= s.durationNs + 5_000_000_000 { break }  // replies that never come
            for c in conns where !timeUp && sent < limit {
                while c.inFlight < s.pipeline && sent < limit && (interval == 0 || c.nextDue <= now) {
                    let kind = pool.schedule[c.cursor % pool.schedule.count]
                    let list = pool.requests[kind.rawValue]
                    let request = list[(c.cursor / pool.schedule.count) % list.count]
                    c.cursor &+= 1
                    let slot = (c.head + c.inFlight) % s.pipeline
                    c.kinds[slot] = kind.rawValue
                    c.due[slot] = interval == 0 ? now : c.nextDue
                    c.nextDue += interval
                    c.inFlight += 1
                    sent += 1
                    if !sendAll(c.fd, request) {
                        results.failure = "connection closed by the server"
                        return
                    }
                }
            }
            // Open loop sleeps until the next send is due (or a reply comes),
            // to the nanosecond: spinning took a core from the server under test.
            var timeoutNs: Int64 = 100_000_000
            if interval > 0 {
                var next = UInt64.max
                for c in conns where c.nextDue < next { next = c.nextDue }
                timeoutNs = next > now ? Int64(min(100_000_000, next - now)) : 0
            }
            let ready = crecd_epoll_wait_ns(epfd, &readyFds, &readyEvents, Int32(readyFds.count), timeoutNs)
            if ready <= 0 { continue }
            let arrived = Measure.now()
            for r in 0..<Int(ready) {
                received += receive(conns[byFd[Int(readyFds[r])]], s, arrived: arrived, results: results)
                if results.failure != nil { return }
            }
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }

    /// Reads what arrived and records each complete reply; returns how many.
    static func receive(_ c: Connection, _ s: Settings, arrived: UInt64, results: Results) -> Int {
        if c.start > 0 && c.start == c.end { c.start = 0; c.end = 0 }
        if c.end == c.buffer.count {
            if c.start > 0 {
                c.buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + c.start, c.end - c.start)
                }
                c.end -= c.start
                c.start = 0
            } else {
                c.buffer.append(contentsOf: repeatElement(0, count: c.buffer.count))
            }
        }
        let n = c.buffer.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress! + c.end, $0.count - c.end, 0) }
        if n <= 0 {
            if n < 0 && errno == EINTR { return 0 }
            results.failure = "connection closed by the server"
            return 0
        }
        c.end += n
        var count = 0
        c.buffer.withUnsafeBufferPointer { whole in
            let b = UnsafeBufferPointer(rebasing: whole[0..<c.end])
            while c.inFlight > 0, case .reply(let end, let isError) = ReplyScanner.scan(b, from: c.start, resp: s.resp) {
                let kind = c.kinds[c.head]
                results.histograms[kind].record(arrived > c.due[c.head] ? arrived - c.due[c.head] : 0)
                if isError { results.errors[kind] += 1 }
                c.head = (c.head + 1) % s.pipeline
                c.inFlight -= 1
                c.start = end
                count += 1
            }
        }
        return count
    }

    static func report(_ s: Settings, mix: [(RequestPool.Kind, Int)], results: [Results], elapsed: Double, json: Bool) {
        var rows: [(name: String, histogram: LatencyHistogram, errors: Int)] = []
        var all = LatencyHistogram()
        var allErrors = 0
        for (kind, _) in mix {
            var h = LatencyHistogram()
            var errors = 0
            for r in results {
                h.add(r.histograms[kind.rawValue])
                errors += r.errors[kind.rawValue]
            }
            all.add(h)
            allErrors += errors
            rows.append((kind.name, h, errors))
        }
        rows.append(("ALL", all, allErrors))
        let throughput = Double(all.total) / elapsed
        let ms = { (v: UInt64) in Double(v) / 1e6 }
        let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)]
        if json {
            let commands = rows.map { row in
                let fields = percentiles.map { "\"\($0.0)_ms\":\(ms(row.histogram.percentile($0.1)))" }.joined(separator: ",")
                return "\"\(row.name)\":{\"requests\":\(row.histogram.total),\"errors\":\(row.errors),\(fields),\"max_ms\":\(ms(row.histogram.maxValue))}"
            }
            print("{\"host\":\"\(s.host)\",\"port\":\(s.port),\"dialect\":\"\(s.resp ? "resp" : "line")\",\"connections\":\(s.connections),"
                  + "\"pipeline\":\(s.pipeline),\"rate\":\(s.rate.map { String($0) } ?? "null"),\"seconds\":\(elapsed),"
                  + "\"throughput\":\(throughput),\"commands\":{\(commands.joined(separator: ","))}}")
            return
        }
        print("recbench load: \(s.host):\(s.port) \(s.resp ? "resp" : "line"), \(s.connections) connections on \(s.threads) thread(s), pipeline \(s.pipeline), "
              + (s.rate.map { "open loop at \(Int($0)) req/s (latency from the scheduled send)" } ?? "closed loop")
              + ", \(Measure.format(elapsed, 2)) s")
        print("command".padded(10) + "requests".padded(11) + "errors".padded(8)
              + percentiles.map { ($0.0 + " ms").padded(10) }.joined() + "max ms")
        for row in rows {
            print(row.name.padded(10) + String(row.histogram.total).padded(11) + String(row.errors).padded(8)
                  + percentiles.map { Measure.format(ms(row.histogram.percentile($0.1)), 3).padded(10) }.joined()
                  + Measure.format(ms(row.histogram.maxValue), 3))
        }
        print("throughput \(Measure.format(throughput, 0)) requests/s")
    }
}
