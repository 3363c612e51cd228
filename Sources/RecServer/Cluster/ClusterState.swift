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

    public static let fileName = "cluster.json"

    public init(map: ClusterMap, me: String, dataDir: String) {
        self.me = me
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
        return ClusterState(map: map, me: me, dataDir: config.dataDir)
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
