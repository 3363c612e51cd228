/// Per-thread working memory for queries, sized to the index and reused, so a
/// query allocates nothing. Dense arrays are "cleared" by bumping a
/// generation number instead of being zeroed (as hnswlib's visited lists).
///
/// Not thread-safe: each event-loop thread owns one.
public final class QueryScratch {
    /// Everything a query knows of one item in one place, so the scatter-add
    /// and the selection after it take one cache miss per item, not two.
    /// `stamp == generation` means `score` belongs to the current query;
    /// `blocked == generation` means the item may not be returned.
    struct Slot {
        var score: Float
        var stamp: UInt32
        var blocked: UInt32
    }

    // Raw buffers, not arrays: the scatter-add in REC touches thousands of
    // random items per query, and array properties of a class pay a
    // uniqueness (copy-on-write) check on every write: raw buffers halved
    // REC's in-process p50 (Online Retail 20.1 -> 10.3 µs, synthetic 16.1 -> 10.1 µs).
    private(set) var capacity = 0
    var slots: UnsafeMutablePointer<Slot> = UnsafeMutablePointer.allocate(capacity: 1)
    /// Items scored by the current query, in first-touched order.
    var touchedIds: UnsafeMutablePointer<UInt32> = UnsafeMutablePointer.allocate(capacity: 1)
    var touchedCount = 0
    var generation: UInt32 = 0
    var heap = TopKHeap(capacity: 64)
    public var result = ResultList()
    /// Items named by the request (SESSION's visit, `exclude=`), filled by the caller.
    public var requestItems: [UInt32] = []
    public var excludeItems: [UInt32] = []
    /// The asking user's live events for `REC`, as index ids and affinity
    /// weights; the caller fills (or clears) them before each `recommend`.
    public var liveItems: [UInt32] = []
    public var liveWeights: [Float] = []
    /// A query vector (VREC's, or a user's mean), padded to the index's stride.
    public var vector: [Float] = []
    /// VREC's query as the request gave it, before normalising into `vector`.
    public var requestVector: [Float] = []
    /// The nearest vectors of the current query, before blending and filters.
    var nearest = TopKHeap(capacity: 64)
    var vectorHeaps: [TopKHeap] = []
    let graphScratch = HNSWScratch()
    /// The asking user's live purchases for `DUE` (index id, Unix seconds).
    public var livePurchases: [(item: UInt32, time: Int64)] = []

    public init() {
        requestItems.reserveCapacity(64)
        excludeItems.reserveCapacity(64)
    }

    deinit {
        slots.deallocate()
        touchedIds.deallocate()
    }

    /// Starts a query over an index of `itemCount` items.
    @inline(__always)
    func begin(itemCount: Int) {
        if capacity < itemCount { grow(itemCount) }
        generation &+= 1
        if generation == 0 {
            // Wrapped after 4 billion queries: stale stamps could match again.
            clearStamps()
            generation = 1
        }
        touchedCount = 0
        result.clear()
    }

    func grow(_ itemCount: Int) {
        slots.deallocate()
        touchedIds.deallocate()
        slots = .allocate(capacity: itemCount)
        touchedIds = .allocate(capacity: itemCount)
        capacity = itemCount
        clearStamps()
    }

    func clearStamps() {
        slots.initialize(repeating: Slot(score: 0, stamp: 0, blocked: 0), count: capacity)
        generation = 0
    }

    var touched: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: touchedIds, count: touchedCount) }

    @inline(__always)
    func score(_ j: UInt32) -> Float { slots[Int(j)].score }

    /// Whether j got a co-occurrence score in this query.
    @inline(__always)
    func isTouched(_ j: UInt32) -> Bool { slots[Int(j)].stamp == generation }

    @inline(__always)
    func block(_ item: UInt32) { slots[Int(item)].blocked = generation }

    @inline(__always)
    func isBlocked(_ item: UInt32) -> Bool { slots[Int(item)].blocked == generation }

    /// Adds `value` to item j's score, registering it as a candidate.
    @inline(__always)
    func add(_ j: UInt32, _ value: Float) {
        let slot = slots + Int(j)
        if slot.pointee.stamp != generation {
            slot.pointee.score = value
            slot.pointee.stamp = generation
            touchedIds[touchedCount] = j
            touchedCount += 1
        } else {
            slot.pointee.score += value
        }
    }
}
