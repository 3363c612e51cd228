import RecCore
import Synchronization

/// Counters shared by all event loops. Connection counts are atomics; the
/// per-command counts are kept per loop and merged under a lock once per
/// batch of commands, so the lock is taken per read, not per command.
public final class ServerStats: Sendable {
    public let startTime = ContinuousClock.now
    public let connectedClients = Atomic<Int>(0)
    public let totalConnections = Atomic<Int>(0)
    public let rejectedConnections = Atomic<Int>(0)
    public let experiments = ExperimentCounters()
    private let commandCounts = Mutex<[Int]>([Int](repeating: 0, count: Command.allCases.count))
    private let errorCounts = Mutex<[Int]>([Int](repeating: 0, count: Command.allCases.count + 1))
    /// Service time per command (nanoseconds), merged from the loops about once a second.
    private let latencies = Mutex<[LatencyHistogram]>(Array(repeating: LatencyHistogram(), count: Command.allCases.count))

    public init() {}

    var uptimeSeconds: Int { Int((ContinuousClock.now - startTime).components.seconds) }

    /// `errors` has one slot per command plus a last slot for unknown commands.
    func merge(commands: inout [Int], errors: inout [Int]) {
        commandCounts.withLock { total in
            for i in 0..<commands.count where commands[i] != 0 { total[i] += commands[i]; commands[i] = 0 }
        }
        errorCounts.withLock { total in
            for i in 0..<errors.count where errors[i] != 0 { total[i] += errors[i]; errors[i] = 0 }
        }
    }

    /// Adds each loop-local histogram into the shared ones and empties it.
    func merge(latencies local: inout [LatencyHistogram]) {
        latencies.withLock { shared in
            for i in 0..<local.count where local[i].total > 0 {
                shared[i].add(local[i])
                local[i].reset()
            }
        }
    }

    public var latencyHistograms: [LatencyHistogram] { latencies.withLock { $0 } }

    public var commands: [Int] { commandCounts.withLock { $0 } }
    public var errors: [Int] { errorCounts.withLock { $0 } }
}
