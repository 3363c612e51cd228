import Foundation
import RecCore
import Synchronization

/// This node's place in the cluster: the map in force and its own address.
/// A newer map (`CLUSTER SETTOPOLOGY`, higher epoch) replaces it and is
/// persisted in the data-dir (`cluster.json`, written to a temporary name,
/// fsynced, renamed), so a restart keeps it over an older `cluster-config`.
public final class ClusterState: Sendable {
    public let me: String
    public let myID: String
    private let current: Mutex<ClusterMap>
    let path: String
    /// Writes are refused while fewer replicas of the slot are in the set.
    public let minReplicasToWrite: Int
    let replicaTimeoutMs: Int
    /// Links by use and address: a use never waits behind another's reply.
    private let links = Mutex<[Link: ReplicaLink]>([:])

    struct Link: Hashable {
        enum Use { case broadcast, gather, catchUp, admin }
        let use: Use
        let address: String
    }
    /// Replicas out of the set, each with the writes it has missed since it
    /// left, in order (the first batch, in flight when it failed, may have
    /// reached it). The primary serves on without them; a catch-up replays
    /// the writes and the replica rejoins once none is left.
    private let behind = Mutex<[String: Backlog]>([:])
    private let catchUpScheduled = Atomic<Bool>(false)

    struct Backlog {
        /// From `start` on: what is still to replay.
        var writes: [[[UInt8]]] = []
        var start = 0
        var isEmpty: Bool { start == writes.count }
        var count: Int { writes.count - start }
        mutating func dropFirst() {
            start += 1
            if start >= 1024 && start * 2 >= writes.count {
                writes.removeFirst(start)
                start = 0
            }
        }
        /// More than `backlogLimit` writes missed: the replica stays out
        /// until an operator reseeds it (a copy of this node's data-dir).
        var overflowed = false
    }

    /// Missed writes kept per replica (Redis's repl-backlog, counted in writes).
    static let backlogLimit = 1_000_000

    public static let fileName = "cluster.json"

    public init(map: ClusterMap, me: String, dataDir: String, minReplicasToWrite: Int = 0, replicaTimeoutMs: Int = 500) {
        self.me = me
        self.minReplicasToWrite = minReplicasToWrite
        self.replicaTimeoutMs = replicaTimeoutMs
        myID = ClusterMap.nodeID(me)
        path = dataDir + "/" + ClusterState.fileName
        var map = map
        // A map this node was given later (SETTOPOLOGY) outranks the file's.
        if let bytes = try? FileBytes.read(path), let saved = try? ClusterMap.parse(bytes), saved.epoch > map.epoch { map = saved }
        current = Mutex(map)
    }

    /// From the settings: nil when `cluster-config` is not set (standalone).
    public static func start(_ config: ServerConfig) throws(ClusterMapError) -> ClusterState? {
        guard !config.clusterConfig.isEmpty else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileBytes.read(config.clusterConfig) } catch { throw .invalid("cannot read \(config.clusterConfig): \(error)") }
        let map = try ClusterMap.parse(bytes)
        let me = config.clusterAnnounce.isEmpty ? "\(config.bind):\(config.port)" : config.clusterAnnounce
        try? FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true)
        return ClusterState(map: map, me: me, dataDir: config.dataDir, minReplicasToWrite: config.minReplicasToWrite,
                            replicaTimeoutMs: config.clusterReplicaTimeoutMs)
    }

    public var map: ClusterMap { current.withLock { $0 } }

    /// Installs `map` if its epoch is higher than the one in force.
    public func install(_ map: ClusterMap) throws(ClusterMapError) {
        try current.withLock { (m: inout ClusterMap) throws(ClusterMapError) in
            guard map.epoch > m.epoch else { throw .staleEpoch(given: map.epoch, current: m.epoch) }
            guard EventLog.writeWhole(Array(map.json.utf8), to: path + ".tmp"), rename(path + ".tmp", path) == 0 else {
                throw .invalid("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            EventLog.syncDirectory(of: path)
            m = map
        }
        // A replica the new map no longer names as one (promoted, or
        // gone) has nothing to catch up; the others still do.
        let named = Set(map.shards.flatMap(\.replicas))
        behind.withLock { b in b = b.filter { named.contains($0.key) } }
    }

    /// The replicas the map names for `slot`, when this node is its
    /// primary (else none: only a primary forwards).
    private func myReplicas(ofSlot slot: Int) -> [String] {
        current.withLock { m in
            guard let shard = m.shard(ofSlot: slot), shard.primary == me else { return [] }
            return shard.replicas.filter { $0 != me }
        }
    }

    /// Those of `myReplicas` still in the set.
    func replicas(ofSlot slot: Int) -> [String] {
        let named = myReplicas(ofSlot: slot)
        guard !named.isEmpty else { return [] }
        return behind.withLock { b in named.filter { b[$0] == nil } }
    }

    /// Refuses a write to `slot` while fewer than `min-replicas-to-write`
    /// of its replicas are in the set.
    func checkWritable(slot: Int) throws(CommandError) {
        guard minReplicasToWrite > 0 else { return }
        let n = replicas(ofSlot: slot).count
        if n < minReplicasToWrite {
            throw CommandError(code: "NOREPLICAS", message: "\(n) replicas of slot \(slot) in sync, min-replicas-to-write is \(minReplicasToWrite)")
        }
    }

    /// A client's reply waits until `stream` acknowledged `seq`.
    struct ReplicaWait {
        let stream: ReplicationStream
        let seq: UInt64
        var isAcknowledged: Bool { stream.isAcknowledged(seq) }
    }

    /// Queues a write this node applied for every replica of its slot in
    /// the set (`ReplicationStream`) and returns what the client's reply
    /// waits for. A replica that fails leaves the set (logged, and in
    /// INFO) and the write stands; what a replica out of the set misses is
    /// kept for its catch-up.
    func forward(slot: Int, _ args: [[UInt8]]) -> [ReplicaWait] {
        var waits: [ReplicaWait] = []
        for address in myReplicas(ofSlot: slot) {
            // Under the same lock as a failure's hand-over to the backlog,
            // so no write falls between the stream and the backlog.
            behind.withLock { b in
                guard var backlog = b[address] else {
                    let s = stream(address)
                    waits.append(ReplicaWait(stream: s, seq: s.enqueue(args)))
                    return
                }
                if !backlog.overflowed {
                    if backlog.count < ClusterState.backlogLimit { backlog.writes.append(args) } else {
                        backlog = Backlog(writes: [], overflowed: true)
                        Log.warn("replica_backlog_overflow", ["replica": address, "limit": ClusterState.backlogLimit,
                                                              "detail": "it stays out of the set: reseed it from a copy of this node's data-dir"])
                    }
                }
                b[address] = backlog
            }
        }
        return waits
    }

    /// `forward`, then waits for the acknowledgements (off the loop: FORGET).
    func forwardAndWait(slot: Int, _ args: [[UInt8]]) {
        for wait in forward(slot: slot, args) {
            while !wait.isAcknowledged { usleep(100) }
        }
    }

    /// A stream's replica failed: its unsent writes and the batch in flight
    /// become its backlog, in order, every wait is released, and the
    /// catch-up starts.
    private func replicaFailed(_ address: String, inFlight: [[[UInt8]]], error: String) {
        behind.withLock { b in
            var backlog = b[address] ?? Backlog()
            backlog.writes = inFlight + stream(address).takeQueued() + backlog.writes[backlog.start...]
            backlog.start = 0
            b[address] = backlog
        }
        Log.warn("replica_left", ["replica": address, "error": error,
                                  "detail": "writes go on without it; it rejoins once it has caught up"])
        scheduleCatchUp()
    }

    private let streams = Mutex<[String: ReplicationStream]>([:])
    private let wakers = Mutex<[@Sendable () -> Void]>([])

    /// Called from any thread when replies held for replicas may go out.
    func onAcknowledged(_ wake: @escaping @Sendable () -> Void) { wakers.withLock { $0.append(wake) } }

    private func stream(_ address: String) -> ReplicationStream {
        streams.withLock { s -> ReplicationStream in
            if let existing = s[address] { return existing }
            let made = ReplicationStream(address: address, timeoutMs: replicaTimeoutMs, wake: { [weak self] in
                for wake in self?.wakers.withLock({ $0 }) ?? [] { wake() }
            }, failed: { [weak self] batch, error in self?.replicaFailed(address, inFlight: batch, error: error) })
            s[address] = made
            return made
        }
    }

    /// Replays each out-of-set replica's missed writes, oldest first, over
    /// a link that says CATCHUP (the replica skips an EVENT it already
    /// has: the batch in flight may have reached it); one that has none left
    /// rejoins the set. Runs every 250 ms while any replica is behind.
    private func scheduleCatchUp() {
        guard catchUpScheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .milliseconds(250)) { [self] in
            catchUpScheduled.store(false, ordering: .releasing)
            var pending = false
            for address in behind.withLock({ Array($0.keys) }) {
                let catchUp = link(.catchUp, address)
                while true {
                    // The head is taken off only once sent; forward appends
                    // to the tail meanwhile, and the replica rejoins only
                    // when the list is empty under the same lock.
                    let head = behind.withLock { b -> [[UInt8]]?? in
                        guard let backlog = b[address], !backlog.overflowed else { return .some(nil) }
                        if backlog.isEmpty {
                            b[address] = nil
                            return nil
                        }
                        return .some(backlog.writes[backlog.start])
                    }
                    guard let next = head else {
                        Log.info("replica_rejoined", ["replica": address])
                        break
                    }
                    guard let write = next else { break }  // overflowed: the operator's
                    do { try catchUp.send(write) } catch {
                        pending = true
                        break
                    }
                    behind.withLock { b in if b[address]?.isEmpty == false { b[address]!.dropFirst() } }
                }
            }
            if pending { scheduleCatchUp() }
        }
    }

    /// Sends what every node must apply (ITEM, FORGET, RELOAD, BGSAVE) to
    /// every other node of the map but `skipping`, and waits for each; one
    /// that fails is logged and left to the operator, who sends it to that
    /// node again. Never on an event loop: two nodes whose loops waited on
    /// each other would stall both until the timeout.
    func broadcast(_ args: [[UInt8]], skipping: Set<String> = []) {
        for address in map.nodes where address != me && !skipping.contains(address) {
            do { try link(.broadcast, address).send(args) } catch {
                let command = String(decoding: args.first ?? [], as: UTF8.self)
                Log.warn("broadcast_failed", ["node": address, "command": command, "error": "\(error)",
                                              "detail": "send the \(command) to that node again"])
            }
        }
    }

    /// `broadcast` without waiting, in the order asked (RELOAD ASYNC, BGSAVE).
    func broadcastInBackground(_ args: [[UInt8]]) {
        broadcasts.async { self.broadcast(args) }
    }
    private let broadcasts = DispatchQueue(label: "recd.cluster.broadcast")

    /// Every replica the map names for `slot`, in the set or not.
    func namedReplicas(ofSlot slot: Int) -> Set<String> {
        current.withLock { Set($0.shard(ofSlot: slot)?.replicas ?? []) }
    }

    /// Whether this node is the primary of `user`'s slot: the one whose
    /// live state for that user is whole.
    func owns(_ user: UnsafeBufferPointer<UInt8>) -> Bool {
        let slot = KeySlot.of(user)
        return current.withLock { $0.shard(ofSlot: slot)?.primary == me }
    }

    /// The primaries of the map but this node.
    var otherPrimaries: [String] { map.shards.map(\.primary).filter { $0 != me } }

    /// Every node of the map but this one.
    var otherNodes: [String] { map.nodes.filter { $0 != me } }

    /// `args` asked of each of `nodes` in turn; every reply is a flat array
    /// of pairs (AUDIENCE's user and time, EXPERIMENT's field and count),
    /// returned together. Any node that does not answer fails the whole: a
    /// partial answer would pass for a complete one.
    func gather(_ args: [[UInt8]], from nodes: [String]) throws(CommandError) -> [(ReplicaLink.RESPValue, ReplicaLink.RESPValue)] {
        var pairs: [(ReplicaLink.RESPValue, ReplicaLink.RESPValue)] = []
        for address in nodes {
            do {
                let e = try link(.gather, address).call(args).elements
                for p in stride(from: 0, to: e.count - 1, by: 2) { pairs.append((e[p], e[p + 1])) }
            } catch {
                let command = String(decoding: args.first ?? [], as: UTF8.self)
                throw CommandError(code: "CLUSTERDOWN", message: "\(command) gathers from every node that holds users; \(address) did not answer (\(error)); try again once the map is repaired")
            }
        }
        return pairs
    }

    /// A RELOAD or SAVE on every other node at once, each waited for (a
    /// build may take minutes); returns "node: why" for each that failed.
    func onEveryOtherNode(_ args: [[UInt8]]) -> [String] {
        let nodes = otherNodes
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: nodes.count) { n in
            do { try link(.admin, nodes[n]).send(args) } catch {
                failures.withLock { $0.append("\(nodes[n]): \(error)") }
            }
        }
        return failures.withLock { $0.sorted() }
    }

    /// How long a node waits for another's RELOAD or SAVE.
    static let adminTimeoutMs = 30 * 60 * 1000

    private func link(_ use: Link.Use, _ address: String) -> ReplicaLink {
        links.withLock { l -> ReplicaLink in
            let key = Link(use: use, address: address)
            if let existing = l[key] { return existing }
            let made = ReplicaLink(address: address, timeoutMs: use == .admin ? ClusterState.adminTimeoutMs : replicaTimeoutMs,
                                   catchUp: use == .catchUp)
            l[key] = made
            return made
        }
    }

    /// Replicas out of the set (catching up, or overflowed), with the
    /// writes each still has to replay.
    public var replicasLeft: [String] { behind.withLock { $0.keys.sorted() } }
    public var replicaBacklogs: [(replica: String, writes: Int, overflowed: Bool)] {
        behind.withLock { b in b.map { ($0.key, $0.value.count, $0.value.overflowed) }.sorted { $0.replica < $1.replica } }
    }

    enum Route {
        case here
        /// Another node's primary owns the slot: `-MOVED slot host:port`.
        case moved(slot: Int, node: String)
        /// No shard owns the slot: `-CLUSTERDOWN`.
        case unassigned(slot: Int)
    }

    /// Where a command about `key` runs. A replica serves reads of its
    /// ranges on a READONLY connection.
    func route(_ key: UnsafeBufferPointer<UInt8>, readOnlyClient: Bool, isRead: Bool) -> Route {
        let slot = KeySlot.of(key)
        return current.withLock { m in
            guard let shard = m.shard(ofSlot: slot) else { return .unassigned(slot: slot) }
            if shard.primary == me { return .here }
            if readOnlyClient && isRead && shard.replicas.contains(me) { return .here }
            return .moved(slot: slot, node: shard.primary)
        }
    }
}
