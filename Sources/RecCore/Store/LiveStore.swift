import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the data-dir could not do, for the user to fix (disk full,
/// permissions); nothing was changed unless the message says so.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The one commit path: the served index, the live state, the event log,
/// the manifest and the suppression list of one data-dir, and the only code
/// that changes them together.
///
/// Every write takes the next sequence number, is appended to the log and
/// applied to memory inside the writer lock (so memory and the log agree on
/// order); its acknowledgement waits for the log's ticket (`EventLog.sync`).
/// The manifest is the only switch point between snapshots and says which
/// numbered records the served snapshot holds. Snapshot files are written
/// and indexes built by the caller, outside the lock; queries never take it.
public final class LiveStore: Sendable {
    public let dataDir: String
    public let served: IndexStore
    public let state: LiveState
    public let log: EventLog
    public let suppressions: Suppressions
    private let writer = Mutex(())
    private let manifest: Mutex<Manifest>
    /// Moves at every snapshot switch, so work started on one snapshot
    /// (a background tuning build) can tell whether it still applies.
    private let switches = Atomic<Int>(0)

    public init(dataDir: String, index: RecIndex, state: LiveState, log: EventLog, manifest: Manifest, suppressions: Suppressions) {
        self.dataDir = dataDir
        self.state = state
        self.log = log
        self.manifest = Mutex(manifest)
        self.suppressions = suppressions
        served = IndexStore(index)
        served.update { withLive($0) }
    }

    public var currentManifest: Manifest { manifest.withLock { $0 } }
    public var generation: Int { switches.load(ordering: .acquiring) }

    /// Serves `index`, built from the current snapshot by a later build
    /// stage, unless a switch happened since `generation` (then that
    /// snapshot's own stages apply). True if it was swapped in.
    public func replaceServed(with index: RecIndex, ifGeneration generation: Int) -> Bool {
        writer.withLock { _ in
            guard switches.load(ordering: .acquiring) == generation else { return false }
            served.update { _ in withLive(index) }
            return true
        }
    }
    public var snapshotsDirectory: String { dataDir + "/snapshots" }

    /// `index` with the live catalog patches, popularity for items only live
    /// events know, and the users FORGET removed hidden.
    public func withLive(_ index: RecIndex) -> RecIndex {
        var boosts: [[UInt8]: Float] = [:]
        state.forEachEvent { _, e in
            let known = e.item.withUnsafeBufferPointer { index.items.lookup($0) }.map(index.isBuilt) ?? false
            if !known { boosts[e.item, default: 0] += index.liveWeight(e.type, time: e.time) }
        }
        let patched = index.applying(patches: state.catalogPatches, popularityBoosts: boosts.map { ($0.key, $0.value) })
        return state.hasTombstones ? patched.hiding(users: state.forgottenUsers()) : patched
    }

    // MARK: - Writes

    /// Numbers, logs, then applies a record, all inside the writer lock.
    /// `make` builds the record from the state under the lock (an EVENT's
    /// user is resolved through ALIAS there, so a stitch cannot slip in
    /// between); `change` gives the served index's next generation, or nil
    /// to leave it, in the same critical section (a swap cannot slip in
    /// between either). Returns the log ticket the acknowledgement waits for.
    public func commit(_ make: (LiveState) throws(StoreError) -> LogRecord,
                       index change: (RecIndex) -> RecIndex? = { _ in nil }) throws(StoreError) -> UInt64 {
        try writer.withLock { (_: inout ()) throws(StoreError) -> UInt64 in
            let record = try make(state)
            let sequence = state.nextSequence()
            let ticket: UInt64
            do { ticket = try log.append(record, sequence: sequence) } catch { throw StoreError("\(error); not applied") }
            state.apply(record, sequence: sequence)
            if let next = change(served.load()) { served.swap(next) }
            return ticket
        }
    }

    /// Waits until the record behind `ticket` is on disk (with `always`).
    public func sync(_ ticket: UInt64) throws(StoreError) {
        do { try log.sync(through: ticket) } catch { throw StoreError(error.description) }
    }

    /// Forgets the person `user` names: a visitor id stitched to a member
    /// names the member, and forgetting a member forgets every id stitched
    /// to it. The suppression list (so no snapshot brings them back), a
    /// logged tombstone, memory and the served index's hidden users change
    /// in one critical section, then the log is rewritten without their
    /// events. If only that rewrite fails the FORGET has taken effect, and
    /// the error says the erasure is pending.
    /// Returns every id forgotten: the member, their stitched visitors, and
    /// `user` itself.
    @discardableResult
    public func forget(user: [UInt8]) throws(StoreError) -> [[UInt8]] {
        var ids: [[UInt8]] = []
        let ticket = try commit({ (state: LiveState) throws(StoreError) -> LogRecord in
            let member = state.canonical(user)
            ids = [member] + state.stitched(to: member) + (member == user ? [] : [user])
            for id in ids where !suppressions.add(id) { throw StoreError("cannot write \(suppressions.path); nothing was forgotten") }
            return .forget(user: member)
        }) { $0.hiding(users: ids) }
        try sync(ticket)
        try writer.withLock { (_: inout ()) throws(StoreError) in
            do { try log.rewrite(state.records(after: manifest.withLock { $0.covers })) } catch {
                throw StoreError("forgotten, but the event log still holds their events until the next SAVE or FORGET succeeds (\(error))")
            }
        }
        return ids
    }

    // MARK: - Switching snapshots

    /// RELOAD's switch: `index`, built from `dir` whose events are
    /// `events`, becomes the served one. Live events the snapshot holds
    /// itself (the same user, item, type and time: the export already has
    /// what the site sent) leave memory; every other live event stays,
    /// whatever its time. Returns how many left.
    public func switchTo(snapshot dir: String, events: EventTable, index: RecIndex) throws(StoreError) -> Int {
        try writer.withLock { (_: inout ()) throws(StoreError) -> Int in
            let held = heldEvents(in: events)
            var next = manifest.withLock { $0 }
            next.snapshot = dir
            next.held = held
            // The switch point; the log still has the held events, which
            // replay skips until the rewrite below drops them.
            try write(next)
            switches.add(1, ordering: .releasing)
            state.dropEvents(numbered: held)
            served.update { _ in withLive(index) }
            if !held.isEmpty { try compactLog(covers: next.covers) }
            return held.count
        }
    }

    /// What a SAVE writes, read in one critical section: everything
    /// numbered up to `mark`.
    public struct SaveInput {
        public var mark: UInt64
        public var liveEvents: [([UInt8], LiveEvent)]
        public var forgotten: Set<[UInt8]>
        public var index: RecIndex
    }

    public func saveInput() -> SaveInput {
        writer.withLock { _ in
            var live: [([UInt8], LiveEvent)] = []
            state.forEachEvent { live.append(($0, $1)) }
            return SaveInput(mark: state.lastSequence, liveEvents: live, forgotten: state.forgottenUsers(), index: served.load())
        }
    }

    /// SAVE's switch: `dir`, written from `saveInput()` with mark `covers`
    /// and built into `index`, becomes current; memory and the log drop
    /// what it holds. Then the oldest saved snapshots past `keep` and the
    /// damaged log pieces are deleted (the new snapshot holds all that
    /// recd could read).
    public func switchToSaved(_ dir: String, covers: UInt64, index: RecIndex, keep: Int) throws(StoreError) {
        try writer.withLock { (_: inout ()) throws(StoreError) in
            try write(Manifest(snapshot: dir, covers: covers))
            switches.add(1, ordering: .releasing)
            state.dropPersisted(through: covers)
            served.update { _ in withLive(index) }
            try compactLog(covers: covers)
        }
        pruneSnapshots(keep: keep, current: dir)
        for piece in EventLog.damagedPieces(of: log.path) { unlink(piece) }
    }

    /// Deletes saved snapshot directories past the newest `keep` (never
    /// the current one, nor anything not named as SAVE names them).
    public func pruneSnapshots(keep: Int, current: String) {
        let saved = SavedSnapshot.list(in: snapshotsDirectory)
        for old in saved.dropFirst(max(1, keep)) where snapshotsDirectory + "/" + old.name != current {
            SavedSnapshot.remove(snapshotsDirectory + "/" + old.name)
        }
    }

    private func write(_ next: Manifest) throws(StoreError) {
        guard next.write(dataDir: dataDir) else { throw StoreError("cannot write \(dataDir)/\(Manifest.fileName) (\(String(cString: strerror(errno))))") }
        manifest.withLock { $0 = next }
    }

    /// Rewrites the log with what memory holds past `covers`, then clears
    /// the manifest's held set (a crash between the two is harmless: replay
    /// skips held records that are no longer there). Writer lock held.
    private func compactLog(covers: UInt64) throws(StoreError) {
        do { try log.rewrite(state.records(after: covers)) } catch { throw StoreError(error.description) }
        var next = manifest.withLock { $0 }
        guard !next.held.isEmpty else { return }
        next.held = []
        if next.write(dataDir: dataDir) { manifest.withLock { $0 = next } }
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
}
