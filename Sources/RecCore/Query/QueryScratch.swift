/// Per-thread working memory for queries, sized to the index and reused, so a
/// query allocates nothing. Dense arrays are "cleared" by bumping a
/// generation number instead of being zeroed (as hnswlib's visited lists).
///
/// Not thread-safe: each event-loop thread owns one.
public final class QueryScratch {
    var score: [Float] = []
    /// `stamp[j] == generation` means `score[j]` belongs to the current query.
    var stamp: [UInt32] = []
    /// `blocked[j] == generation` means item j may not be returned.
    var blocked: [UInt32] = []
    var generation: UInt32 = 0
    var touched: [UInt32] = []
    var heap = TopKHeap(capacity: 64)
    public var result = ResultList()
    /// Items named by the request (SESSION's visit, `exclude=`), filled by the caller.
    public var requestItems: [UInt32] = []
    public var excludeItems: [UInt32] = []
    /// The asking user's live events for `REC`, as index ids and affinity
    /// weights; the caller fills (or clears) them before each `recommend`.
    public var liveItems: [UInt32] = []
    public var liveWeights: [Float] = []
    /// The asking user's live purchases for `DUE` (index id, Unix seconds).
    public var livePurchases: [(item: UInt32, time: Int64)] = []

    public init() {
        requestItems.reserveCapacity(64)
        excludeItems.reserveCapacity(64)
    }

    /// Starts a query over an index of `itemCount` items.
    @inline(__always)
    func begin(itemCount: Int) {
        if score.count < itemCount {
            score = [Float](repeating: 0, count: itemCount)
            stamp = [UInt32](repeating: 0, count: itemCount)
            blocked = [UInt32](repeating: 0, count: itemCount)
            touched.reserveCapacity(min(itemCount, 1 << 16))
            generation = 0
        }
        generation &+= 1
        if generation == 0 {
            // Wrapped after 4 billion queries: stale stamps could match again.
            for i in 0..<stamp.count { stamp[i] = 0; blocked[i] = 0 }
            generation = 1
        }
        touched.removeAll(keepingCapacity: true)
        result.clear()
    }

    @inline(__always)
    func block(_ item: UInt32) { blocked[Int(item)] = generation }

    @inline(__always)
    func isBlocked(_ item: UInt32) -> Bool { blocked[Int(item)] == generation }

    /// Adds `value` to item j's score, registering it as a candidate.
    @inline(__always)
    func add(_ j: UInt32, _ value: Float) {
        let x = Int(j)
        if stamp[x] != generation {
            stamp[x] = generation
            score[x] = value
            touched.append(j)
        } else {
            score[x] += value
        }
    }
}
