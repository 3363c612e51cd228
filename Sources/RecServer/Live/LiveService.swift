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
/// One commit path: every write takes the next sequence number, is appended
/// to the log and applied to memory inside the writer lock (so memory and
/// the log agree on order); the data-dir's `Manifest` is the only switch
/// point between snapshots and says which numbered records the served
/// snapshot holds. Snapshot files are written and indexes built outside the
/// lock; queries never take it.
public final class LiveService: Sendable {
    public let config: ServerConfig
    public let store: IndexStore
    public let state: LiveState
    public let log: EventLog
    public let suppressions: Suppressions
    private let writer = Mutex(())
    private let busy = Atomic<Bool>(false)
    /// The manifest in force (its snapshot is the one served).
    private let manifest: Mutex<Manifest>
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
        do { index = try Daemon.buildIndex(config, directory: manifest.snapshot, suppressed: suppressions.all) } catch {
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
        let service = LiveService(config: config, store: IndexStore(index), state: state, log: opened.0, manifest: manifest,
                                  suppressions: suppressions, replaySkipped: skipped)
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

    init(config: ServerConfig, store: IndexStore, state: LiveState, log: EventLog, manifest: Manifest,
         suppressions: Suppressions, replaySkipped: Int = 0) {
        self.replaySkipped = replaySkipped
        self.config = config
        self.store = store
        self.state = state
        self.log = log
        self.manifest = Mutex(manifest)
        self.suppressions = suppressions
    }

    public var currentSnapshot: String { manifest.withLock { $0.snapshot } }
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

    /// Numbers, logs, then applies a record, all inside the writer lock, so
    /// memory sees records in the log's order. `make` builds the record from
    /// the state under the lock (an EVENT's user is resolved through ALIAS
    /// there, so a stitch cannot slip in between); `change` gives the served
    /// index's next generation, or nil to leave it, in the same critical
    /// section (a swap cannot slip in between either).
    func commit(_ make: (LiveState) -> LogRecord, index change: (RecIndex) -> RecIndex? = { _ in nil }) throws(CommandError) {
        try writer.withLock { (_: inout ()) throws(CommandError) in
            let record = make(state)
            let sequence = state.nextSequence()
            do { try log.append(record, sequence: sequence) } catch { throw .storage("\(error)") }
            state.apply(record, sequence: sequence)
            if let next = change(store.load()) { store.swap(next) }
        }
    }

    /// Logs then applies an event. Returns after the log has it. An item the
    /// built index lacks gains popularity from its events.
    public func record(user: [UInt8], _ event: LiveEvent) throws(CommandError) {
        try commit({ .event(user: $0.canonical(user), event) }) { index in
            let built = event.item.withUnsafeBufferPointer { index.items.lookup($0) }.map(index.isBuilt) ?? false
            return built ? nil : index.boostingLiveItem(event.item, by: index.liveWeight(event.type, time: event.time))
        }
    }

    /// Logs then applies a stitch of visitor `from` to member `to`.
    public func alias(from: [UInt8], to: [UInt8]) throws(CommandError) {
        try commit { _ in .alias(from: from, to: to) }
    }

    public func item(_ patch: ItemPatch) throws(CommandError) {
        try commit({ _ in .item(patch) }) { $0.applying(patches: [patch]) }
    }

    /// Forgets the user: the suppression list (so no snapshot brings them
    /// back) and a logged tombstone first, then memory, then the log is
    /// rewritten without their events. If only that rewrite fails, the
    /// FORGET has taken effect and the error says the erasure is pending.
    public func forget(user: [UInt8]) throws(CommandError) {
        guard suppressions.add(user) else { throw .storage("cannot write \(suppressions.path)") }
        for visitor in state.stitched(to: user) where !suppressions.add(visitor) {
            throw .storage("cannot write \(suppressions.path)")
        }
        try commit { _ in .forget(user: user) }
        try writer.withLock { (_: inout ()) throws(CommandError) in
            let covers = manifest.withLock { $0.covers }
            do { try log.rewrite(state.records(after: covers)) } catch {
                throw CommandError(code: "STORAGE", message: "forgotten, but the event log still holds their events until the next SAVE or FORGET succeeds (\(error))")
            }
        }
        // The index built from the snapshot still has the user until the next
        // build; memory's tombstone hides them meanwhile (LiveState.forgotten).
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

    /// Builds from `dir` while the old index serves, then swaps. Every live
    /// event stays, whatever its time, except those the new snapshot holds
    /// itself (the same user, item, type and time: the export already has
    /// what the site sent). Call after `beginReload` succeeded; releases the slot.
    public func reload(_ dir: String) -> Result<String, CommandError> {
        defer { busy.store(false, ordering: .releasing) }
        let start = ContinuousClock.now
        let snapshot: Snapshot
        do { snapshot = try Daemon.loadSnapshot(backgroundBuild, directory: dir, suppressed: suppressions.all) } catch {
            finish(start, ok: false, detail: error.description)
            return .failure(CommandError(code: "RELOAD", message: "\(error.description); the old index keeps serving"))
        }
        let index = Daemon.buildIndex(backgroundBuild, snapshot: snapshot, directory: dir)
        var dropped = 0
        do {
            try writer.withLock { (_: inout ()) throws(CommandError) in
                let held = heldEvents(in: snapshot.events)
                dropped = held.count
                var next = manifest.withLock { $0 }
                next.snapshot = dir
                next.held = held
                // The switch point; the log still has the held events, which
                // replay skips until the rewrite below drops them.
                guard next.write(dataDir: config.dataDir) else { throw .storage("cannot write \(config.dataDir)/\(Manifest.fileName)") }
                manifest.withLock { $0 = next }
                state.dropEvents(numbered: held)
                store.update { _ in withLive(index) }
                if !held.isEmpty {
                    try compactLog(covers: next.covers)
                }
            }
        } catch {
            finish(start, ok: false, detail: error.message)
            return .failure(error)
        }
        let summary = "reloaded \(dir): \(index.itemCount) items, \(index.userCount) users, \(index.stats.neighborEntries) neighbours; \(state.eventCount) live events kept, \(dropped) held by the snapshot"
        finish(start, ok: true, detail: summary)
        return .success(summary)
    }

    /// Rewrites the log with what memory holds past `covers`, then clears
    /// the manifest's held set (a crash between the two is harmless: replay
    /// skips held records that are no longer there). Writer lock held.
    private func compactLog(covers: UInt64) throws(CommandError) {
        do { try log.rewrite(state.records(after: covers)) } catch { throw .storage("\(error)") }
        var next = manifest.withLock { $0 }
        guard !next.held.isEmpty else { return }
        next.held = []
        if next.write(dataDir: config.dataDir) { manifest.withLock { $0 = next } }
    }

    /// Sequence numbers of the live events `events` holds itself.
    func heldEvents(in events: EventTable) -> Set<UInt64> {
        var live: [Int64: [(user: [UInt8], event: LiveEvent, sequence: UInt64)]] = [:]
        state.forEachNumberedEvent { user, e, q in live[e.time, default: []].append((user, e, q)) }
        guard !live.isEmpty else { return [] }
        var held = Set<UInt64>()
        for e in 0..<events.count {
            guard let candidates = live[events.time[e]] else { continue }
            for c in candidates where !held.contains(c.sequence) && c.event.type == events.type[e] {
                let same = events.users.withName(events.user[e]) { $0.elementsEqual(c.user) }
                    && events.items.withName(events.item[e]) { $0.elementsEqual(c.event.item) }
                if same {
                    held.insert(c.sequence)
                    break
                }
            }
        }
        return held
    }

    /// Writes the current state (the served snapshot minus forgotten users,
    /// plus every live event up to now, the live catalog, the item vectors
    /// it was given) as a new snapshot directory, then makes it current
    /// through the manifest and drops from memory and the log what it holds.
    /// Events that arrive meanwhile are numbered past it and stay.
    public func save() -> Result<String, CommandError> {
        defer { busy.store(false, ordering: .releasing) }
        let start = ContinuousClock.now
        let source = currentSnapshot
        let snapshot: Snapshot
        do { snapshot = try Daemon.loadSnapshot(backgroundBuild, directory: source, suppressed: suppressions.all) } catch {
            return .failure(CommandError(code: "SAVE", message: "cannot re-read \(source): \(error.description)"))
        }
        // What the new snapshot holds: everything numbered up to `mark`,
        // read in one critical section.
        var live: [([UInt8], LiveEvent)] = []
        var forgotten = Set<[UInt8]>()
        var mark: UInt64 = 0
        var catalogIndex = store.load()
        writer.withLock { _ in
            mark = state.lastSequence
            state.forEachEvent { live.append(($0, $1)) }
            forgotten = state.forgottenUsers()
            catalogIndex = store.load()
        }
        let name = "snapshot-\(Int(Date().timeIntervalSince1970))-\(mark)"
        let dir = config.dataDir + "/snapshots/" + name
        do {
            try SnapshotWriter.write(directory: dir, events: snapshot.events, skipping: forgotten, live: live, index: catalogIndex,
                                     embeddings: snapshot.embeddings.map { ($0, snapshot.events.items) })
        } catch {
            return .failure(.storage("\(error)"))
        }
        let index: RecIndex
        do { index = try Daemon.buildIndex(backgroundBuild, directory: dir, suppressed: suppressions.all) } catch {
            return .failure(CommandError(code: "SAVE", message: "saved \(dir) but cannot load it back: \(error.description); the old snapshot stays current"))
        }
        do {
            try writer.withLock { (_: inout ()) throws(CommandError) in
                let next = Manifest(snapshot: dir, covers: mark)
                guard next.write(dataDir: config.dataDir) else { throw .storage("cannot write \(config.dataDir)/\(Manifest.fileName)") }
                manifest.withLock { $0 = next }
                state.dropPersisted(through: mark)
                store.update { _ in withLive(index) }
                try compactLog(covers: mark)
            }
        } catch {
            return .failure(error)
        }
        finish(start, ok: true, detail: "saved \(dir)")
        return .success(dir)
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
