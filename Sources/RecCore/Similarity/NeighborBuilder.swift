import CEpoll
import Dispatch

/// Co-occurrence and top-K neighbours per item, the expensive part of a build.
///
/// Co-occurrence is symmetric, so each pair (i, j) is counted once, when
/// row i = min(i, j) is computed: the row walks each of its users' histories
/// only past item i (histories are sorted by item id), which halves the
/// accumulation work. Row i's score goes to its own top-K and j's score for
/// i (the same for symmetric models) is offered to row j through a
/// per-shard "incoming" buffer; a second pass merges the two. Incoming buffers cost shards x items x 2K x 8 bytes, so beyond
/// `halfProductBudget` the builder computes full rows instead. Both keep
/// their best K with `BestBuffer`.
///
/// Shards own items `i % S == s`, which spreads popular items evenly; each
/// runs on its own Dispatch queue with its own accumulators and buffers, so
/// shards share nothing but read-only inputs until the merge.
enum NeighborBuilder {
    static let halfProductBudget = 2 << 30

    static func build(histories: UserHistories, inverted: ItemUsers, config: BuildConfig, shards: Int,
                      halfProductBudget: Int = halfProductBudget) -> NeighborIndex {
        let itemCount = inverted.itemCount
        let k = config.neighbors
        let half = shards * itemCount * ShardRows.incomingCapacity(k) * 8 <= halfProductBudget
        let positions = half ? historyPositions(histories: histories, inverted: inverted) : []
        let rows = (0..<shards).map { _ in ShardRows(itemCount: half ? itemCount : 0, k: k) }
        let userWeights = config.scorer.userWeights(histories, itemCount: itemCount)
        let factors = config.scorer.itemFactors(inverted: inverted, userWeights: userWeights)
        parallel(shards) { s in
            computeShard(s, of: shards, histories: histories, inverted: inverted, positions: half ? positions : nil,
                         config: config, userWeights: userWeights, factors: factors, into: rows[s])
        }
        // Merged row i holds its own (j > i) entries and every shard's incoming
        // (j < i) ones, all distinct, so its length is known before merging
        // (an incoming buffer may hold more than K, the merge keeps K).
        var offsets = [UInt32](repeating: 0, count: itemCount + 1)
        for i in 0..<itemCount {
            var n = Int(rows[i % shards].lengths[i / shards])
            if half { for r in rows { n += Int(r.incomingCounts[i]) } }
            offsets[i + 1] = offsets[i] + UInt32(min(n, k))
        }
        let total = Int(offsets[itemCount])
        let rowOffsets = offsets
        // The shards merge straight into the final arrays' storage.
        var scores: [Float] = []
        let ids = [UInt32](unsafeUninitializedCapacity: total) { idBuffer, idCount in
            scores = [Float](unsafeUninitializedCapacity: total) { scoreBuffer, scoreCount in
                let out = OutputRows(ids: idBuffer.baseAddress, scores: scoreBuffer.baseAddress)
                parallel(shards) { s in
                    merge(s, of: shards, rows: rows, incoming: half, offsets: rowOffsets, k: k, into: out)
                }
                scoreCount = total
            }
            idCount = total
        }
        return NeighborIndex(offsets: offsets, ids: ids, scores: scores)
    }

    /// Runs `body(s)` for every shard on a build thread and waits for all.
    static func parallel(_ shards: Int, _ body: (Int) -> Void) {
        BuildThreads.run(shards, body)
    }

    /// For each inverted entry (item i, user u), where item i sits in u's
    /// history: the row walks u's history from just past it.
    static func historyPositions(histories: UserHistories, inverted: ItemUsers) -> [UInt32] {
        var cursor = inverted.offsets
        var positions = [UInt32](repeating: 0, count: histories.entryCount)
        histories.items.withUnsafeBufferPointer { items in
            for u in 0..<histories.userCount {
                for h in histories.range(of: UInt32(u)) {
                    let i = Int(items[h])
                    positions[Int(cursor[i])] = UInt32(h)
                    cursor[i] += 1
                }
            }
        }
        return positions
    }

    /// One shard's work: its own rows, in the order of its items, and the
    /// buffers of partners it offers to other rows.
    final class ShardRows: @unchecked Sendable {
        // Written only by the shard's own queue, read after the group joins.
        var lengths: [UInt32] = []
        var ids: [UInt32] = []
        var scores: [Float] = []
        /// Item j's incoming buffer is `incoming[j c ..< j c + incomingCounts[j]]`
        /// for c = `incomingCapacity(k)`: unordered `BestBuffer` keys.
        let incoming: UnsafeMutablePointer<UInt64>
        let incomingCounts: UnsafeMutablePointer<UInt32>
        /// The score an offer to item j must reach (the worst it kept at its
        /// last cut): a compact array, so most rejections stay in L1.
        let incomingFloor: UnsafeMutablePointer<Float>

        /// Room for K kept and K more offers between cuts.
        static func incomingCapacity(_ k: Int) -> Int { 2 * k }

        init(itemCount: Int, k: Int) {
            let c = ShardRows.incomingCapacity(k)
            incoming = .allocate(capacity: max(1, itemCount * c))
            incomingCounts = .allocate(capacity: max(1, itemCount))
            incomingCounts.initialize(repeating: 0, count: max(1, itemCount))
            incomingFloor = .allocate(capacity: max(1, itemCount))
            incomingFloor.initialize(repeating: 0, count: max(1, itemCount))
        }

        deinit {
            incoming.deallocate()
            incomingCounts.deallocate()
            incomingFloor.deallocate()
        }
    }

    /// The final arrays; each shard writes only its own items' ranges.
    struct OutputRows: @unchecked Sendable {
        // Nil only when there are no rows to write.
        let ids: UnsafeMutablePointer<UInt32>?
        let scores: UnsafeMutablePointer<Float>?
    }

    /// Row-at-a-time sparse accumulation: for item i, walk its users and their
    /// histories (past i when `positions` is given, else all of them), summing
    /// co-occurrence into dense accumulators, then keep the top K.
    static func computeShard(_ shard: Int, of shards: Int, histories: UserHistories, inverted: ItemUsers,
                             positions: [UInt32]?, config: BuildConfig, userWeights: [Float], factors: [Float],
                             into out: ShardRows) {
        let itemCount = inverted.itemCount
        let users = histories.userCount
        let k = config.neighbors
        let half = positions != nil
        let positions = positions ?? []
        let minSupport = UInt32(max(1, config.minSupport))
        let scorer = config.scorer
        let symmetric = scorer.kind.isSymmetric
        let weighsUsers = !userWeights.isEmpty
        let hasFactors = !factors.isEmpty
        // The random walk's weight and the user count side by side, so each
        // touch of item j costs one cache line, not two.
        struct Accumulator {
            var walk: Float
            var both: UInt32
        }
        let acc = UnsafeMutablePointer<Accumulator>.allocate(capacity: max(1, itemCount))
        acc.initialize(repeating: Accumulator(walk: 0, both: 0), count: max(1, itemCount))
        defer { acc.deallocate() }
        let touched = UnsafeMutablePointer<UInt32>.allocate(capacity: max(1, itemCount))
        defer { touched.deallocate() }
        var touchedCount = 0
        // The row's own best K on raw storage: offers run per candidate
        // pair, and array storage cost a retain and uniqueness check each.
        let ownCapacity = 4 * k
        let best = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, ownCapacity))
        defer { best.deallocate() }
        let inCapacity = ShardRows.incomingCapacity(k)
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, ownCapacity, inCapacity))
        defer { scratch.deallocate() }
        out.lengths.reserveCapacity(itemCount / shards + 1)
        let inKeys = out.incoming, inCounts = out.incomingCounts
        let inFloor = out.incomingFloor
        histories.offsets.withUnsafeBufferPointer { hOff in
        histories.items.withUnsafeBufferPointer { hItems in
        inverted.offsets.withUnsafeBufferPointer { iOff in
        inverted.users.withUnsafeBufferPointer { iUsers in
        positions.withUnsafeBufferPointer { pos in
            var i = shard
            while i < itemCount {
                let rowStart = Int(iOff[i]), rowEnd = Int(iOff[i + 1])
                for r in rowStart..<rowEnd {
                    // Each user's history is a random place in arrays bigger
                    // than L2, so its first lines are misses: start those of
                    // the user two ahead (the loop stalled on them otherwise).
                    if r + 2 < rowEnd {
                        let ahead = half ? Int(pos[r + 2]) + 1 : Int(hOff[Int(iUsers[r + 2])])
                        crecd_prefetch(hItems.baseAddress! + ahead)
                    }
                    let u = Int(iUsers[r])
                    let a: Float = weighsUsers ? userWeights[u] : 0
                    let from = half ? Int(pos[r]) + 1 : Int(hOff[u])
                    for h in from..<Int(hOff[u + 1]) {
                        let j = Int(hItems[h])
                        if !half && j == i { continue }
                        let slot = acc + j
                        // Branch-free: the first touch of j is a coin flip to predict.
                        touched[touchedCount] = UInt32(j)
                        touchedCount &+= slot.pointee.both == 0 ? 1 : 0
                        slot.pointee.both &+= 1
                        slot.pointee.walk += a
                    }
                }
                var bestCount = 0
                var floor: Float = 0
                // Every offer to row i from this shard's earlier rows is in:
                // the K-th best of them bounds what row i can still keep, so
                // its own candidates start at that floor, not at nothing.
                if half && k > 0 && Int(inCounts[i]) >= k {
                    let keys = inKeys + i * inCapacity
                    let n = Int(inCounts[i])
                    let worst = n > k ? BestBuffer.cut(keys: keys, count: n, k: k, scratch: scratch)
                                      : BestBuffer.worst(keys: keys, count: k)
                    inCounts[i] = UInt32(k)
                    floor = BestBuffer.score(worst)
                }
                let countI = UInt32(rowEnd - rowStart)
                for t in 0..<touchedCount {
                    // The slot an offer to a later candidate would fill is a
                    // miss into megabytes of buffers: start it a few ahead.
                    if half && t + 8 < touchedCount {
                        let ahead = Int(touched[t + 8])
                        crecd_prefetch(inKeys + ahead * inCapacity + Int(inCounts[ahead]))
                    }
                    let j32 = touched[t]
                    let j = Int(j32)
                    let (c, walk) = (acc[j].both, acc[j].walk)
                    acc[j] = Accumulator(walk: 0, both: 0)
                    guard c >= minSupport else { continue }
                    let countJ = iOff[j + 1] - iOff[j]
                    let fi: Float = hasFactors ? factors[i] : 1, fj: Float = hasFactors ? factors[j] : 1
                    let s = scorer.score(both: c, walk: walk, countI: countI, countJ: countJ, factorI: fi, factorJ: fj, users: users)
                    guard s > 0 && s.isFinite, k > 0 else { continue }
                    // Floors: a score below the worst kept at the last cut
                    // cannot enter (ties are left to the cut, which breaks them by id).
                    BestBuffer.offer(BestBuffer.key(j32, s), keys: best, count: &bestCount,
                                     capacity: ownCapacity, k: k, floor: &floor, scratch: scratch)
                    if half {
                        var n = Int(inCounts[j])
                        let back = symmetric ? s : scorer.score(both: c, walk: walk, countI: countJ, countJ: countI,
                                                                  factorI: fj, factorJ: fi, users: users)
                        BestBuffer.offer(BestBuffer.key(UInt32(i), back), keys: inKeys + j * inCapacity,
                                         count: &n, capacity: inCapacity, k: k, floor: &inFloor[j], scratch: scratch)
                        inCounts[j] = UInt32(n)
                    }
                }
                touchedCount = 0
                let kept = BestBuffer.finish(keys: best, count: bestCount, k: k, scratch: scratch)
                out.lengths.append(UInt32(kept))
                for x in 0..<kept {
                    out.ids.append(BestBuffer.id(best[x]))
                    out.scores.append(BestBuffer.score(best[x]))
                }
                i += shards
            }
        }}}}}
    }

    /// Writes shard `shard`'s final rows: its own top-K merged with what the
    /// other rows offered it, best first.
    static func merge(_ shard: Int, of shards: Int, rows: [ShardRows], incoming: Bool, offsets: [UInt32], k: Int,
                      into final: OutputRows) {
        let own = rows[shard]
        let c = ShardRows.incomingCapacity(k)
        let capacity = k + (incoming ? rows.count * c : 0)
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, capacity))
        defer { keys.deallocate() }
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, capacity))
        defer { scratch.deallocate() }
        var cursor = 0
        var i = shard
        var x = 0
        while i < offsets.count - 1 {
            var n = 0
            let length = Int(own.lengths[x])
            for e in cursor..<(cursor + length) {
                keys[n] = BestBuffer.key(own.ids[e], own.scores[e])
                n += 1
            }
            cursor += length
            for r in rows where incoming {
                let count = Int(r.incomingCounts[i])
                (keys + n).update(from: r.incoming + i * c, count: count)
                n += count
            }
            let kept = BestBuffer.finish(keys: keys, count: n, k: k, scratch: scratch)
            let at = Int(offsets[i])
            for e in 0..<kept {
                final.ids![at + e] = BestBuffer.id(keys[e])
                final.scores![at + e] = BestBuffer.score(keys[e])
            }
            i += shards
            x += 1
        }
    }
}
