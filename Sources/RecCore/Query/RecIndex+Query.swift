import CEpoll

/// The four read queries. Each writes its answer into `scratch.result`.
/// Thread contract: any number of threads may query one index at once, each
/// with its own scratch.
extension RecIndex {
    /// Whether item j passes the category and stock filters.
    @inline(__always)
    func passes(_ j: UInt32, _ options: QueryOptions) -> Bool {
        if options.inStockOnly && !catalog.inStock[Int(j)] { return false }
        switch options.category {
        case .any: return true
        case .only(let c): return catalog.category[Int(j)] == c
        case .unknown: return false
        }
    }

    func blockExcluded(_ scratch: QueryScratch) {
        for item in scratch.excludeItems where Int(item) < itemCount { scratch.block(item) }
    }

    /// `SIM item`: the item's stored neighbours, filtered.
    /// A row's ids are distinct and never the item itself, so without
    /// exclusions the scan needs no per-item "blocked" marks: those are a
    /// random cache miss each in the scratch, and SIM is mostly misses.
    /// They are set only when the popularity top-up has to skip the picks.
    /// - Complexity: O(K) for K stored neighbours, plus the popularity top-up.
    public func similar(to item: UInt32?, options: QueryOptions, scratch: QueryScratch) {
        scratch.begin(itemCount: itemCount)
        blockExcluded(scratch)
        guard let item, Int(item) < itemCount else {
            scratch.result.unknownSubject = true
            topUp(options, scratch)
            return
        }
        let marking = !scratch.excludeItems.isEmpty
        if marking { scratch.block(item) }
        for x in neighbors.range(of: item) {
            if scratch.result.count >= options.k { break }
            let j = neighbors.ids[x]
            if (marking && scratch.isBlocked(j)) || !passes(j, options) { continue }
            if marking { scratch.block(j) }
            scratch.result.append(j, neighbors.scores[x])
        }
        if options.fallback && scratch.result.count < options.k && !marking {
            scratch.block(item)
            for j in scratch.result.ids { scratch.block(j) }
        }
        topUp(options, scratch)
    }

    /// `REC user`: sum over the user's items of affinity x neighbour similarity.
    /// The user's live events, resolved by the caller into `scratch.liveItems`
    /// and `scratch.liveWeights`, count like history entries; with
    /// `snapshotHistory` false (a forgotten user) only they count.
    /// - Complexity: O(H K + C log k) for H history items, K neighbours each, C candidates.
    public func recommend(user: UInt32?, options: QueryOptions, scratch: QueryScratch, snapshotHistory: Bool = true) {
        scratch.begin(itemCount: itemCount)
        blockExcluded(scratch)
        let range = snapshotHistory ? user.map { Int($0) < userCount ? histories.range(of: $0) : 0..<0 } ?? 0..<0 : 0..<0
        if range.isEmpty && scratch.liveItems.isEmpty && (user == nil || !snapshotHistory) {
            scratch.result.unknownSubject = true
            topUp(options, scratch)
            return
        }
        if options.mode != .vec {
            histories.items.withUnsafeBufferPointer { items in
                histories.weights.withUnsafeBufferPointer { weights in
                    scatter(UnsafeBufferPointer(rebasing: items[range]), UnsafeBufferPointer(rebasing: weights[range]), scratch)
                }
            }
            let live = min(scratch.liveItems.count, scratch.liveWeights.count)
            scratch.liveItems.withUnsafeBufferPointer { items in
                scratch.liveWeights.withUnsafeBufferPointer { weights in
                    scatter(UnsafeBufferPointer(rebasing: items[..<live]), UnsafeBufferPointer(rebasing: weights[..<live]), scratch)
                }
            }
        }
        if options.seen == .exclude {
            for h in range { scratch.block(histories.items[h]) }
            for i in scratch.liveItems where Int(i) < itemCount { scratch.block(i) }
        }
        guard options.mode != .cf, let vectors, userVector(range, vectors, scratch) else {
            selectCandidates(options, scratch)
            return
        }
        selectByVector(options, scratch, vectors, blend: options.mode == .hybrid)
    }

    /// Adds `weights[h] x similarity` to every neighbour of every `items[h]`.
    /// A user's items are random rows of a neighbour table far bigger than
    /// the caches, so each row is a miss: the loop prefetches the rows a few
    /// items ahead (and their offsets further ahead) to overlap the misses.
    /// Items without neighbours (ids past the built rows) are skipped.
    func scatter(_ items: UnsafeBufferPointer<UInt32>, _ weights: UnsafeBufferPointer<Float>, _ scratch: QueryScratch) {
        let n = items.count
        if n == 0 { return }
        let built = UInt32(neighbors.itemCount)
        neighbors.offsets.withUnsafeBufferPointer { offsets in
            neighbors.ids.withUnsafeBufferPointer { ids in
                neighbors.scores.withUnsafeBufferPointer { scores in
                    let rowAhead = 2, offsetAhead = 6
                    for h in 0..<min(n, offsetAhead) where items[h] < built {
                        crecd_prefetch(offsets.baseAddress! + Int(items[h]))
                    }
                    for h in 0..<n {
                        if h + offsetAhead < n, items[h + offsetAhead] < built {
                            crecd_prefetch(offsets.baseAddress! + Int(items[h + offsetAhead]))
                        }
                        if h + rowAhead < n, items[h + rowAhead] < built {
                            let i = Int(items[h + rowAhead])
                            var x = Int(offsets[i])
                            let end = Int(offsets[i + 1])
                            while x < end {
                                crecd_prefetch(ids.baseAddress! + x)
                                crecd_prefetch(scores.baseAddress! + x)
                                x += 16  // one 64-byte line of 4-byte entries
                            }
                        }
                        let item = items[h]
                        guard item < built else { continue }
                        let w = weights[h]
                        for x in Int(offsets[Int(item)])..<Int(offsets[Int(item) + 1]) {
                            scratch.add(ids[x], w * scores[x])
                        }
                    }
                }
            }
        }
    }

    /// `SESSION a,b,c`: scores from the visit's items (`scratch.requestItems`),
    /// later clicks counting more, as a visitor's intent drifts.
    public func recommendSession(options: QueryOptions, scratch: QueryScratch) {
        scratch.begin(itemCount: itemCount)
        blockExcluded(scratch)
        let visit = scratch.requestItems
        var known = 0
        for (position, i) in visit.enumerated() where Int(i) < itemCount {
            known += 1
            let w = Float(position + 1) / Float(visit.count)
            for x in neighbors.range(of: i) { scratch.add(neighbors.ids[x], w * neighbors.scores[x]) }
        }
        if known == 0 { scratch.result.unknownSubject = true }
        if options.seen == .exclude {
            for i in visit where Int(i) < itemCount { scratch.block(i) }
        }
        selectCandidates(options, scratch)
    }

    /// `POPULAR`: time-decayed popularity, optionally within one category.
    public func popular(options: QueryOptions, scratch: QueryScratch) {
        scratch.begin(itemCount: itemCount)
        blockExcluded(scratch)
        appendPopular(options, scratch, asFallback: false)
    }

    /// Bounded-heap selection over the scored candidates, then the top-up.
    func selectCandidates(_ options: QueryOptions, _ scratch: QueryScratch) {
        scratch.heap.reset(keeping: options.k)
        // Most candidates cannot make the cut once the heap is full, so the
        // cheap score test goes before the filters.
        for j in scratch.touched {
            let s = scratch.score(j)
            if scratch.heap.admits(j, s) && !scratch.isBlocked(j) && passes(j, options) { scratch.heap.insert(j, s) }
        }
        scratch.heap.drainBestFirst { id, s in
            scratch.block(id)
            scratch.result.append(id, s)
        }
        topUp(options, scratch)
    }

    @inline(__always)
    func topUp(_ options: QueryOptions, _ scratch: QueryScratch) {
        if options.fallback && scratch.result.count < options.k {
            appendPopular(options, scratch, asFallback: true)
        }
    }

    func appendPopular(_ options: QueryOptions, _ scratch: QueryScratch, asFallback: Bool) {
        let list: ArraySlice<UInt32>
        switch options.category {
        case .unknown: return
        case .any: list = popularity.ranked[...]
        case .only(let c):
            list = popularity.categoryItems[Int(popularity.categoryOffsets[Int(c)])..<Int(popularity.categoryOffsets[Int(c) + 1])]
        }
        for j in list {
            if scratch.result.count >= options.k { break }
            if scratch.isBlocked(j) || (options.inStockOnly && !catalog.inStock[Int(j)]) { continue }
            scratch.block(j)
            scratch.result.append(j, popularity.score[Int(j)])
            if asFallback { scratch.result.fallbackCount += 1 }
        }
    }
}
