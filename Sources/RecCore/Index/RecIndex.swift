/// One immutable generation of everything queries read: ids, catalog,
/// histories, neighbours and popularity. A reload builds a new one and swaps
/// the reference; readers holding the old one finish undisturbed.
public final class RecIndex: Sendable {
    public let config: BuildConfig
    public let users: ByteInterner
    public let items: ByteInterner
    public let catalog: Catalog
    public let histories: UserHistories
    public let neighbors: NeighborIndex
    public let popularity: Popularity
    public let repurchase: Repurchase
    /// Item vectors (VSIM, VREC, REC mode=vec|hybrid), when the snapshot has them.
    public let vectors: VectorIndex?
    /// Recency, frequency, monetary per buying user (SEGMENT).
    public let rfm: RFMTable
    /// Per item, the users who have it with their affinity (LOOKALIKE).
    public let itemUsers: ItemUsers
    /// Per item, interested users who did not buy (AUDIENCE).
    public let audiences: Audiences
    /// Latest event time in the snapshot; decay is measured back from it.
    public let referenceTime: Int64
    public let stats: BuildStats
    public let report: LoadReport
    /// Users this generation still holds but FORGET removed: every query
    /// over users leaves them out until the next build drops them (its
    /// snapshot is loaded without them). Few, so a set.
    public let hiddenUsers: Set<UInt32>

    init(config: BuildConfig, users: ByteInterner, items: ByteInterner, catalog: Catalog,
         histories: UserHistories, neighbors: NeighborIndex, popularity: Popularity,
         repurchase: Repurchase, vectors: VectorIndex? = nil, rfm: RFMTable,
         itemUsers: ItemUsers, audiences: Audiences, referenceTime: Int64, stats: BuildStats, report: LoadReport,
         hiddenUsers: Set<UInt32> = []) {
        self.config = config
        self.users = users
        self.items = items
        self.catalog = catalog
        self.histories = histories
        self.neighbors = neighbors
        self.popularity = popularity
        self.repurchase = repurchase
        self.vectors = vectors
        self.rfm = rfm
        self.itemUsers = itemUsers
        self.audiences = audiences
        self.referenceTime = referenceTime
        self.stats = stats
        self.report = report
        self.hiddenUsers = hiddenUsers
    }

    /// Whether queries over users may return or count snapshot user `user`.
    @inline(__always)
    public func isVisible(_ user: UInt32) -> Bool { hiddenUsers.isEmpty || !hiddenUsers.contains(user) }

    public var itemCount: Int { items.count }
    public var userCount: Int { users.count }

    /// Bytes held by the index's arrays (not counting allocator overhead).
    public var memoryBytes: Int {
        users.memoryBytes + items.memoryBytes + catalog.memoryBytes + histories.memoryBytes
            + neighbors.memoryBytes + popularity.memoryBytes + repurchase.memoryBytes + (vectors?.memoryBytes ?? 0)
            + itemUsers.memoryBytes + audiences.memoryBytes
    }
}
