import Foundation
import RecCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The live half of the service: events, catalog changes and forgetting go
/// to the event log first and then into memory; reloads and saves rebuild
/// the index in the background and swap it in.
///
/// One writer lock orders log appends against log rewrites (FORGET, SAVE,
/// RELOAD), so the log always replays to what memory holds. Queries never
/// take it.
public final class LiveService: Sendable {
    public let config: ServerConfig
    public let store: IndexStore
    public let state: LiveState
    public let log: EventLog
    private let writer = Mutex(())
    private let busy = Atomic<Bool>(false)
    /// The snapshot directory the served index was built from.
    private let snapshotDir: Mutex<String>
    public let lastReload = Mutex<ReloadOutcome?>(nil)
    /// Log records the last start could not apply (`LogRecord.problem`).
    public let replaySkipped: Int

    public struct ReloadOutcome: Sendable {
        public var finishedAt: Date
        public var seconds: Double
        public var ok: Bool
        public var detail: String
    }

    public var logPath: String { config.dataDir + "/events.log" }
    static var currentFile: String { "CURRENT" }

    /// Opens the data directory, loads the snapshot (the one `CURRENT`
    /// names, else the configured one), builds, and replays the event log.
    public static func start(_ config: ServerConfig) throws(StartError) -> LiveService {
        do {
            try FileManager.default.createDirectory(atPath: config.dataDir + "/snapshots", withIntermediateDirectories: true)
        } catch {
            throw .dataDir("cannot create \(config.dataDir)/snapshots: \(error.localizedDescription)")
        }
        var snapshot = config.snapshot
        if let named = try? String(contentsOfFile: config.dataDir + "/" + currentFile, encoding: .utf8) {
            let dir = named.trimmingCharacters(in: .whitespacesAndNewlines)
            if !dir.isEmpty {
                snapshot = dir
                Log.info("current_snapshot", ["from": config.dataDir + "/" + currentFile, "snapshot": dir])
            }
        }
        let index: RecIndex
        do { index = try Daemon.buildIndex(config, directory: snapshot) } catch { throw .snapshot(error) }
        Allocator.returnFreedMemory()
        let opened: (EventLog, EventLog.Replay)
        do { opened = try EventLog.open(path: config.dataDir + "/events.log", policy: config.appendFsync) } catch {
            throw .eventLog(error)
        }
        let state = LiveState()
        let latest = Int64(Date().timeIntervalSince1970) + Int64(config.maxClockSkew)
        var skipped = 0
        for (n, r) in opened.1.records.enumerated() {
            if let problem = r.problem(latestTime: latest) {
                skipped += 1
                // Each is logged up to a point; the total always is, and INFO keeps it.
                if skipped <= 20 { Log.warn("event_log_record_skipped", ["record": n + 1, "reason": problem]) }
                continue
            }
            state.apply(r)
        }
        if skipped > 0 {
            Log.warn("event_log_records_skipped", ["path": opened.0.path, "skipped": skipped,
                                                   "detail": "records that can no longer be applied; the next SAVE or FORGET rewrites the log without them"])
        }
        if let damage = opened.1.damage {
            Log.warn("event_log_damaged", ["path": opened.0.path, "detail": damage])
        }
        Log.info("event_log_replayed", ["path": opened.0.path, "records": opened.1.records.count, "events": state.eventCount])
        let service = LiveService(config: config, store: IndexStore(index), state: state, log: opened.0, snapshot: snapshot,
                                  replaySkipped: skipped)
        service.store.update { service.withLive($0) }
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

    init(config: ServerConfig, store: IndexStore, state: LiveState, log: EventLog, snapshot: String, replaySkipped: Int = 0) {
        self.replaySkipped = replaySkipped
        self.config = config
        self.store = store
        self.state = state
        self.log = log
        self.snapshotDir = Mutex(snapshot)
    }

    public var currentSnapshot: String { snapshotDir.withLock { $0 } }
    public var isReloading: Bool { busy.load(ordering: .relaxed) }

    /// `index` with the live catalog patches, and popularity for items only
    /// live events know.
    func withLive(_ index: RecIndex) -> RecIndex {
        var boosts: [[UInt8]: Float] = [:]
        state.forEachEvent { _, e in
            let known = e.item.withUnsafeBufferPointer { index.items.lookup($0) }.map(index.isBuilt) ?? false
            if !known { boosts[e.item, default: 0] += index.liveWeight(e.type, time: e.time) }
        }
        return index.applying(patches: state.catalogPatches, popularityBoosts: boosts.map { ($0.key, $0.value) })
    }

    // MARK: - Writes

    /// Logs then applies an event. Returns after the log has it.
    public func record(user: [UInt8], _ event: LiveEvent) throws(CommandError) {
        let user = state.canonical(user)  // a stitched visitor's events go to the member
        try writer.withLock { (_: inout ()) throws(CommandError) in
            do { try log.append(.event(user: user, event)) } catch { throw .storage("\(error)") }
            state.apply(.event(user: user, event))
        }
        // An item the built index lacks gains popularity from its events.
        let index = store.load()
        let built = event.item.withUnsafeBufferPointer { index.items.lookup($0) }.map(index.isBuilt) ?? false
        if !built {
            store.update { $0.boostingLiveItem(event.item, by: $0.liveWeight(event.type, time: event.time)) }
        }
    }

    /// Logs then applies a stitch of visitor `from` to member `to`.
    public func alias(from: [UInt8], to: [UInt8]) throws(CommandError) {
        try writer.withLock { (_: inout ()) throws(CommandError) in
            do { try log.append(.alias(from: from, to: to)) } catch { throw .storage("\(error)") }
            state.apply(.alias(from: from, to: to))
        }
    }

    public func item(_ patch: ItemPatch) throws(CommandError) {
        try writer.withLock { (_: inout ()) throws(CommandError) in
            do { try log.append(.item(patch)) } catch { throw .storage("\(error)") }
            state.apply(.item(patch))
        }
        store.update { $0.applying(patches: [patch]) }
    }

    /// Forgets the user in memory and rewrites the log without their events
    /// (a tombstone stays, so the snapshot's history of them stays ignored
    /// until a SAVE writes a snapshot without them).
    public func forget(user: [UInt8]) throws(CommandError) {
        try writer.withLock { (_: inout ()) throws(CommandError) in
            state.apply(.forget(user: user))
            do { try log.rewrite(state.records()) } catch { throw .storage("\(error)") }
        }
    }

    // MARK: - Reload and save

    /// Builds while serving use `reload-shards` shards, so the event loops
    /// keep cores of their own and latency holds during a reload.
    var backgroundBuild: ServerConfig {
        var c = config
        c.build.shards = config.reloadShards > 0 ? config.reloadShards : max(1, BuildConfig.defaultShards / 2)
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

    /// Builds from `dir` while the old index serves, then swaps. Live events
    /// newer than the new snapshot's latest event stay. Call after
    /// `beginReload` succeeded; releases the slot.
    public func reload(_ dir: String) -> Result<String, CommandError> {
        defer { busy.store(false, ordering: .releasing) }
        let start = ContinuousClock.now
        let index: RecIndex
        do {
            index = try Daemon.buildIndex(backgroundBuild, directory: dir)
        } catch {
            finish(start, ok: false, detail: error.description)
            return .failure(CommandError(code: "RELOAD", message: "\(error.description); the old index keeps serving"))
        }
        do {
            try writer.withLock { (_: inout ()) throws(CommandError) in
                state.dropEvents(atOrBefore: index.referenceTime)
                do { try log.rewrite(state.records()) } catch { throw .storage("\(error)") }
                try pointCurrent(at: dir)
                store.update { _ in withLive(index) }
                snapshotDir.withLock { $0 = dir }
            }
        } catch {
            finish(start, ok: false, detail: error.message)
            return .failure(error)
        }
        let summary = "reloaded \(dir): \(index.itemCount) items, \(index.userCount) users, \(index.stats.neighborEntries) neighbours; \(state.eventCount) live events kept"
        finish(start, ok: true, detail: summary)
        return .success(summary)
    }

    /// Writes the current state (snapshot minus forgotten users, plus live
    /// events, plus the live catalog) as a new snapshot directory, makes it
    /// current, empties the log of what it holds, and rebuilds from it.
    public func save() -> Result<String, CommandError> {
        defer { busy.store(false, ordering: .releasing) }
        let start = ContinuousClock.now
        let source = currentSnapshot
        let snapshot: Snapshot
        do { snapshot = try SnapshotLoader.load(directory: source) } catch {
            return .failure(CommandError(code: "SAVE", message: "cannot re-read \(source): \(error.description)"))
        }
        let name = "snapshot-\(Int(Date().timeIntervalSince1970))-\(state.lastSequence)"
        let dir = config.dataDir + "/snapshots/" + name
        do {
            try writer.withLock { (_: inout ()) throws(CommandError) in
                var live: [([UInt8], LiveEvent)] = []
                state.forEachEvent { live.append(($0, $1)) }
                do {
                    try SnapshotWriter.write(directory: dir, events: snapshot.events, skipping: state.forgottenUsers(),
                                             live: live, index: store.load())
                } catch { throw .storage("\(error)") }
                try pointCurrent(at: dir)
                state.markPersisted(through: state.lastSequence)
                do { try log.rewrite(state.records()) } catch { throw .storage("\(error)") }
            }
        } catch {
            return .failure(error)
        }
        // Rebuild from what was saved, so memory no longer layers those
        // events over the old snapshot.
        let mark = state.lastSequence
        let index: RecIndex
        do { index = try Daemon.buildIndex(backgroundBuild, directory: dir) } catch {
            return .failure(CommandError(code: "SAVE", message: "saved \(dir) but cannot load it back: \(error.description)"))
        }
        writer.withLock { _ in
            state.dropPersisted(through: min(mark, state.lastSequence))
            store.update { _ in withLive(index) }
            snapshotDir.withLock { $0 = dir }
        }
        finish(start, ok: true, detail: "saved \(dir)")
        return .success(dir)
    }

    func pointCurrent(at dir: String) throws(CommandError) {
        let path = config.dataDir + "/" + LiveService.currentFile
        guard EventLog.writeWhole(Array((dir + "\n").utf8), to: path + ".tmp"), rename(path + ".tmp", path) == 0 else {
            throw .storage("cannot write \(path)")
        }
        EventLog.syncDirectory(of: path)
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
