import Foundation

/// `similarity auto`: which item-item model serves this snapshot best.
///
/// Holds out, for a sample of users, their latest distinct item (what they
/// did next) and a random quarter of the earlier ones (what else they
/// like), builds each candidate from everything else, scores the held-out
/// users as REC does (history affinity x neighbour similarity, seen items
/// left out) and keeps the candidate with the best nDCG@10, the two
/// questions weighed equally. The latest item alone rewarded time decay
/// that costs every other kind of answer (MovieLens, random 75/25: nDCG
/// 0.422 as chosen then, 0.473 now).
/// Then, when item vectors exist (the snapshot's or learned ALS), REC's
/// hybrid blend at a few weights. The serving model is built from the whole
/// snapshot with the winner. Deterministic: the sample is seeded.
public enum ModelSelection {
    public struct Candidate: Sendable {
        public var name: String
        public var config: BuildConfig
        public var ndcg: Double = 0
    }

    public struct Outcome: Sendable {
        /// Every candidate tried with its nDCG@10, in the order tried.
        public var candidates: [Candidate]
        public var chosen: Candidate
        public var testUsers: Int
        public var seconds: Double
    }

    /// The models and parameters tried: the sparse ones always, EASE when
    /// the catalog is within its dense limit.
    public static func candidates(_ base: BuildConfig, itemCount: Int) -> [Candidate] {
        func with(_ name: String, _ change: (inout BuildConfig) -> Void) -> Candidate {
            var c = base
            change(&c)
            return Candidate(name: name, config: c)
        }
        var list = [
            with("cosine") { $0.similarity = .cosine },
            with("jaccard") { $0.similarity = .jaccard },
            with("llr") { $0.similarity = .llr },
            with("asymmetric a=0.2") { $0.similarity = .asymmetric; $0.asymmetricAlpha = 0.2 },
            with("tfidf") { $0.similarity = .tfidf },
            with("bm25") { $0.similarity = .bm25 },
        ]
        for beta in [0.3, 0.5, 0.7] {
            list.append(with("rp3beta b=\(beta)") { $0.similarity = .rp3beta; $0.rp3Beta = beta })
        }
        if itemCount <= EASESolver.maxItems {
            for lambda in [100.0, 500.0] {
                list.append(with("ease l=\(Int(lambda))") { $0.similarity = .ease; $0.easeLambda = lambda })
            }
        }
        return list
    }

    /// The relative nDCG gain a costlier REC must bring: four times the
    /// neighbours, or the hybrid blend (a vector search per request).
    public static let widerRowsMargin = 1.02

    /// The vector shares of REC's hybrid blend tried.
    public static let hybridWeights: [Float] = [0.1, 0.3, 0.5]

    /// The largest catalog whose REC may blend vectors by default: the
    /// blend scans every item's vector on each request. Measured, one
    /// core: MovieLens (1,682 items) 91k REC/s plain, 81k blended; the
    /// synthetic 100k-item snapshot (HNSW) 54.9k plain, 4.8k blended.
    public static let hybridMaxItems = 10_000

    public static func choose(events: EventTable, embeddings: EmbeddingTable? = nil, config: BuildConfig,
                              sampleUsers: Int = 3000, seed: UInt64 = 42, hybridMaxItems: Int = hybridMaxItems) -> Outcome {
        let start = ContinuousClock.now
        let (train, test) = holdout(events, sampleUsers: sampleUsers, seed: seed)
        let itemCount = events.items.count
        var base = config
        base.similarity = .cosine
        let shards = max(1, min(config.shards, itemCount))
        // Train histories per half-life (decay changes the users' affinities).
        var histories: [Double: (UserHistories, ItemUsers)] = [:]
        var dense: [Double: NeighborIndex] = [:]
        func trainHistories(_ halfLife: Double) -> (UserHistories, ItemUsers) {
            if let h = histories[halfLife] { return h }
            var c = base
            c.halfLifeDays = halfLife
            let h = UserHistories(events: train, config: c)
            histories[halfLife] = (h, ItemUsers(histories: h, itemCount: itemCount))
            return histories[halfLife]!
        }
        func neighbors(_ candidate: Candidate) -> NeighborIndex {
            let (h, inverted) = trainHistories(candidate.config.halfLifeDays)
            guard candidate.config.similarity == .ease else {
                return IndexBuilder.neighborIndex(histories: h, inverted: inverted, itemCount: itemCount,
                                                  config: candidate.config, shards: shards)
            }
            // One solve per lambda: EASE sees binary incidence (the same
            // for every half-life), and the widest rows serve every k.
            let lambda = candidate.config.easeLambda
            if dense[lambda] == nil {
                var wide = candidate.config
                wide.neighbors = base.neighbors * 4
                dense[lambda] = IndexBuilder.neighborIndex(histories: h, inverted: inverted, itemCount: itemCount,
                                                           config: wide, shards: shards)
            }
            return dense[lambda]!.truncated(to: candidate.config.neighbors)
        }
        func evaluate(_ candidate: inout Candidate) {
            let h = trainHistories(candidate.config.halfLifeDays).0
            candidate.ndcg = ndcg(histories: h, neighbors: neighbors(candidate), test: test, itemCount: itemCount, threads: shards)[0]
        }
        // Ties go to the earlier (cheaper) candidate, and wider rows must
        // earn their cost: four times the neighbours is four times REC's
        // work per history item, worth it only for a clear gain.
        func best(_ list: [Candidate]) -> Candidate {
            var b = list[0]
            for c in list {
                let margin = c.config.neighbors > b.config.neighbors ? ModelSelection.widerRowsMargin : 1
                if c.ndcg > b.ndcg * margin { b = c }
            }
            return b
        }
        // Every model at three half-lives: the configured one, none, and a
        // slower one (the two kinds of held-out item pull the half-life
        // apart; a slower decay often serves both). The neighbours come from
        // binary incidence, so each model is built once and only the users'
        // affinities change. Then the winner with four times the neighbours.
        let configured = base.halfLifeDays
        let halfLives = configured == 0 ? [0] : [configured, 0, configured * 3]
        var tried: [Candidate] = []
        for model in candidates(base, itemCount: itemCount) {
            let built = neighbors(model)
            for halfLife in halfLives {
                var c = model
                if halfLife != configured {
                    c.name += " half-life=\(Int(halfLife))"
                    c.config.halfLifeDays = halfLife
                }
                c.ndcg = ndcg(histories: trainHistories(halfLife).0, neighbors: built, test: test, itemCount: itemCount,
                              threads: shards)[0]
                tried.append(c)
            }
        }
        var wide = best(tried)
        wide.name += " k=\(wide.config.neighbors * 4)"
        wide.config.neighbors *= 4
        evaluate(&wide)
        tried.append(wide)
        var chosen = best(tried)
        // REC's hybrid blend over the chosen neighbours, with the snapshot's
        // vectors or ALS learned from the training events (as the serving
        // build learns them from all).
        if config.tunesRecMode, embeddings != nil || config.alsFactors > 0, itemCount <= hybridMaxItems {
            let (h, inverted) = trainHistories(chosen.config.halfLifeDays)
            let table = embeddings ?? IndexBuilder.learnVectors(histories: h, inverted: inverted, itemCount: itemCount,
                                                                config: chosen.config)
            let unit = UnitVectors(table, itemCount: itemCount)
            let scores = ndcg(histories: h, neighbors: neighbors(chosen), test: test, itemCount: itemCount,
                              vectors: unit, blends: hybridWeights, threads: shards)
            var blends: [Candidate] = []
            for (w, score) in zip(hybridWeights, scores.dropFirst()) {
                var c = chosen
                c.name += " hybrid w=\(w)"
                c.config.recMode = .hybrid
                c.config.vectorWeight = w
                c.ndcg = score
                blends.append(c)
            }
            tried += blends
            // The best share serves `mode=hybrid` even when plain
            // co-occurrence stays the default.
            if let top = blends.max(by: { $0.ndcg < $1.ndcg }) {
                if top.ndcg > chosen.ndcg * widerRowsMargin { chosen = top } else { chosen.config.vectorWeight = top.config.vectorWeight }
            }
        }
        return Outcome(candidates: tried, chosen: chosen, testUsers: test.count, seconds: (ContinuousClock.now - start).inSeconds)
    }

    /// Training events and the held-out items of the sampled users.
    /// One sampled user's held-out items: two questions, weighed equally
    /// (what did they do next, what else do they like).
    struct HeldOut {
        var user: UInt32
        var latest: UInt32
        var other: Set<UInt32>
        var items: Set<UInt32> { other.union([latest]) }
    }

    static func holdout(_ events: EventTable, sampleUsers: Int, seed: UInt64) -> (EventTable, [HeldOut]) {
        var byUser = [[Int]](repeating: [], count: events.users.count)
        for e in 0..<events.count { byUser[Int(events.user[e])].append(e) }
        var eligible: [UInt32] = []
        var distinctItems = [[UInt32]](repeating: [], count: byUser.count)
        for u in byUser.indices {
            var seen = Set<UInt32>(), distinct: [UInt32] = []
            // Latest first: distinct items in order of their latest event.
            let ordered = byUser[u].sorted { events.time[$0] != events.time[$1] ? events.time[$0] > events.time[$1] : $0 > $1 }
            for e in ordered where seen.insert(events.item[e]).inserted { distinct.append(events.item[e]) }
            if distinct.count >= 3 {
                eligible.append(UInt32(u))
                distinctItems[u] = distinct
            }
        }
        var rng = SplitMix64(seed: seed)
        for i in stride(from: eligible.count - 1, to: 0, by: -1) { eligible.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var held = [Set<UInt32>](repeating: [], count: byUser.count)
        var test: [HeldOut] = []
        for u in eligible.prefix(sampleUsers).sorted() {
            let d = distinctItems[Int(u)]
            // A random quarter of the earlier items too, when at least
            // three are left to learn from.
            var earlier = Array(d.dropFirst())
            for i in stride(from: earlier.count - 1, to: 0, by: -1) { earlier.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let other = d.count >= 5 ? Set(earlier.prefix(max(1, earlier.count / 4))) : []
            let out = HeldOut(user: u, latest: d[0], other: other)
            held[Int(u)] = out.items
            test.append(out)
        }
        return (events.withoutHeldOut(held), test)
    }

    /// Mean nDCG@10 of REC's scoring with `neighbors` over the held-out
    /// users: first co-occurrence alone, then (with `vectors`) each hybrid
    /// blend (1 - w) x score / best score + w x cosine, as
    /// `RecIndex.selectByVector` ranks it.
    static func ndcg(histories: UserHistories, neighbors: NeighborIndex, test: [HeldOut],
                     itemCount: Int, vectors: UnitVectors? = nil, blends: [Float] = [], threads: Int = 1) -> [Double] {
        let columns = 1 + (vectors == nil ? 0 : blends.count)
        guard !test.isEmpty else { return [Double](repeating: 0, count: columns) }
        // Each user's gains in their own slots, summed in order after: the
        // same totals whatever the thread count.
        var gains = [Double](repeating: 0, count: test.count * columns)
        gains.withUnsafeMutableBufferPointer { out in
            let threads = max(1, min(threads, test.count))
            BuildThreads.run(threads) { t in
                var user = UserScoring(itemCount: itemCount, withVectors: vectors != nil)
                var i = t
                while i < test.count {
                    user.score(test[i], histories: histories, neighbors: neighbors, vectors: vectors, blends: blends,
                               into: out.baseAddress! + i * columns)
                    i += threads
                }
            }
        }
        var totals = [Double](repeating: 0, count: columns)
        for i in 0..<test.count { for c in 0..<columns { totals[c] += gains[i * columns + c] } }
        return totals.map { $0 / Double(test.count) }
    }

    /// One thread's scratch for scoring held-out users as REC would.
    struct UserScoring {
        var score: [Float]
        var seen: [Bool]
        var cosine: [Float]
        var touched: [UInt32] = []
        var heap = TopKHeap(capacity: 10)
        var top: [UInt32] = []

        init(itemCount: Int, withVectors: Bool) {
            score = [Float](repeating: 0, count: itemCount)
            seen = [Bool](repeating: false, count: itemCount)
            cosine = [Float](repeating: 0, count: withVectors ? itemCount : 0)
        }

        static func ndcg(_ top: [UInt32], _ relevant: Set<UInt32>) -> Double {
            var dcg = 0.0
            for (rank, j) in top.enumerated() where relevant.contains(j) { dcg += 1 / log2(Double(rank + 2)) }
            var ideal = 0.0
            for r in 0..<min(10, relevant.count) { ideal += 1 / log2(Double(r + 2)) }
            return dcg / ideal
        }

        /// The two questions, weighed equally, on the heap's top 10.
        mutating func gain(_ held: HeldOut) -> Double {
            top.removeAll(keepingCapacity: true)
            heap.drainBestFirst { j, _ in top.append(j) }
            let next = Self.ndcg(top, [held.latest])
            return held.other.isEmpty ? next : (next + Self.ndcg(top, held.other)) / 2
        }

        /// Writes co-occurrence's gain, then each blend's, to `out`.
        mutating func score(_ held: HeldOut, histories: UserHistories, neighbors: NeighborIndex, vectors: UnitVectors?,
                            blends: [Float], into out: UnsafeMutablePointer<Double>) {
            let range = histories.range(of: held.user)
            for h in range {
                let w = histories.weights[h]
                for x in neighbors.range(of: histories.items[h]) {
                    let j = neighbors.ids[x]
                    if score[Int(j)] == 0 { touched.append(j) }
                    score[Int(j)] += w * neighbors.scores[x]
                }
            }
            for h in range { score[Int(histories.items[h])] = 0; seen[Int(histories.items[h])] = true }
            heap.reset(keeping: 10)
            var best: Float = 0
            for j in touched where score[Int(j)] > 0 {
                heap.insert(j, score[Int(j)])
                best = max(best, score[Int(j)])
            }
            out[0] = gain(held)
            if let vectors, vectors.userVector(histories: histories, range: range, into: &cosine) {
                for (b, w) in blends.enumerated() {
                    heap.reset(keeping: 10)
                    let scale = best > 0 ? (1 - w) / best : 0
                    for j in 0..<score.count where !seen[j] { heap.insert(UInt32(j), w * cosine[j] + scale * score[j]) }
                    out[1 + b] = gain(held)
                }
            }
            for j in touched { score[Int(j)] = 0 }
            for h in range { seen[Int(histories.items[h])] = false }
            touched.removeAll(keepingCapacity: true)
        }
    }
}

/// Item vectors scaled to unit length in one flat array by item id (zero
/// rows for items without one), for the selection's cosine scoring.
struct UnitVectors {
    let dimension: Int
    var values: [Float]

    init(_ table: EmbeddingTable, itemCount: Int) {
        dimension = table.dimension
        values = [Float](repeating: 0, count: itemCount * dimension)
        for (r, item) in table.items.enumerated() where Int(item) < itemCount {
            let row = table.values[(r * dimension)..<((r + 1) * dimension)]
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { continue }
            for (x, v) in row.enumerated() { values[Int(item) * dimension + x] = v / norm }
        }
    }

    /// Every item's cosine with the user's vector (the affinity-weighted
    /// sum of their items' vectors, as REC forms it); false when it is 0.
    func userVector(histories: UserHistories, range: Range<Int>, into cosine: inout [Float]) -> Bool {
        var user = [Float](repeating: 0, count: dimension)
        for h in range {
            let base = Int(histories.items[h]) * dimension
            let w = histories.weights[h]
            for x in 0..<dimension { user[x] += w * values[base + x] }
        }
        let norm = user.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return false }
        values.withUnsafeBufferPointer { v in
            for j in 0..<cosine.count {
                var dot: Float = 0
                for x in 0..<dimension { dot += v[j * dimension + x] * user[x] }
                cosine[j] = dot / norm
            }
        }
        return true
    }
}
