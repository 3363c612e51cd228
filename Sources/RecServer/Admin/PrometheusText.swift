import Foundation
import RecCore

/// The INFO figures in the Prometheus text exposition format (version
/// 0.0.4), for `GET /metrics`.
enum PrometheusText {
    static func render(index: RecIndex, stats: ServerStats, live: LiveService?) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP recd_\(name) \(help)\n# TYPE recd_\(name) \(type)\n"
            for s in samples { out += "recd_\(name)\(s.labels.isEmpty ? "" : "{\(s.labels)}") \(s.value)\n" }
        }
        func one(_ name: String, _ type: String, _ help: String, _ value: CustomStringConvertible) {
            metric(name, type, help, [("", value.description)])
        }
        one("uptime_seconds", "gauge", "Seconds since start.", stats.uptimeSeconds)
        one("connected_clients", "gauge", "Open client connections.", stats.connectedClients.load(ordering: .relaxed))
        one("connections_received_total", "counter", "Connections accepted.", stats.totalConnections.load(ordering: .relaxed))
        one("connections_rejected_total", "counter", "Connections refused by maxclients.", stats.rejectedConnections.load(ordering: .relaxed))
        one("memory_rss_bytes", "gauge", "Resident set size.", residentBytes())
        one("index_items", "gauge", "Items in the served index.", index.itemCount)
        one("index_users", "gauge", "Users in the served index.", index.userCount)
        one("index_neighbors", "gauge", "Neighbour entries in the served index.", index.stats.neighborEntries)
        one("index_memory_bytes", "gauge", "Bytes of the index arrays.", index.memoryBytes)
        one("index_build_seconds", "gauge", "Build time of the served index.", index.stats.totalSeconds)
        let calls = stats.commands, errors = stats.errors, latency = stats.latencyHistograms
        let commands = Command.allCases.filter { calls[$0.rawValue] > 0 || errors[$0.rawValue] > 0 }
        let label = { (c: Command) in "command=\"\(c.spec.name.lowercased())\"" }
        metric("commands_total", "counter", "Commands run, by command.", commands.map { (label($0), "\(calls[$0.rawValue])") })
        metric("command_errors_total", "counter", "Commands answered with an error, by command.",
               commands.map { (label($0), "\(errors[$0.rawValue])") })
        var quantiles: [(String, String)] = []
        for c in commands where latency[c.rawValue].total > 0 {
            let h = latency[c.rawValue]
            for q in [0.5, 0.99, 0.999] {
                quantiles.append(("\(label(c)),quantile=\"\(q)\"", "\(Double(h.percentile(q * 100)) / 1e9)"))
            }
            quantiles.append(("\(label(c)),quantile=\"1\"", "\(Double(h.maxValue) / 1e9)"))
        }
        metric("command_duration_seconds", "summary", "Service time per command (merged about once a second).", quantiles)
        if let live {
            one("live_events", "gauge", "Events received since the snapshot, in memory.", live.state.eventCount)
            one("event_log_bytes", "gauge", "Size of the event log.", live.log.size)
            one("event_log_fsync_lag_seconds", "gauge", "Seconds since unsynced log data was last fsynced.", live.log.fsyncLagSeconds)
            one("event_log_fsyncs_total", "counter", "fdatasyncs of the event log (one covers every append before it).", live.log.syncCount)
            one("event_log_damaged_bytes", "gauge", "Bytes of damaged log tails kept aside until the next SAVE.", EventLog.damagedBytes(of: live.log.path))
            one("reload_in_progress", "gauge", "1 while a RELOAD or SAVE runs.", live.isReloading ? 1 : 0)
            if let r = live.lastReload.withLock({ $0 }) {
                one("last_reload_timestamp_seconds", "gauge", "When the last reload finished (Unix time).", Int(r.finishedAt.timeIntervalSince1970))
                one("last_reload_duration_seconds", "gauge", "How long the last reload took.", r.seconds)
                one("last_reload_success", "gauge", "1 if the last reload succeeded.", r.ok ? 1 : 0)
            }
        }
        return out
    }
}
