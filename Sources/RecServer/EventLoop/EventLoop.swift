import Dispatch
import CEpoll
import RecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread's share of the connections: an epoll selector, the connections
/// it accepted, and a command handler with its own query scratch.
///
/// All loops watch the one listening socket (EPOLLEXCLUSIVE wakes only one
/// per new connection); a connection then stays on the loop that accepted it,
/// so no connection state is ever shared between threads.
final class EventLoop: @unchecked Sendable {
    // @unchecked: everything but `stopping` and the selector's wake-up is
    // touched only by the loop's own thread, inside `run()`.
    let selector: Selector
    let listener: ListeningSocket
    /// The settings now in force (`CONFIG SET` changes them; the handler
    /// refreshes its copy per command).
    var config: ServerConfig { handler.config }
    let stats: ServerStats
    let clients: ClientRegistry
    let handler: CommandHandler
    private let stopping = Atomic<Bool>(false)
    /// Connections by file descriptor (fds are small, dense integers).
    private var connections: [Connection?] = []

    /// Stop reading a client's requests while this much of its output is unsent.
    static let outputHighWater = 256 * 1024
    static let readsPerWakeup = 8
    /// How long a closing connection's unread input is drained (nginx's
    /// lingering_time is 30 s; a client that still sends after an error
    /// reply has had this long to read it).
    static let lingerSeconds = 2
    /// Connections now lingering, so the once-a-second scan knows to look.
    private var lingering = 0

    /// Connections whose replies wait for the log's fsync, and the highest
    /// ticket among them: one fdatasync at the end of the batch covers all
    /// (group commit, as Redis's beforeSleep does for appendfsync always).
    private var awaitingSync: [Connection] = []
    private var awaitingReplicas: [Connection] = []
    private var syncTicket: UInt64 = 0

    /// Replies computed off the loop, waiting to be queued on their connection.
    private let finished = Mutex<[(fd: Int32, serial: UInt64, bytes: [UInt8])]>([])
    /// Connections CLIENT KILL asked this loop to close.
    private let kills = Mutex<[(fd: Int32, serial: UInt64)]>([])
    private var nextSerial: UInt64 = 0

    init(listener: ListeningSocket, runtime: RuntimeConfig, stats: ServerStats, store: IndexStore,
         live: LiveService? = nil, clients: ClientRegistry, cluster: ClusterState? = nil) throws(SocketError) {
        self.selector = try Selector()
        self.listener = listener
        self.stats = stats
        self.clients = clients
        self.handler = CommandHandler(runtime: runtime, stats: stats, store: store, live: live, clients: clients, cluster: cluster)
        try selector.add(listener.fd, .acceptExclusive)
        cluster?.onAcknowledged { [weak self] in self?.selector.wakeUp() }
    }

    /// Asks the loop to finish; callable from any thread.
    func stop() {
        stopping.store(true, ordering: .releasing)
        selector.wakeUp()
    }

    /// The loop body. Runs on the loop's own thread until `stop()`.
    func run() {
        while !stopping.load(ordering: .acquiring) {
            let n = selector.wait(timeoutMs: handler.statsPending ? 1 : 1000)
            closeIdle()
            if n == 0 {
                if handler.statsPending { handler.endBatch() }
                continue
            }
            for e in 0..<n {
                let fd = selector.readyFds[e], events = selector.readyEvents[e]
                if fd == listener.fd {
                    acceptPending()
                } else if fd == selector.wakeFd {
                    selector.drainWake()
                    deliverFinished()
                    closeKilled()
                } else if Int(fd) < connections.count, let conn = connections[Int(fd)] {
                    service(conn, events)
                }
            }
            syncAwaiting()
            releaseReplicated()
            handler.endBatch()
        }
        // Graceful: stop accepting, then give replies already computed a
        // short while to drain before closing.
        selector.remove(listener.fd)
        handler.live?.log.syncIfDirty()
        for conn in awaitingSync { conn.durableTicket = 0 }
        // Replies a replica has not acknowledged are never sent.
        for conn in awaitingReplicas where conn.replicaWaits.contains(where: { !$0.isAcknowledged }) { close(conn) }
        let deadline = MonotonicClock.seconds() + 2
        for case let conn? in connections {
            while conn.pendingOutput > 0 && MonotonicClock.seconds() <= deadline {
                if !flush(conn) { break }
                if conn.pendingOutput > 0 { usleep(1000) }
            }
            close(conn)
        }
        connections.removeAll()
    }

    func acceptPending() {
        for _ in 0..<64 {
            switch Syscall.accept(listener.fd) {
            case .failure(let error):
                // EMFILE and the like: log and let the next wake-up retry.
                Log.warn("accept_failed", ["error": error.description])
                return
            case .success(nil):
                return
            case .success(let fd?):
                stats.totalConnections.add(1, ordering: .relaxed)
                if stats.connectedClients.add(1, ordering: .relaxed).newValue > config.maxClients {
                    stats.connectedClients.subtract(1, ordering: .relaxed)
                    stats.rejectedConnections.add(1, ordering: .relaxed)
                    let message = Array("-ERR MAXCLIENTS max number of clients reached (maxclients \(config.maxClients))\r\n".utf8)
                    _ = message.withUnsafeBytes { Syscall.write(fd, $0.baseAddress!, $0.count) }
                    Glibc.close(fd)
                    continue
                }
                Syscall.setNoDelay(fd)
                nextSerial += 1
                let now = MonotonicClock.seconds()
                let record = ClientRecord(id: clients.newId(), address: Syscall.address(of: fd, peer: true),
                                          localAddress: Syscall.address(of: fd, peer: false), fd: fd, serial: nextSerial,
                                          now: now, owner: self)
                clients.add(record)
                let conn = Connection(fd: fd, serial: nextSerial,
                                      client: ClientState(record: record, authenticated: config.requirePass.isEmpty), now: now)
                if Int(fd) >= connections.count {
                    connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count + 64))
                }
                connections[Int(fd)] = conn
                do {
                    try selector.add(fd, .read)
                } catch {
                    Log.warn("register_failed", ["error": error.description])
                    close(conn)
                }
            }
        }
    }

    func service(_ conn: Connection, _ events: UInt32) {
        if conn.lingerUntil > 0 {
            drainLingering(conn)
            return
        }
        if Selector.isReadable(events) && !conn.closeWhenFlushed && !conn.awaitingReply && conn.pendingOutput < EventLoop.outputHighWater {
            readAvailable(conn)
        }
        // Requests already buffered (held back by backpressure, or pipelined
        // past the last read) must run even if the client sends nothing more.
        while true {
            if !flushDurable(conn) { return }
            guard conn.inStart < conn.inEnd, !conn.closeWhenFlushed, !conn.awaitingReply,
                  conn.pendingOutput < EventLoop.outputHighWater else { break }
            let before = conn.inStart
            processInput(conn)
            if conn.inStart == before && !conn.closeWhenFlushed { break }  // an incomplete frame
        }
        if conn.pendingOutput == 0 && (conn.closeWhenFlushed || conn.peerClosed) && !conn.awaitingReply {
            if conn.closeWhenFlushed && !conn.peerClosed { startLingering(conn) } else { close(conn) }
            return
        }
        updateInterest(conn)
    }

    /// Closing while the client's unread input is still queued makes the
    /// kernel send RST, which can destroy the last reply (an `ERR PROTOCOL`)
    /// before the client reads it. So, as nginx's lingering close: shut down
    /// the write side (the client sees the reply, then end of stream), read
    /// and discard what still arrives until the client closes or
    /// `lingerSeconds` pass, then close.
    func startLingering(_ conn: Connection) {
        Syscall.shutdownWrite(conn.fd)
        conn.lingerUntil = MonotonicClock.seconds() + EventLoop.lingerSeconds
        conn.inStart = 0
        conn.inEnd = 0
        lingering += 1
        if conn.interest != Selector.Interest.read.rawValue {
            selector.modify(conn.fd, .read)
            conn.interest = Selector.Interest.read.rawValue
        }
        drainLingering(conn)
    }

    /// Discards a lingering connection's input; closes at its end or deadline.
    func drainLingering(_ conn: Connection) {
        for _ in 0..<EventLoop.readsPerWakeup {
            let result = conn.input.withUnsafeMutableBytes { raw in Syscall.read(conn.fd, raw.baseAddress!, raw.count) }
            switch result {
            case .bytes: continue
            case .wouldBlock:
                if MonotonicClock.seconds() > conn.lingerUntil { close(conn) }
                return
            case .eof, .failed:
                close(conn)
                return
            }
        }
        if MonotonicClock.seconds() > conn.lingerUntil { close(conn) }
    }

    func readAvailable(_ conn: Connection) {
        let limit = max(config.limits.maxLineBytes, config.limits.maxRequestBytes) + 64
        for _ in 0..<EventLoop.readsPerWakeup {
            guard conn.prepareInput(limit: limit) else {
                fail(conn, .requestTooLarge(limit: config.limits.maxRequestBytes))
                return
            }
            let room = conn.input.count - conn.inEnd
            let result = conn.input.withUnsafeMutableBytes { raw in
                Syscall.read(conn.fd, raw.baseAddress! + conn.inEnd, room)
            }
            switch result {
            case .bytes(let n):
                conn.lastActive = MonotonicClock.seconds()
                conn.client.record.lastActive.store(conn.lastActive, ordering: .relaxed)
                if conn.dialect == nil { conn.dialect = Dialect.detect(firstByte: conn.input[conn.inEnd]) }
                conn.inEnd += n
                processInput(conn)
                if conn.closeWhenFlushed || conn.pendingOutput >= EventLoop.outputHighWater { return }
                // A short read emptied the socket; epoll is level-triggered and
                // says when more comes, so no second read just to hear EAGAIN.
                if n < room { return }
            case .wouldBlock:
                return
            case .eof:
                conn.peerClosed = true
                return
            case .failed:
                conn.peerClosed = true
                conn.inStart = conn.inEnd
                return
            }
        }
    }

    /// Decodes and runs every complete command buffered, replies in order.
    func processInput(_ conn: Connection) {
        guard let dialect = conn.dialect else { return }
        let limits = config.limits
        conn.input.withUnsafeMutableBufferPointer { buffer in
            while conn.inStart < conn.inEnd && !conn.closeWhenFlushed && !conn.awaitingReply
                && conn.pendingOutput < EventLoop.outputHighWater {
                switch RequestParser.parse(buffer, from: conn.inStart, to: conn.inEnd, limits: limits, args: &conn.args) {
                case .incomplete:
                    return
                case .failed(let error):
                    ReplyEncoder(dialect: dialect, resp3: conn.client.resp3).error("PROTOCOL", error.description, into: &conn.output)
                    conn.closeWhenFlushed = true
                    conn.inStart = conn.inEnd
                    logClientError(error.description)
                    return
                case .complete(let consumed):
                    conn.inStart += consumed
                    // Per command: HELLO may switch the protocol mid-batch.
                    let encoder = ReplyEncoder(dialect: dialect, resp3: conn.client.resp3)
                    switch handler.handle(conn.args, UnsafeBufferPointer(buffer), encoder, &conn.output, client: &conn.client) {
                    case .keepOpen: break
                    case .close: conn.closeWhenFlushed = true
                    case .deferred(let work): runDeferred(work, for: conn, encoder)
                    case .deferredReply(let work): runDeferred(work, for: conn)
                    }
                    if !handler.replicaWaits.isEmpty {
                        conn.replicaWaits += handler.replicaWaits
                        handler.replicaWaits.removeAll(keepingCapacity: true)
                    }
                    if handler.logTicket != 0 {
                        conn.durableTicket = handler.logTicket
                        handler.logTicket = 0
                    }
                }
            }
        }
    }

    /// Runs a slow command's work on a background queue; its reply comes
    /// back through `finished` and the loop's wake-up, in order.
    func runDeferred(_ work: @escaping @Sendable () -> Result<String, CommandError>, for conn: Connection,
                     _ encoder: ReplyEncoder) {
        runDeferred({
            var bytes: [UInt8] = []
            CommandHandler.encode(work(), encoder, into: &bytes)
            return bytes
        }, for: conn)
    }

    func runDeferred(_ work: @escaping @Sendable () -> [UInt8], for conn: Connection) {
        conn.awaitingReply = true
        let fd = conn.fd, serial = conn.serial
        DispatchQueue.global().async { [self] in
            let bytes = work()
            finished.withLock { $0.append((fd, serial, bytes)) }
            selector.wakeUp()
        }
    }

    /// Queues finished deferred replies and resumes their connections.
    func deliverFinished() {
        let ready = finished.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for r in ready {
            guard Int(r.fd) < connections.count, let conn = connections[Int(r.fd)], conn.serial == r.serial else { continue }
            conn.output.append(contentsOf: r.bytes)
            conn.awaitingReply = false
            service(conn, 0)
        }
    }

    /// Asks the loop to close a connection (CLIENT KILL); callable from any thread.
    func requestClose(fd: Int32, serial: UInt64) {
        kills.withLock { $0.append((fd, serial)) }
        selector.wakeUp()
    }

    /// Closes what `requestClose` asked for, once its pending replies are out.
    func closeKilled() {
        let list = kills.withLock { k in
            defer { k.removeAll() }
            return k
        }
        for k in list {
            guard Int(k.fd) < connections.count, let conn = connections[Int(k.fd)], conn.serial == k.serial else { continue }
            _ = flushDurable(conn)
            close(conn)
        }
    }

    func fail(_ conn: Connection, _ error: ProtocolError) {
        ReplyEncoder(dialect: conn.dialect ?? .line).error("PROTOCOL", error.description, into: &conn.output)
        logClientError(error.description)
        conn.closeWhenFlushed = true
        conn.inStart = conn.inEnd
    }

    /// Writes pending output, unless it acknowledges log records not yet
    /// on disk: then the connection joins the end-of-batch sync. Returns
    /// false if the connection was closed.
    func flushDurable(_ conn: Connection) -> Bool {
        if conn.durableTicket != 0 {
            if let log = handler.live?.log, !log.isDurable(conn.durableTicket) {
                syncTicket = max(syncTicket, conn.durableTicket)
                if !conn.awaitingSync {
                    conn.awaitingSync = true
                    awaitingSync.append(conn)
                }
                return true
            }
            conn.durableTicket = 0
        }
        if !conn.replicaWaits.isEmpty {
            if conn.replicaWaits.contains(where: { !$0.isAcknowledged }) {
                if !conn.awaitingReplicas {
                    conn.awaitingReplicas = true
                    awaitingReplicas.append(conn)
                }
                return true
            }
            conn.replicaWaits.removeAll(keepingCapacity: true)
        }
        return flush(conn)
    }

    /// Sends the replies whose replicas have acknowledged (their streams
    /// wake the loop); the others keep waiting.
    func releaseReplicated() {
        guard !awaitingReplicas.isEmpty else { return }
        let waiting = awaitingReplicas
        awaitingReplicas.removeAll(keepingCapacity: true)
        for conn in waiting {
            conn.awaitingReplicas = false
            guard Int(conn.fd) < connections.count, connections[Int(conn.fd)] === conn else { continue }
            service(conn, 0)
        }
    }

    /// One fdatasync for every connection waiting, then their replies go
    /// out (and their further pipelined commands run, which may wait again).
    /// If the disk fails them, their replies are never sent: the
    /// connections are closed, and the clients see no acknowledgement.
    func syncAwaiting() {
        guard let log = handler.live?.log else { return }
        while !awaitingSync.isEmpty {
            let waiting = awaitingSync, ticket = syncTicket
            awaitingSync.removeAll(keepingCapacity: true)
            syncTicket = 0
            var failed = false
            do { try log.sync(through: ticket) } catch {
                Log.error("event_log_sync_failed", ["error": error.description, "connections_closed": waiting.count])
                failed = true
            }
            for conn in waiting {
                conn.awaitingSync = false
                guard Int(conn.fd) < connections.count, connections[Int(conn.fd)] === conn else { continue }
                if failed { close(conn) } else { service(conn, 0) }
            }
        }
    }

    /// Writes pending output. Returns false if the connection was closed.
    func flush(_ conn: Connection) -> Bool {
        while conn.pendingOutput > 0 {
            let result = conn.output.withUnsafeBytes { raw in
                Syscall.write(conn.fd, raw.baseAddress! + conn.outSent, raw.count - conn.outSent)
            }
            switch result {
            case .bytes(let n):
                conn.consumedOutput(n)
                conn.lastOutputProgress = MonotonicClock.seconds()
            case .wouldBlock:
                return true
            case .eof, .failed:
                close(conn)
                return false
            }
        }
        return true
    }

    /// Level-triggered interest: write while output is pending; read unless
    /// the client is closing or over the output high-water mark.
    func updateInterest(_ conn: Connection) {
        let wantWrite = conn.pendingOutput > 0 && !conn.awaitingSync && !conn.awaitingReplicas
        let wantRead = !conn.closeWhenFlushed && !conn.peerClosed && !conn.awaitingReply
            && conn.pendingOutput < EventLoop.outputHighWater
        var interest: Selector.Interest = []
        if wantRead { interest.insert(.read) }
        if wantWrite { interest.insert(.write) }
        // Most services leave it as it was: then no epoll_ctl per request.
        if interest.rawValue != conn.interest {
            selector.modify(conn.fd, interest)
            conn.interest = interest.rawValue
        }
    }

    private var clientErrorSecond = 0
    private var clientErrorsSuppressed = 0

    /// Client errors (bad framing) are logged at most once a second per
    /// loop, with how many were left out, so a hostile client cannot flood
    /// the log.
    func logClientError(_ description: String) {
        let now = MonotonicClock.seconds()
        if now == clientErrorSecond {
            clientErrorsSuppressed += 1
            return
        }
        Log.warn("client_protocol_error", ["error": description, "suppressed_since_last": clientErrorsSuppressed])
        clientErrorSecond = now
        clientErrorsSuppressed = 0
    }

    private var lastIdleScan = 0

    /// The idle timeout and the output stall limit: at most one scan a second.
    func closeIdle() {
        guard config.idleTimeout > 0 || config.outputStallSeconds > 0 || lingering > 0 else { return }
        let now = MonotonicClock.seconds()
        guard now != lastIdleScan else { return }
        lastIdleScan = now
        for case let conn? in connections where !conn.awaitingReply {
            if conn.lingerUntil > 0 {
                if now > conn.lingerUntil { close(conn) }
                continue
            }
            if conn.pendingOutput == 0 { conn.lastOutputProgress = now }
            if config.idleTimeout > 0 && now - conn.lastActive > config.idleTimeout && conn.pendingOutput == 0 {
                Log.debug("idle_timeout", ["fd": conn.fd])
                close(conn)
            } else if config.outputStallSeconds > 0 && now - conn.lastOutputProgress > config.outputStallSeconds {
                Log.warn("client_output_stalled", ["fd": conn.fd, "unsent_bytes": conn.pendingOutput])
                close(conn)
            }
        }
    }

    func close(_ conn: Connection) {
        guard Int(conn.fd) < connections.count, connections[Int(conn.fd)] === conn else { return }
        if conn.lingerUntil > 0 { lingering -= 1 }
        clients.remove(conn.client.record.id)
        selector.remove(conn.fd)
        Glibc.close(conn.fd)
        connections[Int(conn.fd)] = nil
        stats.connectedClients.subtract(1, ordering: .relaxed)
    }
}
