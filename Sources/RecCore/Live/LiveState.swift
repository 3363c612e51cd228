import Synchronization

/// Everything received since the snapshot: per-user live events, forgotten
/// users, catalog patches. Users are split over shards by a hash of their
/// id, each shard behind its own mutex, so writers for different users do
/// not contend and readers of the item index never wait for them.
///
/// Kept by name, not index id, so it survives a reload unchanged.
public final class LiveState: Sendable {
    public struct User: Sendable {
        public var name: [UInt8]
        public var events: [LiveEvent] = []
        /// Arrival order of each event (see `sequence`).
        var sequences: [UInt64] = []
        /// The snapshot's history of this user no longer counts (FORGET).
        public var forgotten = false
        var forgottenAt: UInt64 = 0
    }

    struct Shard {
        /// By FNV-1a hash of the name; a bucket holds the rare collisions.
        var users: [UInt64: [User]] = [:]
    }

    /// `Mutex` is not copyable, so each lives in a box of its own.
    final class ShardBox: Sendable {
        let lock = Mutex(Shard())
    }

    public static let shardCount = 16
    private let shards: [ShardBox] = (0..<LiveState.shardCount).map { _ in ShardBox() }
    /// Catalog patches by item, each with the sequence number of its latest change.
    private let patches = Mutex<[[UInt8]: (patch: ItemPatch, sequence: UInt64)]>([:])
    /// Identity stitching: visitor id -> member id, and each member's visitor
    /// ids; the sequence number of each stitch, for rewriting the log.
    struct Aliases {
        var root: [[UInt8]: [UInt8]] = [:]
        var members: [[UInt8]: [[UInt8]]] = [:]
        var sequence: [[UInt8]: UInt64] = [:]
    }
    private let aliases = Mutex(Aliases())
    private let aliasCount = Atomic<Int>(0)
    private let eventTotal = Atomic<Int>(0)
    /// The highest sequence number applied: each log record carries its
    /// own, given by `nextSequence` under the writer's lock, so the log, the
    /// manifest and memory agree on what "up to n" means.
    private let sequence = Atomic<UInt64>(0)
    private let tombstones = Atomic<Int>(0)
    private let newest = Atomic<Int64>(Int64.min)

    public init() {}

    public var eventCount: Int { eventTotal.load(ordering: .relaxed) }
    /// Cheap checks that let queries skip the shard lock when nothing is live.
    public var hasTombstones: Bool { tombstones.load(ordering: .relaxed) > 0 }
    /// The latest event time received live (Int64.min if none).
    public var newestTime: Int64 { newest.load(ordering: .relaxed) }
    public var lastSequence: UInt64 { sequence.load(ordering: .acquiring) }

    /// The number for the next record; call with the writer's lock held,
    /// then append and apply the record with it.
    public func nextSequence() -> UInt64 { sequence.load(ordering: .acquiring) + 1 }

    /// Numbers go on past `number` (the highest a log or manifest used).
    public func advanceSequence(to number: UInt64) { _ = sequence.max(number, ordering: .acquiringAndReleasing) }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    @inline(__always)
    func shard(_ h: UInt64) -> ShardBox { shards[Int(h % UInt64(LiveState.shardCount))] }

    /// Applies one record, as received or as replayed from the log, under
    /// its sequence number (`nextSequence` for a new one).
    public func apply(_ record: LogRecord, sequence number: UInt64) {
        _ = sequence.max(number, ordering: .acquiringAndReleasing)
        switch record {
        case .event(let user, let event):
            _ = newest.max(event.time, ordering: .relaxed)
            update(user) { u in
                u.events.append(event)
                u.sequences.append(number)
            }
            eventTotal.add(1, ordering: .relaxed)
        case .alias(let from, let to):
            let target = canonical(to)
            guard target != from else { return }
            // The visitor's live history becomes the member's.
            var moved: [LiveEvent] = [], movedSeqs: [UInt64] = []
            update(from) { u in
                moved = u.events
                movedSeqs = u.sequences
                u.events.removeAll()
                u.sequences.removeAll()
            }
            update(target) { u in
                u.events += moved
                u.sequences += movedSeqs
            }
            aliases.withLock { a in
                // Ids already stitched to `from` follow it to the member.
                let followers = a.members.removeValue(forKey: from) ?? []
                a.sequence[from] = number
                for f in followers + [from] {
                    a.root[f] = target
                    if !(a.members[target] ?? []).contains(f) { a.members[target, default: []].append(f) }
                }
                aliasCount.store(a.root.count, ordering: .relaxed)
            }
        case .forget(let user):
            // Forgetting a member forgets the visitors stitched to it.
            let stitched = aliases.withLock { a -> [[UInt8]] in
                let list = a.members.removeValue(forKey: user) ?? []
                for f in list { a.root.removeValue(forKey: f) }
                aliasCount.store(a.root.count, ordering: .relaxed)
                return list
            }
            for f in stitched { apply(.forget(user: f), sequence: number) }
            var dropped = 0
            update(user) { u in
                dropped = u.events.count
                u.events.removeAll()
                u.sequences.removeAll()
                if !u.forgotten { tombstones.add(1, ordering: .relaxed) }
                u.forgotten = true
                u.forgottenAt = number
            }
            eventTotal.subtract(dropped, ordering: .relaxed)
        case .item(let patch):
            patches.withLock { all in
                if all[patch.item] == nil { all[patch.item] = (patch, number) } else {
                    all[patch.item]!.patch.merge(patch)
                    all[patch.item]!.sequence = number
                }
            }
        }
    }

    /// Mutates the user's state in place in the shard's dictionary: copying
    /// the bucket out and back would make every append copy the user's
    /// whole event list (copy-on-write sees two owners).
    func update(_ name: [UInt8], _ body: (inout User) -> Void) {
        let h = name.withUnsafeBufferPointer { LiveState.hash($0) }
        shard(h).lock.withLock { s in
            if let x = s.users[h]?.firstIndex(where: { $0.name == name }) {
                body(&s.users[h]![x])
            } else {
                var u = User(name: name)
                body(&u)
                s.users[h, default: []].append(u)
            }
        }
    }

    /// Runs `body` with the user's live state (nil if none) under the shard's
    /// lock: no copy, no allocation. Keep `body` short.
    public func withUser<R>(_ name: UnsafeBufferPointer<UInt8>, _ body: (User?) -> R) -> R {
        let h = LiveState.hash(name)
        return shard(h).lock.withLock { s in
            guard let bucket = s.users[h] else { return body(nil) }
            for u in bucket where u.name.elementsEqual(name) { return body(u) }
            return body(nil)
        }
    }

    public func user(_ name: String) -> User? {
        var name = name
        return name.withUTF8 { withUser($0) { $0 } }
    }

    /// The member id `user` is stitched to, or `user` itself.
    public func canonical(_ user: [UInt8]) -> [UInt8] {
        guard aliasCount.load(ordering: .relaxed) > 0 else { return user }
        return aliases.withLock { $0.root[user] } ?? user
    }

    public func canonical(_ user: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard aliasCount.load(ordering: .relaxed) > 0 else { return nil }
        return aliases.withLock { $0.root[Array(user)] }
    }

    /// Visitor ids stitched to `member` (their snapshot histories count for it).
    public func stitched(to member: [UInt8]) -> [[UInt8]] {
        guard aliasCount.load(ordering: .relaxed) > 0 else { return [] }
        return aliases.withLock { $0.members[member] } ?? []
    }

    public var hasAliases: Bool { aliasCount.load(ordering: .relaxed) > 0 }

    /// All catalog patches, for applying to a freshly built index.
    public var catalogPatches: [ItemPatch] { patches.withLock { $0.values.map(\.patch) } }

    /// The whole state as numbered log records, in an order that replays to
    /// the same state: stitches, then per user its tombstone before its
    /// events, then catalog patches. Events and tombstones numbered up to
    /// `covered` are in the saved snapshot and left out; stitches and
    /// patches are kept whatever their number (a snapshot holds neither
    /// stitches nor the catalog's live history), renumbered past `covered`
    /// when needed so replay applies them.
    public func records(after covered: UInt64) -> [EventLog.Entry] {
        var out: [EventLog.Entry] = []
        let kept = { (q: UInt64) in q > covered ? q : covered + 1 }
        // Stitches first: replaying them moves nothing (the events below are
        // already under the member) but restores the mapping.
        aliases.withLock { a in
            for (from, to) in a.root { out.append(EventLog.Entry(kept(a.sequence[from] ?? 0), .alias(from: from, to: to))) }
        }
        for shard in shards {
            shard.lock.withLock { s in
                for bucket in s.users.values {
                    for u in bucket {
                        if u.forgotten && u.forgottenAt > covered { out.append(EventLog.Entry(u.forgottenAt, .forget(user: u.name))) }
                        for (e, q) in zip(u.events, u.sequences) where q > covered { out.append(EventLog.Entry(q, .event(user: u.name, e))) }
                    }
                }
            }
        }
        patches.withLock { for p in $0.values { out.append(EventLog.Entry(kept(p.sequence), .item(p.patch))) } }
        return out
    }

    /// Every live event with its sequence number.
    public func forEachNumberedEvent(_ body: ([UInt8], LiveEvent, UInt64) -> Void) {
        for shard in shards {
            shard.lock.withLock { s in
                for bucket in s.users.values { for u in bucket { for (e, q) in zip(u.events, u.sequences) { body(u.name, e, q) } } }
            }
        }
    }

    /// Every live event, for `SAVE`.
    public func forEachEvent(_ body: ([UInt8], LiveEvent) -> Void) {
        for shard in shards {
            shard.lock.withLock { s in
                for bucket in s.users.values { for u in bucket { for e in u.events { body(u.name, e) } } }
            }
        }
    }

    /// Names of forgotten users, for `SAVE` to leave out of the new snapshot.
    public func forgottenUsers() -> Set<[UInt8]> {
        var out = Set<[UInt8]>()
        for shard in shards {
            shard.lock.withLock { s in for bucket in s.users.values { for u in bucket where u.forgotten { out.insert(u.name) } } }
        }
        return out
    }

    /// After a reload: the events numbered in `held` are in the new
    /// snapshot, so they leave the live state; tombstones stay (the
    /// suppression list keeps forgotten users out of every snapshot).
    public func dropEvents(numbered held: Set<UInt64>) {
        guard !held.isEmpty else { return }
        drop { _, q in held.contains(q) } tombstone: { _ in false }
    }

    /// After the index is rebuilt from a saved snapshot: everything numbered
    /// up to `through` is in it, tombstones included (a saved snapshot
    /// leaves forgotten users out). Catalog patches stay: re-applying them
    /// is harmless and one may have arrived after the save.
    public func dropPersisted(through: UInt64) {
        drop { _, q in q <= through } tombstone: { $0 <= through }
    }

    func drop(_ event: (LiveEvent, UInt64) -> Bool, tombstone: (UInt64) -> Bool) {
        var dropped = 0
        for shard in shards {
            shard.lock.withLock { s in
                for (h, bucket) in s.users {
                    var kept: [User] = []
                    for var u in bucket {
                        var events: [LiveEvent] = [], sequences: [UInt64] = []
                        for (e, q) in zip(u.events, u.sequences) where !event(e, q) {
                            events.append(e)
                            sequences.append(q)
                        }
                        dropped += u.events.count - events.count
                        u.events = events
                        u.sequences = sequences
                        if u.forgotten && tombstone(u.forgottenAt) {
                            u.forgotten = false
                            tombstones.subtract(1, ordering: .relaxed)
                        }
                        if !u.events.isEmpty || u.forgotten { kept.append(u) }
                    }
                    s.users[h] = kept.isEmpty ? nil : kept
                }
            }
        }
        eventTotal.subtract(dropped, ordering: .relaxed)
    }
}
