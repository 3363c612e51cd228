import Foundation
import RecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The live half of the service: it turns commands into the data-dir's
/// commits (`LiveStore`, the one commit path) and runs RELOAD and SAVE,
/// which load, write and build outside every lock and then switch through
/// the store. One RELOAD or SAVE runs at a time.
public final class LiveService: Sendable {
    public let config: ServerConfig
    public let live: LiveStore
    private let busy = Atomic<Bool>(false)
    public let lastReload = Mutex<ReloadOutcome?>(nil)
    /// Log records the last start could not apply (`LogRecord.problem`).
    public let replaySkipped: Int

    public struct ReloadOutcome: Sendable {
        public var finishedAt: Date
        public var seconds: Double
        public var ok: Bool
        public var detail: String
    }

    public var store: IndexStore { live.served }
    public var state: LiveState { live.state }
    public var log: EventLog { live.log }
    public var suppressions: Suppressions { live.suppressions }
    public var logPath: String { log.path }

    /// Opens the data directory, loads the snapshot its manifest names (else
    /// the configured one), builds, and replays the log records the snapshot
    /// does not hold.
    public static func start(_ config: ServerConfig) throws(StartError) -> LiveService {
        do {
            try FileManager.default.createDirectory(atPath: config.dataDir + "/snapshots", withIntermediateDirectories: true)
        } catch {
            throw .dataDir("cannot create \(config.dataDir)/snapshots: \(error.localizedDescription)")
        }
        var manifest = Manifest(snapshot: config.snapshot)
        if let m = Manifest.read(dataDir: config.dataDir) {
            manifest = m
            // The log is relative to the manifest's snapshot, so it wins over
            // --snapshot; said at warn level when they differ.
            if m.snapshot != config.snapshot {
                Log.warn("snapshot_from_manifest", ["manifest": config.dataDir + "/" + Manifest.fileName, "serving": m.snapshot,
                                                    "configured": config.snapshot,
                                                    "detail": "the data-dir's manifest wins; RELOAD the configured snapshot to serve it"])
            }
        }
        let suppressions = Suppressions(dataDir: config.dataDir)
        let index: RecIndex
        do { index = try Daemon.buildIndex(config.firstStage(atStart: true), directory: manifest.snapshot, suppressed: suppressions.all) } catch {
            throw .snapshot(error)
        }
        Allocator.returnFreedMemory()
        let opened: (EventLog, EventLog.Replay)
        do { opened = try EventLog.open(path: config.dataDir + "/events.log", policy: config.appendFsync) } catch {
            throw .eventLog(error)
        }
        let state = LiveState()
        let latest = Int64(Date().timeIntervalSince1970) + Int64(config.maxClockSkew)
        var skipped = 0, covered = 0
        for (n, entry) in opened.1.entries.enumerated() {
            guard manifest.applies(entry.sequence) else {
                covered += 1
                continue
            }
            if let problem = entry.record.problem(latestTime: latest) {
                skipped += 1
                // Each is logged up to a point; the total always is, and INFO keeps it.
                if skipped <= 20 { Log.warn("event_log_record_skipped", ["record": n + 1, "reason": problem]) }
                continue
            }
            state.apply(entry.record, sequence: entry.sequence)
        }
        // Numbers go on from the highest ever used, covered or not.
        state.advanceSequence(to: max(manifest.covers, opened.1.entries.map(\.sequence).max() ?? 0))
        if skipped > 0 {
            Log.warn("event_log_records_skipped", ["path": opened.0.path, "skipped": skipped,
                                                   "detail": "records that can no longer be applied; the next SAVE or FORGET rewrites the log without them"])
        }
        if let damage = opened.1.damage {
            Log.warn("event_log_damaged", ["path": opened.0.path, "detail": damage])
        }
        Log.info("event_log_replayed", ["path": opened.0.path, "records": opened.1.entries.count, "held_by_snapshot": covered,
                                        "events": state.eventCount])
        let live = LiveStore(dataDir: config.dataDir, index: index, state: state, log: opened.0, manifest: manifest,
                             suppressions: suppressions)
        let service = LiveService(config: config, live: live, replaySkipped: skipped)
        service.tuneInBackground(atStart: true)
        return service
    }

    public enum StartError: Error, CustomStringConvertible {
        case dataDir(String)
        case snapshot(SnapshotError)
        case eventLog(EventLogError)

        public var description: String {
            switch self {
            case .dataDir(let m): "data-dir: \(m)"
            case .snapshot(let e): e.description
            case .eventLog(let e): e.description
            }
        }
    }

    init(config: ServerConfig, live: LiveStore, replaySkipped: Int = 0) {
        self.replaySkipped = replaySkipped
        self.config = config
        self.live = live
    }

    public var currentSnapshot: String { live.currentManifest.snapshot }
    public var isReloading: Bool { busy.load(ordering: .relaxed) }

    // MARK: - Writes
    //
    // Each returns the log ticket its acknowledgement waits for: the event
    // loop holds the reply until `log.isDurable(ticket)` (group commit).

    /// Logs then applies an event. An item the built index lacks gains
    /// popularity from its events.
    public func record(user: [UInt8], _ event: LiveEvent) throws(CommandError) -> UInt64 {
        do {
            return try live.commit({ .event(user: $0.canonical(user), event) }) { index in
                let built = event.item.withUnsafeBufferPointer { index.items.lookup($0) }.map(index.isBuilt) ?? false
                return built ? nil : index.boostingLiveItem(event.item, by: index.liveWeight(event.type, time: event.time))
            }
        } catch { throw .store(error) }
    }

    /// Logs then applies a stitch of visitor `from` to member `to`.
    public func alias(from: [UInt8], to: [UInt8]) throws(CommandError) -> UInt64 {
        do { return try live.commit { _ in .alias(from: from, to: to) } } catch { throw .store(error) }
    }

    public func item(_ patch: ItemPatch) throws(CommandError) -> UInt64 {
        do { return try live.commit({ _ in .item(patch) }) { $0.applying(patches: [patch]) } } catch { throw .store(error) }
    }

    /// Forgets the person `user` names (see `LiveStore.forget`); returns
    /// once it is on disk.
    @discardableResult
    public func forget(user: [UInt8]) throws(CommandError) -> [[UInt8]] {
        do { return try live.forget(user: user) } catch { throw .store(error) }
    }

    // MARK: - Reload and save

    /// Builds while serving use `reload-shards` threads (every core by
    /// default), all `BuildThreads.belowServing`: the event loops preempt
    /// them, so latency holds while the build takes what the loops leave.
    var backgroundBuild: ServerConfig {
        var c = config
        c.build.shards = config.reloadShards > 0 ? config.reloadShards : BuildConfig.defaultShards
        return c
    }

    /// Whether `dir` lies below the snapshot root or the data directory.
    func allowed(_ dir: String) -> Bool {
        let real = URL(fileURLWithPath: dir).resolvingSymlinksInPath().standardizedFileURL.path
        for root in [config.resolvedSnapshotRoot, config.dataDir] {
            let r = URL(fileURLWithPath: root).resolvingSymlinksInPath().standardizedFileURL.path
            if real == r || real.hasPrefix(r.hasSuffix("/") ? r : r + "/") { return true }
        }
        return false
    }

    /// Claims the single reload slot, or says why not.
    public func beginReload(_ dir: String?) throws(CommandError) -> String {
        let target = dir ?? currentSnapshot
        guard dir == nil || allowed(target) else {
            throw CommandError(code: "DENIED", message: "\(target) is outside snapshot-root (\(config.resolvedSnapshotRoot)) and data-dir (\(config.dataDir))")
        }
        try beginSave()
        return target
    }

    /// Claims the same single slot for a `SAVE` (it rebuilds too).
    public func beginSave() throws(CommandError) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw CommandError(code: "BUSY", message: "a RELOAD or SAVE is already running; try again when it finishes")
        }
    }

    /// Waits (up to `seconds`) for a running SAVE or RELOAD, so a shutdown
    /// does not cut one short; true if none is running.
    public func waitUntilIdle(seconds: Double) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while busy.load(ordering: .acquiring) {
            if ContinuousClock.now >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// Builds from `dir` while the old index serves, then switches to it
    /// (`LiveStore.switchTo`). Call after `beginReload` succeeded; releases
    /// the slot.
    public func reload(_ dir: String) -> Result<String, CommandError> {
        defer { busy.store(false, ordering: .releasing) }
        return BuildThreads.belowServing { reloadBelowServing(dir) }
    }

    private func reloadBelowServing(_ dir: String) -> Result<String, CommandError> {
        let start = ContinuousClock.now
        let snapshot: Snapshot
        do { snapshot = try Daemon.loadSnapshot(backgroundBuild, directory: dir, suppressed: suppressions.all) } catch {
            finish(start, ok: false, detail: error.description)
            return .failure(CommandError(code: "RELOAD", message: "\(error.description); the old index keeps serving"))
        }
        let index = Daemon.buildIndex(backgroundBuild.firstStage(atStart: false), snapshot: snapshot, directory: dir)
        let dropped: Int
        do { dropped = try live.switchTo(snapshot: dir, events: snapshot.events, index: index) } catch {
            finish(start, ok: false, detail: error.message)
            return .failure(.store(error))
        }
        let summary = "reloaded \(dir): \(index.itemCount) items, \(index.userCount) users, \(index.stats.neighborEntries) neighbours; \(state.eventCount) live events kept, \(dropped) held by the snapshot"
        finish(start, ok: true, detail: summary)
        tuneInBackground()
        return .success(summary)
    }

    /// Writes the current state (the served snapshot minus forgotten users,
    /// plus every live event up to now, the live catalog, the item vectors
    /// it was given) as a new snapshot directory, then makes it current
    /// (`LiveStore.switchToSaved`). Events that arrive meanwhile are
    /// numbered past it and stay.
    public func save() -> Result<String, CommandError> {
        defer { busy.store(false, ordering: .releasing) }
        return BuildThreads.belowServing { saveBelowServing() }
    }

    private func saveBelowServing() -> Result<String, CommandError> {
        let start = ContinuousClock.now
        let source = currentSnapshot
        let snapshot: Snapshot
        do { snapshot = try Daemon.loadSnapshot(backgroundBuild, directory: source, suppressed: suppressions.all) } catch {
            return .failure(CommandError(code: "SAVE", message: "cannot re-read \(source): \(error.description)"))
        }
        let input = live.saveInput()
        let dir = live.snapshotsDirectory + "/" + SavedSnapshot.name(time: Int(Date().timeIntervalSince1970), mark: input.mark)
        do {
            try SnapshotWriter.write(directory: dir, events: snapshot.events, skipping: input.forgotten, live: input.liveEvents,
                                     index: input.index, embeddings: snapshot.embeddings.map { ($0, snapshot.events.items) })
        } catch {
            return .failure(.storage("\(error)"))
        }
        let index: RecIndex
        do { index = try Daemon.buildIndex(backgroundBuild.firstStage(atStart: false), directory: dir, suppressed: suppressions.all) } catch {
            return .failure(CommandError(code: "SAVE", message: "saved \(dir) but cannot load it back: \(error.description); the old snapshot stays current"))
        }
        do { try live.switchToSaved(dir, covers: input.mark, index: index, keep: config.snapshotKeep) } catch {
            return .failure(.store(error))
        }
        finish(start, ok: true, detail: "saved \(dir)")
        tuneInBackground()
        return .success(dir)
    }

    /// Stage of the served model: "tuning" while the first stage serves and
    /// the background stage builds, then "tuned" ("single" when one build
    /// is all there is: a pinned model and no vectors to learn).
    public let buildStage = Mutex("single")

    /// The staged build: the snapshot serves at once with the first stage
    /// (`ServerConfig.firstStage`) while the model
    /// selection of `similarity auto` (`ModelSelection`), the chosen model
    /// and learned item vectors are built here in the background and
    /// swapped in, unless a RELOAD or SAVE switched snapshots meanwhile (its
    /// own stages then follow).
    func tuneInBackground(atStart: Bool = false) {
        let dir = currentSnapshot
        let learnsVectors = atStart && config.build.alsFactors > 0
            && !["embeddings.tsv", "embeddings.f32"].contains { FileManager.default.fileExists(atPath: dir + "/" + $0) }
        guard config.build.similarity == .auto || learnsVectors else { return }
        let generation = live.generation
        buildStage.withLock { $0 = "tuning" }
        DispatchQueue.global(qos: .utility).async { [self] in
            let start = ContinuousClock.now
            let built = BuildThreads.belowServing { try? Daemon.buildIndex(backgroundBuild, directory: dir, suppressed: suppressions.all) }
            guard let index = built else { return }
            guard live.replaceServed(with: index, ifGeneration: generation) else { return }
            buildStage.withLock { $0 = "tuned" }
            Log.info("model_tuned", ["snapshot": dir, "model": index.stats.selection?.chosen.name ?? "?",
                                     "seconds": (ContinuousClock.now - start).inSeconds])
        }
    }

    func finish(_ start: ContinuousClock.Instant, ok: Bool, detail: String) {
        let seconds = (ContinuousClock.now - start).inSeconds
        Allocator.returnFreedMemory()
        lastReload.withLock { $0 = ReloadOutcome(finishedAt: Date(), seconds: seconds, ok: ok, detail: detail) }
        if ok { Log.info("reload", ["seconds": seconds, "detail": detail]) } else {
            Log.warn("reload_failed", ["seconds": seconds, "detail": detail])
        }
    }
}
