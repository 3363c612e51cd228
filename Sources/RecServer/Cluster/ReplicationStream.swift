import Dispatch
import Foundation
import Synchronization

/// One replica's stream of a primary's per-user writes, off the event
/// loops: writes queue here in order, a sender sends whatever has queued
/// as one pipelined batch (the replica's group commit covers it) and marks
/// the batch acknowledged when every reply is in. The event loop holds the
/// client's reply until its write's sequence number is acknowledged, so a
/// failover to this replica still loses no acknowledged write, while
/// neither the loop nor other writes wait for one round trip each.
final class ReplicationStream: Sendable {
    let address: String
    private let link: ReplicaLink
    private struct Queue {
        var writes: [[[UInt8]]] = []
        /// Sequence number of the newest write queued.
        var enqueued: UInt64 = 0
        var sending = false
    }
    private let queue = Mutex(Queue())
    private let acked = Atomic<UInt64>(0)
    private let sender: DispatchQueue
    /// Wakes the event loops (a batch was acknowledged or released).
    private let wake: @Sendable () -> Void
    /// The replica failed: the writes of the batch in flight, for the
    /// backlog; called without locks held.
    private let failed: @Sendable (_ unsent: [[[UInt8]]], _ error: String) -> Void

    /// Writes per pipelined batch at most.
    static let batchLimit = 1024

    init(address: String, timeoutMs: Int, wake: @escaping @Sendable () -> Void,
         failed: @escaping @Sendable ([[[UInt8]]], String) -> Void) {
        self.address = address
        link = ReplicaLink(address: address, timeoutMs: timeoutMs)
        sender = DispatchQueue(label: "recd.replication.\(address)")
        self.wake = wake
        self.failed = failed
    }

    /// Queues a write; its sequence number is acknowledged once the replica
    /// has it (or once it left the set, the write then in its backlog).
    func enqueue(_ args: [[UInt8]]) -> UInt64 {
        let (seq, start) = queue.withLock { q -> (UInt64, Bool) in
            q.writes.append(args)
            q.enqueued += 1
            defer { q.sending = true }
            return (q.enqueued, !q.sending)
        }
        if start { sender.async { self.drain() } }
        return seq
    }

    func isAcknowledged(_ seq: UInt64) -> Bool { acked.load(ordering: .acquiring) >= seq }

    /// What is queued and not yet sent; every wait is released (the caller
    /// keeps these writes for the replica's catch-up).
    func takeQueued() -> [[[UInt8]]] {
        queue.withLock { q in
            defer { q.writes.removeAll() }
            acked.store(q.enqueued, ordering: .releasing)
            return q.writes
        }
    }

    private func drain() {
        while true {
            let (batch, last) = queue.withLock { q -> ([[[UInt8]]], UInt64) in
                if q.writes.isEmpty {
                    q.sending = false
                    return ([], 0)
                }
                let n = min(q.writes.count, ReplicationStream.batchLimit)
                let batch = Array(q.writes.prefix(n))
                q.writes.removeFirst(n)
                return (batch, q.enqueued - UInt64(q.writes.count))
            }
            if batch.isEmpty { return }
            do {
                try link.pipeline(batch)
                acked.store(last, ordering: .releasing)
            } catch {
                failed(batch, "\(error)")
            }
            wake()
        }
    }
}
