import RecCore
import Synchronization

/// Counters shared by all event loops. Connection counts are atomics; the
/// per-command counts are kept per loop and merged under a lock once per
/// batch of commands (if the lock is free), so the lock is taken per batch,
/// not per command, and no loop ever waits for it.
public final class ServerStats: Sendable {
    public let startTime = ContinuousClock.now
    public let connectedClients = Atomic<Int>(0)
    public let totalConnections = Atomic<Int>(0)
    public let rejectedConnections = Atomic<Int>(0)
    public let experiments = ExperimentCounters()
    /// Recommendation replies topped up from popularity, and about an id
    /// the index does not know (what WITHMETA tells per reply).
    public let fallbackReplies = Atomic<Int>(0)
    public let unknownSubjectReplies = Atomic<Int>(0)
    /// Commands in the last whole second (INFO's instantaneous_ops_per_sec).
    public let instantaneousOps = Atomic<Int>(0)
    private let lastTotal = Mutex<Int>(0)

    /// Called once a second: commands since the last call.
    func sampleOps() {
        let total = commands.reduce(0, +)
        let previous = lastTotal.withLock { last in
            defer { last = total }
            return last
        }
        instantaneousOps.store(max(0, total - previous), ordering: .relaxed)
    }
    private let commandCounts = Mutex<[Int]>([Int](repeating: 0, count: Command.allCases.count))
    private let errorCounts = Mutex<[Int]>([Int](repeating: 0, count: Command.allCases.count + 1))
    /// Service time per command (nanoseconds), merged from the loops about once a second.
    private let latencies = Mutex<[LatencyHistogram]>(Array(repeating: LatencyHistogram(), count: Command.allCases.count))

    public init() {}

    var uptimeSeconds: Int { Int((ContinuousClock.now - startTime).components.seconds) }

    /// `errors` has one slot per command plus a last slot for unknown commands.
    /// Adds the loop's counts and zeroes them. With `wait` false it returns
    /// false instead of waiting when another loop holds a lock, and the loop
    /// keeps its counts for a retry: on a box with fewer cores than busy
    /// threads the holder can be preempted, and every loop would stall behind it.
    @discardableResult
    func merge(commands: inout [Int], errors: inout [Int], wait: Bool) -> Bool {
        let merged = ServerStats.locked(commandCounts, wait) { total in
            for i in 0..<commands.count where commands[i] != 0 { total[i] += commands[i]; commands[i] = 0 }
        }
        return ServerStats.locked(errorCounts, wait) { total in
            for i in 0..<errors.count where errors[i] != 0 { total[i] += errors[i]; errors[i] = 0 }
        } && merged
    }

    /// Adds each loop-local histogram into the shared ones and empties it
    /// (or, with `wait` false and the lock taken, returns false).
    @discardableResult
    func merge(latencies local: inout [LatencyHistogram], wait: Bool) -> Bool {
        ServerStats.locked(latencies, wait) { shared in
            for i in 0..<local.count where local[i].total > 0 {
                shared[i].add(local[i])
                local[i].reset()
            }
        }
    }

    /// Runs `body` under `mutex`; without `wait`, only if it is free.
    private static func locked<T>(_ mutex: borrowing Mutex<T>, _ wait: Bool, _ body: (inout sending T) -> Void) -> Bool {
        if wait {
            mutex.withLock { body(&$0) }
            return true
        }
        return mutex.withLockIfAvailable { body(&$0) } != nil
    }

    public var latencyHistograms: [LatencyHistogram] { latencies.withLock { $0 } }

    public var commands: [Int] { commandCounts.withLock { $0 } }
    public var errors: [Int] { errorCounts.withLock { $0 } }
}
