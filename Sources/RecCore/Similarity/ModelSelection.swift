import Foundation

/// `similarity auto`: which item-item model serves this snapshot best.
///
/// Holds out the latest distinct item of a sample of users (what they did
/// next; more than one made the choice noisier, not better), builds each
/// candidate from everything else, scores the held-out users as REC does
/// (history affinity x neighbour similarity, seen items left out) and keeps
/// the candidate with the best nDCG@10. The serving model is then built
/// from the whole snapshot with it. Deterministic: the sample is seeded.
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

    /// The relative nDCG gain four times the neighbours must bring.
    public static let widerRowsMargin = 1.02

    public static func choose(events: EventTable, config: BuildConfig, sampleUsers: Int = 3000, seed: UInt64 = 42) -> Outcome {
        let start = ContinuousClock.now
        let (train, test) = holdout(events, sampleUsers: sampleUsers, seed: seed)
        let itemCount = events.items.count
        var base = config
        base.similarity = .cosine
        let shards = max(1, min(config.shards, itemCount))
        // Train histories per half-life (decay changes the users' affinities).
        var histories: [Double: (UserHistories, ItemUsers)] = [:]
        var dense: [Double: NeighborIndex] = [:]
        func evaluate(_ candidate: inout Candidate) {
            let halfLife = candidate.config.halfLifeDays
            if histories[halfLife] == nil {
                var c = base
                c.halfLifeDays = halfLife
                let h = UserHistories(events: train, config: c)
                histories[halfLife] = (h, ItemUsers(histories: h, itemCount: itemCount))
            }
            let (h, inverted) = histories[halfLife]!
            let neighbors: NeighborIndex
            if candidate.config.similarity == .ease {
                // One solve per lambda: EASE sees binary incidence (the same
                // for every half-life), and the widest rows serve every k.
                let lambda = candidate.config.easeLambda
                if dense[lambda] == nil {
                    var wide = candidate.config
                    wide.neighbors = base.neighbors * 4
                    dense[lambda] = IndexBuilder.neighborIndex(histories: h, inverted: inverted, itemCount: itemCount,
                                                               config: wide, shards: shards)
                }
                neighbors = dense[lambda]!.truncated(to: candidate.config.neighbors)
            } else {
                neighbors = IndexBuilder.neighborIndex(histories: h, inverted: inverted, itemCount: itemCount,
                                                       config: candidate.config, shards: shards)
            }
            candidate.ndcg = ndcg(histories: h, neighbors: neighbors, test: test, itemCount: itemCount)
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
        // First the models, then the winner with no time decay and with
        // four times the neighbours.
        var tried = candidates(base, itemCount: itemCount)
        for c in tried.indices { evaluate(&tried[c]) }
        let winner = best(tried)
        var variants: [Candidate] = []
        if winner.config.halfLifeDays != 0 {
            var v = winner
            v.name += " half-life=0"
            v.config.halfLifeDays = 0
            variants.append(v)
        }
        for v in variants + [winner] {
            var wide = v
            wide.name += " k=\(v.config.neighbors * 4)"
            wide.config.neighbors = v.config.neighbors * 4
            variants.append(wide)
        }
        for v in variants.indices { evaluate(&variants[v]) }
        tried += variants
        return Outcome(candidates: tried, chosen: best(tried), testUsers: test.count, seconds: (ContinuousClock.now - start).inSeconds)
    }

    /// Training events and the held-out items of the sampled users.
    static func holdout(_ events: EventTable, sampleUsers: Int, seed: UInt64) -> (EventTable, [(user: UInt32, items: Set<UInt32>)]) {
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
        var test: [(UInt32, Set<UInt32>)] = []
        for u in eligible.prefix(sampleUsers).sorted() {
            let d = distinctItems[Int(u)]
            let items = Set(d.prefix(1))
            held[Int(u)] = items
            test.append((u, items))
        }
        return (events.withoutHeldOut(held), test)
    }

    /// Mean nDCG@10 of REC's scoring with `neighbors` over the held-out users.
    static func ndcg(histories: UserHistories, neighbors: NeighborIndex, test: [(user: UInt32, items: Set<UInt32>)],
                     itemCount: Int) -> Double {
        guard !test.isEmpty else { return 0 }
        var score = [Float](repeating: 0, count: itemCount)
        var touched: [UInt32] = []
        var total = 0.0
        for (u, relevant) in test {
            let range = histories.range(of: u)
            for h in range {
                let w = histories.weights[h]
                for x in neighbors.range(of: histories.items[h]) {
                    let j = neighbors.ids[x]
                    if score[Int(j)] == 0 { touched.append(j) }
                    score[Int(j)] += w * neighbors.scores[x]
                }
            }
            for h in range { score[Int(histories.items[h])] = 0 }
            var heap = TopKHeap(capacity: 10)
            for j in touched where score[Int(j)] > 0 { heap.insert(j, score[Int(j)]) }
            for j in touched { score[Int(j)] = 0 }
            touched.removeAll(keepingCapacity: true)
            var dcg = 0.0, rank = 0
            heap.drainBestFirst { j, _ in
                if relevant.contains(j) { dcg += 1 / log2(Double(rank + 2)) }
                rank += 1
            }
            var ideal = 0.0
            for r in 0..<min(10, relevant.count) { ideal += 1 / log2(Double(r + 2)) }
            total += dcg / ideal
        }
        return total / Double(test.count)
    }
}
