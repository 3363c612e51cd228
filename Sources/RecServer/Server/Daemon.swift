import Foundation
import RecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Start-up and shutdown of the whole service, shared by `recd` and tests
/// that run it in-process: load the snapshot, build, serve, stop on a signal.
public enum Daemon {
    /// Loads and builds the configured snapshot, logging what was rejected.
    public static func buildIndex(_ config: ServerConfig, directory: String? = nil,
                                  suppressed: Set<[UInt8]> = []) throws(SnapshotError) -> RecIndex {
        let dir = directory ?? config.snapshot
        let parseStart = ContinuousClock.now
        let snapshot = try loadSnapshot(config, directory: dir, suppressed: suppressed)
        return buildIndex(config, snapshot: snapshot, directory: dir, parseSeconds: (ContinuousClock.now - parseStart).inSeconds)
    }

    /// Reads a snapshot, leaving out the users FORGET suppressed.
    public static func loadSnapshot(_ config: ServerConfig, directory dir: String,
                                    suppressed: Set<[UInt8]> = []) throws(SnapshotError) -> Snapshot {
        var snapshot = try SnapshotLoader.load(directory: dir, parts: config.build.shards)
        for issue in snapshot.report.samples {
            Log.warn("row_rejected", ["file": issue.file, "line": issue.line, "reason": issue.reason])
        }
        if snapshot.report.rowsRejected > 0 {
            Log.warn("rows_rejected", ["count": snapshot.report.rowsRejected, "read": snapshot.report.rowsRead])
        }
        if !suppressed.isEmpty { snapshot.events = snapshot.events.removingUsers(suppressed) }
        return snapshot
    }

    public static func buildIndex(_ config: ServerConfig, snapshot: Snapshot, directory dir: String, parseSeconds: Double = 0) -> RecIndex {
        let index = IndexBuilder.build(snapshot, config: config.build)
        Log.info("index_built", [
            "snapshot": dir, "events": index.stats.events, "items": index.itemCount,
            "users": index.userCount, "neighbors": index.stats.neighborEntries,
            "parse_ms": Int(parseSeconds * 1000), "build_ms": Int(index.stats.totalSeconds * 1000),
            "similarity": index.config.similarity.rawValue,
        ])
        if let selection = index.stats.selection {
            Log.info("model_selection", ["chosen": selection.chosen.name, "holdout_users": selection.testUsers,
                                         "seconds": selection.seconds,
                                         "ndcg10": selection.candidates.map { "\($0.name)=\(String(format: "%.4f", $0.ndcg))" }.joined(separator: "; ")])
        }
        return index
    }

    /// SIGINT and SIGTERM, caught from before the server accepts its first
    /// connection: a signal that came between "accepting" and "handlers
    /// installed" was ignored (SIG_IGN without a source yet), and a
    /// supervisor's SIGTERM went unheeded.
    public final class Shutdown: @unchecked Sendable {  // written once in init
        let done = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "recd.signals")
        var sources: [DispatchSourceSignal] = []
        /// SIGHUP's action once the server runs, and whether one came before
        /// (it is held, not lost: ignoring it until then dropped it).
        let hangup = Mutex<(action: (@Sendable () -> Void)?, pending: Bool)>((nil, false))

        public init() {
            signal(SIGPIPE, SIG_IGN)
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)  // libdispatch delivers it to the source instead
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { [done] in
                    Log.info("shutdown", ["signal": sig == SIGINT ? "SIGINT" : "SIGTERM"])
                    done.signal()
                }
                source.resume()
                sources.append(source)
            }
            signal(SIGHUP, SIG_IGN)
            let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
            hup.setEventHandler { [weak self] in self?.hangupReceived() }
            hup.resume()
            sources.append(hup)
        }

        func hangupReceived() {
            let action = hangup.withLock { h -> (@Sendable () -> Void)? in
                if h.action == nil { h.pending = true }
                return h.action
            }
            action?()
        }

        /// Sets SIGHUP's action; runs it at once for a SIGHUP that came before.
        func onHangup(_ action: @escaping @Sendable () -> Void) {
            let pending = hangup.withLock { h -> Bool in
                h.action = action
                defer { h.pending = false }
                return h.pending
            }
            if pending { queue.async(execute: action) }
        }
    }

    /// Blocks until SIGINT or SIGTERM (caught by `shutdown`, made before
    /// the server started), then stops the server.
    public static func serveUntilSignalled(_ server: Server, _ shutdown: Shutdown) {
        let done = shutdown.done
        let sources = shutdown.sources
        // SIGHUP: reload the current snapshot, as RELOAD would (the config
        // file is not re-read: every setting takes a restart).
        shutdown.onHangup {
            guard let live = server.live else { return }
            do {
                let dir = try live.beginReload(nil)
                Log.info("sighup_reload", ["snapshot": dir])
                DispatchQueue.global().async { _ = live.reload(dir) }
            } catch {
                Log.warn("sighup_reload_refused", ["error": (error as? CommandError)?.message ?? "\(error)"])
            }
        }
        done.wait()
        // A SAVE or RELOAD under way finishes first (its manifest switch is
        // safe to cut short, but its work would be lost for nothing).
        if let live = server.live, live.isReloading {
            Log.info("shutdown_waits", ["for": "SAVE or RELOAD under way", "up_to_seconds": 60])
            if !live.waitUntilIdle(seconds: 60) { Log.warn("shutdown_without_waiting", ["detail": "SAVE or RELOAD still running after 60 s"]) }
        }
        server.stop()
        for s in sources { s.cancel() }
        Log.info("stopped")
    }
}
