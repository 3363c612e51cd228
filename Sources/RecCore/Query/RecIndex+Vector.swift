/// Queries over item vectors: `VSIM`, `VREC`, and `REC mode=vec|hybrid`.
extension RecIndex {
    /// `VSIM item`: nearest items by cosine of their vectors. An item
    /// without a vector (or an unknown one) falls back to popularity.
    public func vectorSimilar(to item: UInt32?, options: QueryOptions, scratch: QueryScratch) {
        scratch.begin(itemCount: itemCount)
        blockExcluded(scratch)
        guard let item, let vectors, Int(item) < vectors.count, vectors.hasVector[Int(item)] else {
            scratch.result.unknownSubject = true
            topUp(options, scratch)
            return
        }
        scratch.block(item)
        prepareQuery(vectors, scratch)
        for x in 0..<vectors.dimension { scratch.vector[x] = vectors.values[Int(item) * vectors.stride + x] }
        selectByVector(options, scratch, vectors, blend: false)
    }

    /// `VREC v1,...,vd`: nearest items to a query vector the caller put in
    /// `scratch.requestVector` (unnormalised, `dimension` values).
    public func vectorRecommend(options: QueryOptions, scratch: QueryScratch) {
        let given = scratch.requestVector
        scratch.begin(itemCount: itemCount)
        blockExcluded(scratch)
        guard let vectors else { return }
        prepareQuery(vectors, scratch)
        var norm: Float = 0
        for x in 0..<min(given.count, vectors.dimension) {
            scratch.vector[x] = given[x]
            norm += given[x] * given[x]
        }
        guard norm > 0 else {
            topUp(options, scratch)
            return
        }
        for x in 0..<vectors.dimension { scratch.vector[x] /= norm.squareRoot() }
        selectByVector(options, scratch, vectors, blend: false)
    }

    func prepareQuery(_ vectors: VectorIndex, _ scratch: QueryScratch) {
        if scratch.vector.count != vectors.stride { scratch.vector = [Float](repeating: 0, count: vectors.stride) }
        for x in 0..<vectors.stride { scratch.vector[x] = 0 }
    }

    /// The user's vector: their items' vectors weighted by affinity (event
    /// type and recency, as for co-occurrence), normalised. False if none
    /// of their items has a vector.
    func userVector(_ range: Range<Int>, _ vectors: VectorIndex, _ scratch: QueryScratch) -> Bool {
        prepareQuery(vectors, scratch)
        var any = false
        func add(_ item: UInt32, _ w: Float) {
            let i = Int(item)
            guard i < vectors.count, vectors.hasVector[i] else { return }
            any = true
            for x in 0..<vectors.dimension { scratch.vector[x] += w * vectors.values[i * vectors.stride + x] }
        }
        for h in range { add(histories.items[h], histories.weights[h]) }
        for (i, w) in zip(scratch.liveItems, scratch.liveWeights) where Int(i) < itemCount { add(i, w) }
        var norm: Float = 0
        for x in 0..<vectors.dimension { norm += scratch.vector[x] * scratch.vector[x] }
        guard any, norm > 0 else { return false }
        for x in 0..<vectors.dimension { scratch.vector[x] /= norm.squareRoot() }
        return true
    }

    /// Top k by vector similarity, or with `blend` by
    /// (1 - w) x co-occurrence score / best co-occurrence score + w x cosine,
    /// over items that pass the filters; then the popularity top-up.
    func selectByVector(_ options: QueryOptions, _ scratch: QueryScratch, _ vectors: VectorIndex, blend: Bool) {
        var best: Float = 0
        if blend { for j in scratch.touched { best = max(best, scratch.score(j)) } }
        let w = blend ? options.vectorWeight : 1
        let cfScale = blend && best > 0 ? (1 - w) / best : 0
        scratch.vector.withUnsafeBufferPointer { query in
            let accept = { (j: Int) in !scratch.isBlocked(UInt32(j)) && self.passes(UInt32(j), options) }
            if !vectors.graphs.isEmpty && options.ef > 0 {
                vectors.searchGraphs(query, k: options.k, ef: max(options.ef, options.k), scratch: scratch.graphScratch,
                                     into: &scratch.nearest, accept: accept)
            } else {
                vectors.search(query, k: options.k, shards: config.shards, heaps: &scratch.vectorHeaps,
                               into: &scratch.nearest, accept: accept)
            }
        }
        scratch.heap.reset(keeping: options.k)
        if blend {
            // Every co-occurrence candidate with its blended score, then the
            // nearest vectors that co-occurrence did not reach.
            scratch.vector.withUnsafeBytes { q in
                for j in scratch.touched where !scratch.isBlocked(j) && passes(j, options) {
                    let hasVector = Int(j) < vectors.count && vectors.hasVector[Int(j)]
                    let cosine = hasVector ? vectors.similarity(Int(j), q.baseAddress!) : 0
                    scratch.heap.insert(j, w * cosine + cfScale * scratch.score(j))
                }
            }
            scratch.nearest.drainBestFirst { j, cosine in
                if !scratch.isTouched(j) { scratch.heap.insert(j, w * cosine) }
            }
        } else {
            scratch.nearest.drainBestFirst { j, cosine in scratch.heap.insert(j, cosine) }
        }
        scratch.heap.drainBestFirst { id, s in
            if !scratch.isBlocked(id) {
                scratch.block(id)
                scratch.result.append(id, s)
            }
        }
        topUp(options, scratch)
    }
}
