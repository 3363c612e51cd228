import Foundation
import RecCore
#if canImport(Glibc)
import Glibc
#endif

/// Start-up and shutdown of the whole service, shared by `recd` and tests
/// that run it in-process: load the snapshot, build, serve, stop on a signal.
public enum Daemon {
    /// Loads and builds the configured snapshot, logging what was rejected.
    public static func buildIndex(_ config: ServerConfig, directory: String? = nil) throws(SnapshotError) -> RecIndex {
        let dir = directory ?? config.snapshot
        let parseStart = ContinuousClock.now
        let snapshot = try SnapshotLoader.load(directory: dir, parts: config.build.shards)
        let parseSeconds = (ContinuousClock.now - parseStart).inSeconds
        for issue in snapshot.report.samples {
            Log.warn("row_rejected", ["file": issue.file, "line": issue.line, "reason": issue.reason])
        }
        if snapshot.report.rowsRejected > 0 {
            Log.warn("rows_rejected", ["count": snapshot.report.rowsRejected, "read": snapshot.report.rowsRead])
        }
        let index = IndexBuilder.build(snapshot, config: config.build)
        Log.info("index_built", [
            "snapshot": dir, "events": index.stats.events, "items": index.itemCount,
            "users": index.userCount, "neighbors": index.stats.neighborEntries,
            "parse_ms": Int(parseSeconds * 1000), "build_ms": Int(index.stats.totalSeconds * 1000),
        ])
        return index
    }

    /// Blocks until SIGINT or SIGTERM, then stops the server.
    public static func serveUntilSignalled(_ server: Server) {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let done = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "recd.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                Log.info("shutdown", ["signal": sig == SIGINT ? "SIGINT" : "SIGTERM"])
                done.signal()
            }
            source.resume()
            sources.append(source)
        }
        // SIGHUP: reload the current snapshot, as RELOAD would (the config
        // file is not re-read: every setting takes a restart).
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hup.setEventHandler {
            guard let live = server.live else { return }
            do {
                let dir = try live.beginReload(nil)
                Log.info("sighup_reload", ["snapshot": dir])
                DispatchQueue.global().async { _ = live.reload(dir) }
            } catch {
                Log.warn("sighup_reload_refused", ["error": (error as? CommandError)?.message ?? "\(error)"])
            }
        }
        hup.resume()
        sources.append(hup)
        done.wait()
        server.stop()
        for s in sources { s.cancel() }
        Log.info("stopped")
    }
}
