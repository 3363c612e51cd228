/// One client: its buffers and where it is in the conversation.
/// Owned by exactly one event loop thread; never touched by another.
final class Connection {
    let fd: Int32
    /// Unknown until the first byte arrives.
    var dialect: Dialect?
    /// The epoll interest last registered (read, at accept), so an unchanged
    /// one costs no system call.
    var interest = Selector.Interest.read.rawValue
    /// Bytes `input[inStart ..< inEnd]` are received but not yet consumed.
    var input: [UInt8]
    var inStart = 0
    var inEnd = 0
    /// Bytes `output[outSent...]` are replies not yet written to the socket.
    var output: [UInt8] = []
    var outSent = 0
    /// QUIT or a protocol error: close once the output is written.
    var closeWhenFlushed = false
    /// The peer shut down its side; finish replies, then close.
    var peerClosed = false
    /// Monotonic second after which a lingering close gives up; 0 while the
    /// connection is not lingering (see `EventLoop.startLingering`).
    var lingerUntil = 0
    /// A command's reply is being computed off the loop (RELOAD, SAVE):
    /// later commands wait, so replies stay in order.
    var awaitingReply = false
    /// Replies in `output` acknowledge log records up to this ticket; they
    /// are sent once the log has it on disk (0: nothing to wait for).
    var durableTicket: UInt64 = 0
    /// In the loop's list of connections waiting for the end-of-batch sync.
    var awaitingSync = false
    /// Replies in `output` also wait for these replica acknowledgements.
    var replicaWaits: [ClusterState.ReplicaWait] = []
    /// In the loop's list of connections waiting for replicas.
    var awaitingReplicas = false
    /// Protocol, authentication, name, transaction (HELLO, AUTH, CLIENT, MULTI).
    var client: ClientState
    /// Monotonic seconds of the last request bytes, for the idle timeout.
    var lastActive: Int
    /// Monotonic seconds when output last moved (or was last empty).
    var lastOutputProgress: Int
    /// Tells a reused fd's new connection from the one a deferred reply is for.
    let serial: UInt64
    var args = ArgList()

    static let initialInput = 16 * 1024

    init(fd: Int32, serial: UInt64, client: ClientState, now: Int) {
        self.serial = serial
        self.client = client
        self.lastActive = now
        self.lastOutputProgress = now
        self.fd = fd
        input = [UInt8](repeating: 0, count: Connection.initialInput)
        output.reserveCapacity(16 * 1024)
    }

    var pendingOutput: Int { output.count - outSent }

    /// Makes room to read more: moves unconsumed bytes to the front, then
    /// doubles the buffer while it is under `limit`. Returns false when full
    /// at the limit (the parser reports the violated limit before that).
    func prepareInput(limit: Int) -> Bool {
        if inStart == inEnd {
            inStart = 0
            inEnd = 0
        }
        if inEnd < input.count { return true }
        if inStart > 0 {
            let n = inEnd - inStart
            input.withUnsafeMutableBufferPointer { b in
                b.baseAddress!.update(from: b.baseAddress! + inStart, count: n)
            }
            inStart = 0
            inEnd = n
            return true
        }
        if input.count >= limit { return false }
        input.append(contentsOf: repeatElement(0, count: min(input.count, limit - input.count)))
        return true
    }

    /// Called after a write; drops what was sent, keeping the allocation.
    func consumedOutput(_ n: Int) {
        outSent += n
        if outSent == output.count {
            output.removeAll(keepingCapacity: true)
            outSent = 0
        } else if outSent > 64 * 1024 && outSent * 2 > output.count {
            output.removeFirst(outSent)
            outSent = 0
        }
    }
}
