import Foundation
import Dispatch
import Synchronization

/// Turns a snapshot into a `RecIndex`: histories first, then the parts built
/// from them. The expensive part, co-occurrence and top-K per item, runs in
/// parallel shards (`NeighborBuilder`).
public enum IndexBuilder {
    public static func build(_ snapshot: Snapshot, config requested: BuildConfig) -> RecIndex {
        var stats = BuildStats()
        let config: BuildConfig
        if requested.similarity == .auto {
            let outcome = stats.time("model selection") { ModelSelection.choose(events: snapshot.events, embeddings: snapshot.embeddings, config: requested) }
            config = outcome.chosen.config
            stats.selection = outcome
        } else {
            config = requested
        }
        let events = snapshot.events
        let itemCount = events.items.count
        var catalog = snapshot.catalog
        catalog.ensureCount(itemCount)
        let referenceTime = events.time.max() ?? 0

        let started = ContinuousClock.now
        // The histories pass is single-threaded; what needs only the events
        // is built beside it on another core (unless the build may use only
        // one, as a reload with reload-shards 1 while serving). Those parts
        // are taken one at a time, longest first, and the histories' thread
        // takes what is left when it is done: at 10M events they took longer
        // than the histories.
        // The histories and the audiences both start from the events grouped by item.
        let byItem = events.groupedByItem()
        let side = SideParts()
        let sideCatalog = catalog
        // Each part writes its own result and phase only.
        let sideParts: [@Sendable (String) -> Void] = [
            { label in side.audiences = side.time("audiences" + label, at: 0) { Audiences(events: events, byItem: byItem) } },
            { label in side.rfm = side.time("rfm" + label, at: 1) { RFMTable(events: events, catalog: sideCatalog) } },
            { label in
                side.popularity = side.time("popularity" + label, at: 2) {
                    Popularity(score: popularityScores(events: events, config: config, referenceTime: referenceTime),
                               catalog: sideCatalog)
                }
            },
        ]
        let buildSide: @Sendable (String) -> Void = { label in
            while true {
                let part = side.next.add(1, ordering: .relaxed).oldValue
                if part >= sideParts.count { return }
                sideParts[part](label)
            }
        }
        let besideHistories = config.shards > 1 ? BuildThreads.spawn { buildSide(" (beside histories)") } : nil
        var purchases = Repurchase.Builder(userCount: events.users.count, itemCount: itemCount)
        let histories = stats.time("histories") {
            UserHistories(events: events, byItem: byItem, config: config,
                          purchases: &purchases)
        }
        buildSide(config.shards > 1 ? " (after histories)" : "")
        besideHistories?.join()
        stats.phases += side.phases[0..<3].compactMap { $0 }
        let popularity = side.popularity!, rfm = side.rfm!, audiences = side.audiences!
        // The repurchase intervals need only the histories' purchase runs:
        // they are summed up beside the inversion and co-occurrence (the
        // inversion leaves a core idle; alone at the end they took 3 ms of
        // an 85 ms build).
        let runs = purchases
        let finishRepurchase: @Sendable (String) -> Void = { label in
            side.repurchase = side.time("repurchase" + label, at: 3) { runs.finish() }
        }
        let besideCooccurrence = config.shards > 1 ? BuildThreads.spawn { finishRepurchase(" (beside co-occurrence)") } : nil
        if besideCooccurrence == nil { finishRepurchase("") }
        let inverted = stats.time("invert") { ItemUsers(histories: histories, itemCount: itemCount) }
        let shards = max(1, min(config.shards, max(1, itemCount)))
        let neighbors = stats.time(config.similarity == .ease ? "ease" : "cooccurrence+topk") {
            neighborIndex(histories: histories, inverted: inverted, itemCount: itemCount, config: config, shards: shards)
        }
        besideCooccurrence?.join()
        stats.phases.append(side.phases[3]!)
        let repurchase = side.repurchase!
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
        stats.wallSeconds = (ContinuousClock.now - started).inSeconds
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

    /// The item-item model `config` names: EASE when the catalog is within
    /// its dense limit (else cosine), the sparse models by co-occurrence.
    static func neighborIndex(histories: UserHistories, inverted: ItemUsers, itemCount: Int, config: BuildConfig,
                              shards: Int) -> NeighborIndex {
        var sparse = config
        if config.similarity == .ease {
            if let dense = EASESolver.neighbors(histories: histories, inverted: inverted, itemCount: itemCount,
                                                lambda: config.easeLambda, k: config.neighbors, threads: config.shards) {
                return dense
            }
            sparse.similarity = .cosine
        }
        return NeighborBuilder.build(histories: histories, inverted: inverted, config: sparse, shards: shards)
    }

    /// What is built beside the histories; each part is taken once (the
    /// counter) and written by its taker only; read after the group joins.
    final class SideParts: @unchecked Sendable {
        let next = Atomic<Int>(0)
        var popularity: Popularity?
        var rfm: RFMTable?
        var audiences: Audiences?
        var repurchase: Repurchase?
        /// Per part, in the order of the parts, then the repurchase intervals.
        private(set) var phases: UnsafeMutableBufferPointer<(name: String, seconds: Double)?>

        init() {
            phases = .allocate(capacity: 4)
            phases.initialize(repeating: nil)
        }

        deinit { phases.deinitialize().deallocate() }

        func time<R>(_ name: String, at part: Int, _ body: () -> R) -> R {
            let start = ContinuousClock.now
            let result = body()
            phases[part] = (name, (ContinuousClock.now - start).inSeconds)
            return result
        }
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

    /// Decayed in Double, where 1,000 half-lives stay representable: in
    /// Float an item decays to 0 after about 150 half-lives (12 years at 30
    /// days), which one event stamped today makes of every item in an old
    /// snapshot. Scores that small are scaled so the top one is 1 (the
    /// ranking is what counts); others keep their plain sums.
    static func popularityScores(events: EventTable, config: BuildConfig, referenceTime: Int64) -> [Float] {
        var score = [Double](repeating: 0, count: events.items.count)
        let halfLife = config.halfLifeDays * 86_400
        var lastTime = Int64.min, lastDecay = 1.0
        for e in 0..<events.count {
            let t = events.time[e]
            if t != lastTime {
                lastTime = t
                lastDecay = halfLife > 0 ? exp2(-Double(max(0, referenceTime.saturatingMinus(t))) / halfLife) : 1
            }
            score[Int(events.item[e])] += Double(config.weights[events.type[e]]) * lastDecay
        }
        let top = score.max() ?? 0
        let scale = top > 0 && top < 1e-20 ? 1 / top : 1
        return score.map { Float($0 * scale) }
    }
}
