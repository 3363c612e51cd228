import Dispatch

/// Turns a snapshot into a `RecIndex`.
///
/// The expensive part, co-occurrence and top-K per item, is split into
/// `config.shards` shards (item `i` belongs to shard `i % S`, which spreads
/// popular items evenly), each running on its own Dispatch queue with its own
/// dense accumulators, so shards share nothing but read-only inputs.
public enum IndexBuilder {
    public static func build(_ snapshot: Snapshot, config: BuildConfig) -> RecIndex {
        var stats = BuildStats()
        let events = snapshot.events
        let itemCount = events.items.count
        var catalog = snapshot.catalog
        catalog.ensureCount(itemCount)
        let referenceTime = events.time.max() ?? 0

        let histories = stats.time("histories") {
            UserHistories(events: events, config: config, referenceTime: referenceTime)
        }
        let inverted = stats.time("invert") { ItemUsers(histories: histories, itemCount: itemCount) }
        let shards = max(1, min(config.shards, max(1, itemCount)))
        let neighbors = stats.time("cooccurrence+topk") {
            buildNeighbors(histories: histories, inverted: inverted, config: config, shards: shards)
        }
        let popularity = stats.time("popularity") {
            Popularity(score: popularityScores(events: events, config: config, referenceTime: referenceTime),
                       catalog: catalog)
        }
        let repurchase = stats.time("repurchase") { Repurchase(events: events) }
        var learned: EmbeddingTable?
        if snapshot.embeddings == nil && config.alsFactors > 0 {
            learned = stats.time("als") { learnVectors(histories: histories, inverted: inverted, itemCount: itemCount, config: config) }
        }
        let vectors = (snapshot.embeddings ?? learned).map { table in
            var v = stats.time("embeddings") { VectorIndex(table: table, itemCount: itemCount) }
            if v.vectorCount >= config.hnswThreshold {
                stats.time("hnsw") { v.buildGraphs(shards: shards, m: config.hnswM, efConstruction: config.hnswEfConstruction) }
            }
            return v
        }
        let rfm = stats.time("rfm") { RFMTable(events: events, catalog: catalog) }
        let audiences = stats.time("audiences") { Audiences(events: events) }
        stats.events = events.count
        stats.users = events.users.count
        stats.items = itemCount
        stats.historyEntries = histories.entryCount
        stats.neighborEntries = neighbors.entryCount
        stats.shards = shards
        return RecIndex(config: config, users: events.users, items: events.items, catalog: catalog,
                        histories: histories, neighbors: neighbors, popularity: popularity,
                        repurchase: repurchase, vectors: vectors, rfm: rfm, itemUsers: inverted, audiences: audiences,
                        referenceTime: referenceTime, stats: stats, report: snapshot.report)
    }

    /// Item vectors from ALS over the affinity matrix (histories are its
    /// rows, the inverted index its columns).
    static func learnVectors(histories: UserHistories, inverted: ItemUsers, itemCount: Int, config: BuildConfig) -> EmbeddingTable {
        var als = ALSFactorizer()
        als.factors = config.alsFactors
        als.iterations = config.alsIterations
        als.regularization = config.alsRegularization
        als.alpha = config.alsAlpha
        als.shards = config.shards
        let model = als.fit(byUser: ALSFactorizer.Rows(offsets: histories.offsets, columns: histories.items, values: histories.weights),
                            byItem: ALSFactorizer.Rows(offsets: inverted.offsets, columns: inverted.users, values: inverted.weights))
        var table = EmbeddingTable(dimension: config.alsFactors)
        for i in 0..<itemCount where inverted.offsets[i + 1] > inverted.offsets[i] {
            table.append(item: UInt32(i), Array(model.items[(i * config.alsFactors)..<((i + 1) * config.alsFactors)]))
        }
        return table
    }

    static func popularityScores(events: EventTable, config: BuildConfig, referenceTime: Int64) -> [Float] {
        var score = [Float](repeating: 0, count: events.items.count)
        let halfLife = config.halfLifeDays * 86_400
        for e in 0..<events.count {
            score[Int(events.item[e])] += config.weights[events.type[e]]
                * UserHistories.decay(age: referenceTime - events.time[e], halfLifeSeconds: halfLife)
        }
        return score
    }

    /// One shard's rows, in the order of the shard's items.
    final class ShardRows: @unchecked Sendable {
        // Written only by the shard's own queue, read after the group joins.
        var lengths: [UInt32] = []
        var ids: [UInt32] = []
        var scores: [Float] = []
    }

    static func buildNeighbors(histories: UserHistories, inverted: ItemUsers, config: BuildConfig,
                               shards: Int) -> NeighborIndex {
        let itemCount = inverted.itemCount
        let outputs = (0..<shards).map { _ in ShardRows() }
        let group = DispatchGroup()
        for s in 0..<shards {
            let queue = DispatchQueue(label: "recd.build.shard.\(s)")
            let out = outputs[s]
            queue.async(group: group) {
                computeShard(s, of: shards, histories: histories, inverted: inverted, config: config, into: out)
            }
        }
        group.wait()
        var offsets = [UInt32](repeating: 0, count: itemCount + 1)
        for i in 0..<itemCount {
            offsets[i + 1] = offsets[i] + outputs[i % shards].lengths[i / shards]
        }
        let total = Int(offsets[itemCount])
        var ids = [UInt32](repeating: 0, count: total)
        var scores = [Float](repeating: 0, count: total)
        var cursors = [Int](repeating: 0, count: shards)
        for i in 0..<itemCount {
            let out = outputs[i % shards]
            let n = Int(out.lengths[i / shards])
            let from = cursors[i % shards]
            let to = Int(offsets[i])
            for x in 0..<n {
                ids[to + x] = out.ids[from + x]
                scores[to + x] = out.scores[from + x]
            }
            cursors[i % shards] = from + n
        }
        return NeighborIndex(offsets: offsets, ids: ids, scores: scores)
    }

    /// Row-at-a-time sparse accumulation: for item i, walk its users and their
    /// histories, summing co-occurrence into dense arrays, then keep the top K.
    /// Cost per shard is the sum over its items of their users' history lengths.
    static func computeShard(_ shard: Int, of shards: Int, histories: UserHistories, inverted: ItemUsers,
                             config: BuildConfig, into out: ShardRows) {
        let itemCount = inverted.itemCount
        let users = histories.userCount
        let k = config.neighbors
        let minSupport = UInt32(max(1, config.minSupport))
        let kind = config.similarity
        // Weighted co-occurrence and user count side by side, so each touch
        // of item j costs one cache line, not two.
        struct Accumulator {
            var dot: Float
            var both: UInt32
        }
        let acc = UnsafeMutablePointer<Accumulator>.allocate(capacity: max(1, itemCount))
        acc.initialize(repeating: Accumulator(dot: 0, both: 0), count: max(1, itemCount))
        defer { acc.deallocate() }
        var touched = [UInt32]()
        touched.reserveCapacity(1024)
        var heap = TopKHeap(capacity: k)
        out.lengths.reserveCapacity(itemCount / shards + 1)
        histories.offsets.withUnsafeBufferPointer { hOff in
        histories.items.withUnsafeBufferPointer { hItems in
        histories.weights.withUnsafeBufferPointer { hWeights in
        inverted.offsets.withUnsafeBufferPointer { iOff in
        inverted.users.withUnsafeBufferPointer { iUsers in
        inverted.weights.withUnsafeBufferPointer { iWeights in
        inverted.norms.withUnsafeBufferPointer { norms in
            var i = shard
            while i < itemCount {
                let rowStart = Int(iOff[i]), rowEnd = Int(iOff[i + 1])
                for r in rowStart..<rowEnd {
                    let u = Int(iUsers[r])
                    let a = iWeights[r]
                    for h in Int(hOff[u])..<Int(hOff[u + 1]) {
                        let j = Int(hItems[h])
                        if j == i { continue }
                        let slot = acc + j
                        if slot.pointee.both == 0 { touched.append(UInt32(j)) }
                        slot.pointee.both &+= 1
                        slot.pointee.dot += a * hWeights[h]
                    }
                }
                heap.reset(keeping: k)
                let countI = UInt32(rowEnd - rowStart)
                for j32 in touched {
                    let j = Int(j32)
                    let c = acc[j].both
                    if c >= minSupport {
                        let s = kind.score(dot: acc[j].dot, both: c, countI: countI,
                                           countJ: iOff[j + 1] - iOff[j], normI: norms[i], normJ: norms[j],
                                           users: users)
                        if s > 0 && s.isFinite { heap.insert(j32, s) }
                    }
                    acc[j] = Accumulator(dot: 0, both: 0)
                }
                touched.removeAll(keepingCapacity: true)
                out.lengths.append(UInt32(heap.count))
                heap.drainBestFirst { id, score in
                    out.ids.append(id)
                    out.scores.append(score)
                }
                i += shards
            }
        }}}}}}}
    }
}

/// The transpose of `UserHistories`: per item, the users who have it, with
/// their affinity, plus each item's affinity norm (for cosine).
public struct ItemUsers: Sendable {
    public let offsets: [UInt32]
    public let users: [UInt32]
    public let weights: [Float]
    public let norms: [Float]

    public var memoryBytes: Int { offsets.capacity * 4 + users.capacity * 4 + weights.capacity * 4 + norms.capacity * 4 }

    var itemCount: Int { offsets.count - 1 }

    init(histories: UserHistories, itemCount: Int) {
        var offsets = [UInt32](repeating: 0, count: itemCount + 1)
        for item in histories.items { offsets[Int(item) + 1] += 1 }
        for i in 0..<itemCount { offsets[i + 1] += offsets[i] }
        var cursor = offsets
        var users = [UInt32](repeating: 0, count: histories.entryCount)
        var weights = [Float](repeating: 0, count: histories.entryCount)
        var normSquares = [Float](repeating: 0, count: itemCount)
        for u in 0..<histories.userCount {
            for h in histories.range(of: UInt32(u)) {
                let i = Int(histories.items[h])
                let at = Int(cursor[i])
                users[at] = UInt32(u)
                weights[at] = histories.weights[h]
                normSquares[i] += histories.weights[h] * histories.weights[h]
                cursor[i] += 1
            }
        }
        self.offsets = offsets
        self.users = users
        self.weights = weights
        self.norms = normSquares.map { $0.squareRoot() }
    }
}
