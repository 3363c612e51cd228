import Foundation
import RecCore

/// What the server itself knows (address, threads), for INFO.
protocol ServerInfoSource: AnyObject {
    var boundPort: Int { get }
    var threadCount: Int { get }
}

/// Builds the `INFO` text in Redis's style: `# Section` banners, `key:value`
/// lines ending in CRLF, a blank line between sections, so existing Redis
/// tooling reads it. redis-cli `--stat` finds its fields by the first
/// substring match (`used_memory` must come before `used_memory_rss`, no
/// other name may contain `loading`), and prints LONG_MIN for a missing one.
enum InfoReport {
    static func text(index: RecIndex, stats: ServerStats, config: ServerConfig, server: ServerInfoSource?,
                     live: LiveService? = nil, cluster: ClusterState? = nil) -> String {
        var lines: [String] = []
        let rss = residentBytes()
        lines.append("# Server")
        lines.append("redis_version:\(RecdVersion.redisCompatible)")
        lines.append("recd_version:\(RecdVersion.string)")
        lines.append("redis_mode:\(cluster == nil ? "standalone" : "cluster")")
        lines.append("process_id:\(getpid())")
        lines.append("uptime_in_seconds:\(stats.uptimeSeconds)")
        lines.append("tcp_port:\(server?.boundPort ?? config.port)")
        lines.append("threads:\(server?.threadCount ?? config.threads)")
        lines.append("")
        lines.append("# Clients")
        lines.append("connected_clients:\(stats.connectedClients.load(ordering: .relaxed))")
        lines.append("blocked_clients:0")
        lines.append("maxclients:\(config.maxClients)")
        lines.append("")
        lines.append("# Memory")
        lines.append("used_memory:\(rss)")
        lines.append("used_memory_human:\(String(format: "%.2fM", Double(rss) / 1_048_576))")
        lines.append("used_memory_rss:\(rss)")
        lines.append("")
        lines.append("# Persistence")
        lines.append("loading:0")
        lines.append("rdb_bgsave_in_progress:\(live?.isReloading == true ? 1 : 0)")
        lines.append("aof_rewrite_in_progress:0")
        lines.append("")
        lines.append("# Stats")
        lines.append("total_connections_received:\(stats.totalConnections.load(ordering: .relaxed))")
        lines.append("total_commands_processed:\(stats.commands.reduce(0, +))")
        lines.append("instantaneous_ops_per_sec:\(stats.instantaneousOps.load(ordering: .relaxed))")
        lines.append("rejected_connections:\(stats.rejectedConnections.load(ordering: .relaxed))")
        lines.append("fallback_replies:\(stats.fallbackReplies.load(ordering: .relaxed))")
        lines.append("unknown_subject_replies:\(stats.unknownSubjectReplies.load(ordering: .relaxed))")
        lines.append("")
        lines.append("# Index")
        let s = index.stats
        lines.append("items:\(index.itemCount)")
        lines.append("users:\(index.userCount)")
        lines.append("events:\(s.events)")
        lines.append("history_entries:\(s.historyEntries)")
        lines.append("neighbors:\(s.neighborEntries)")
        lines.append("neighbors_per_item_max:\(index.config.neighbors)")
        lines.append("similarity:\(index.config.similarity.rawValue)")
        lines.append("similarity_configured:\(config.build.similarity.rawValue)")
        // What REC without mode= does on this index.
        let hybrid = index.vectors != nil && index.config.recMode == .hybrid
        lines.append("rec_default_mode:\(hybrid ? "hybrid" : "cf")")
        lines.append("rec_default_vector_weight:\(config.hybridWeight ?? index.config.vectorWeight)")
        if let live { lines.append("build_stage:\(live.buildStage.withLock { $0 })") }
        if let selection = s.selection {
            lines.append("model_chosen:\(selection.chosen.name.replacingOccurrences(of: " ", with: ","))")
            lines.append("model_selection_seconds:\(selection.seconds)")
            lines.append("model_selection_users:\(selection.testUsers)")
            for c in selection.candidates {
                lines.append("model_candidate:\(c.name.replacingOccurrences(of: " ", with: ",")),ndcg10=\(String(format: "%.4f", c.ndcg))")
            }
        }
        lines.append("shards:\(s.shards)")
        lines.append("build_time_ms:\(Int(s.totalSeconds * 1000))")
        lines.append("index_memory_bytes:\(index.memoryBytes)")
        lines.append("rows_rejected:\(index.report.rowsRejected)")
        if let live {
            lines.append("")
            lines.append("# Live")
            lines.append("snapshot:\(live.currentSnapshot)")
            lines.append("live_events:\(live.state.eventCount)")
            lines.append("event_log_path:\(live.log.path)")
            lines.append("event_log_bytes:\(live.log.size)")
            lines.append("event_log_records:\(live.log.recordCount)")
            lines.append("replay_skipped_records:\(live.replaySkipped)")
            lines.append("appendfsync:\(live.log.policy.rawValue)")
            lines.append("fsync_lag_seconds:\(live.log.fsyncLagSeconds)")
            lines.append("event_log_fsyncs:\(live.log.syncCount)")
            lines.append("event_log_damaged_pieces:\(EventLog.damagedPieces(of: live.log.path).count)")
            lines.append("event_log_damaged_bytes:\(EventLog.damagedBytes(of: live.log.path))")
            lines.append("saved_snapshots:\(SavedSnapshot.list(in: live.live.snapshotsDirectory).count)")
            lines.append("snapshot_keep:\(live.config.snapshotKeep)")
            lines.append("forgotten_users:\(live.suppressions.count)")
            lines.append("reload_in_progress:\(live.isReloading ? 1 : 0)")
            if let r = live.lastReload.withLock({ $0 }) {
                lines.append("last_reload_unixtime:\(Int(r.finishedAt.timeIntervalSince1970))")
                lines.append("last_reload_seconds:\(r.seconds)")
                lines.append("last_reload_status:\(r.ok ? "ok" : "failed")")
                lines.append("last_reload_detail:\(r.detail)")
            }
        }
        lines.append("")
        lines.append("# Cluster")
        lines.append("cluster_enabled:\(cluster == nil ? 0 : 1)")
        if let cluster {
            let map = cluster.map
            lines.append("cluster_epoch:\(map.epoch)")
            lines.append("cluster_myself:\(cluster.me)")
            let mine = map.shards.filter { $0.primary == cluster.me }.flatMap(\.slots).reduce(0) { $0 + $1.count }
            lines.append("cluster_slots_served:\(mine)")
            lines.append("cluster_replicas_left:\(cluster.replicasLeft.joined(separator: ","))")
            // Per replica out of the set: the writes it still has to replay.
            for b in cluster.replicaBacklogs {
                lines.append("cluster_replica_backlog:\(b.replica),writes=\(b.writes)\(b.overflowed ? ",overflowed=1" : "")")
            }
            lines.append("min_replicas_to_write:\(cluster.minReplicasToWrite)")
        }
        lines.append("")
        lines.append("# Commandstats")
        let calls = stats.commands, errors = stats.errors
        for command in Command.allCases where calls[command.rawValue] > 0 || errors[command.rawValue] > 0 {
            lines.append("cmdstat_\(command.spec.name.lowercased()):calls=\(calls[command.rawValue]),errors=\(errors[command.rawValue])")
        }
        lines.append("unknown_commands:\(errors[Command.allCases.count])")
        lines.append("")
        lines.append("# Latencystats")
        let histograms = stats.latencyHistograms
        for command in Command.allCases where histograms[command.rawValue].total > 0 {
            let h = histograms[command.rawValue]
            let us = { (p: Double) in formatMicros(h.percentile(p)) }
            lines.append("latency_percentiles_usec_\(command.spec.name.lowercased()):p50=\(us(50)),p99=\(us(99)),p99.9=\(us(99.9))")
        }
        lines.append("")
        lines.append("# Keyspace")
        lines.append("db0:keys=\(index.userCount),expires=0,avg_ttl=0")
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

extension InfoReport {
    /// `INFO name ...`: only those sections (case-insensitive), as Redis
    /// does; `all`, `everything` and `default` keep the whole report.
    static func sections(_ names: [String], of text: String) -> String {
        let wanted = Set(names.map { $0.lowercased() })
        if !wanted.isDisjoint(with: ["all", "everything", "default"]) { return text }
        var keep = false
        var lines: [Substring] = []
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# ") {
                keep = wanted.contains(line.dropFirst(2).lowercased())
                if keep && !lines.isEmpty { lines.append("") }
            }
            if keep && !line.isEmpty { lines.append(line) }
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// Nanoseconds as microseconds with three decimals, as Redis prints them.
func formatMicros(_ ns: UInt64) -> String {
    let whole = ns / 1000, frac = ns % 1000
    return "\(whole)." + String(repeating: "0", count: frac < 10 ? 2 : frac < 100 ? 1 : 0) + "\(frac)"
}

/// Resident set size from /proc (0 where unavailable).
func residentBytes() -> Int {
    guard let bytes = try? FileBytes.read("/proc/self/statm") else { return 0 }
    let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

public enum RecdVersion {
    public static let string = "0.1.0"
    /// What HELLO and INFO's redis_version report: the Redis release whose
    /// commands recd answers as Redis does (clients gate features on it).
    public static let redisCompatible = "7.4.0"
}
