/// Live catalog changes. The index is immutable; a change makes a new
/// generation that shares every array it does not touch (copy-on-write), and
/// the server swaps it in like a reload. Costs O(items) per change, which
/// suits catalog updates (rare next to queries).
extension RecIndex {
    /// This index with `patches` applied and `popularityBoosts` added to the
    /// popularity of items the snapshot did not have (weights of their live
    /// events). Unknown item ids are interned as new items: filters see them
    /// at once, popularity ranks them once they have events.
    public func applying(patches: [ItemPatch], popularityBoosts: [([UInt8], Float)] = []) -> RecIndex {
        if patches.isEmpty && popularityBoosts.isEmpty { return self }
        var items = self.items
        var catalog = self.catalog
        var rankingChanged = !popularityBoosts.isEmpty
        for p in patches {
            let id = p.item.withUnsafeBufferPointer { items.intern($0) }
            catalog.ensureCount(items.count)
            if let v = p.inStock { catalog.setInStock(id, v) }
            if let v = p.price { catalog.setPrice(id, v) }
            if let v = p.title { v.withUnsafeBufferPointer { catalog.setTitle(id, $0) } }
            if let v = p.category {
                v.withUnsafeBufferPointer { catalog.setCategory(id, $0) }
                rankingChanged = true
            }
        }
        var score = popularity.score
        for (name, w) in popularityBoosts {
            let id = name.withUnsafeBufferPointer { items.intern($0) }
            if Int(id) >= score.count { score.append(contentsOf: repeatElement(0, count: Int(id) + 1 - score.count)) }
            score[Int(id)] += w
        }
        catalog.ensureCount(items.count)
        if score.count < items.count { score.append(contentsOf: repeatElement(0, count: items.count - score.count)) }
        return with(items: items, catalog: catalog,
                    popularity: rankingChanged || score.count != popularity.score.count
                        ? Popularity(score: score, catalog: catalog) : popularity)
    }

    /// The next generation: new item ids, catalog and popularity; every
    /// other part shared with this one.
    func with(items: ByteInterner, catalog: Catalog, popularity: Popularity, hiddenUsers: Set<UInt32>? = nil) -> RecIndex {
        RecIndex(config: config, users: users, items: items, catalog: catalog, histories: histories, neighbors: neighbors,
                 popularity: popularity, repurchase: repurchase.grown(to: items.count), vectors: vectors, rfm: rfm,
                 itemUsers: itemUsers, audiences: audiences, referenceTime: referenceTime, stats: stats, report: report,
                 hiddenUsers: hiddenUsers ?? self.hiddenUsers)
    }

    /// This index with the snapshot users named in `names` hidden (FORGET);
    /// names it does not hold are ignored.
    public func hiding(users names: some Sequence<[UInt8]>) -> RecIndex {
        var hidden = hiddenUsers
        for name in names {
            if let u = name.withUnsafeBufferPointer({ users.lookup($0) }) { hidden.insert(u) }
        }
        if hidden.count == hiddenUsers.count { return self }
        return with(items: items, catalog: catalog, popularity: popularity, hiddenUsers: hidden)
    }

    /// This index with one live event's weight added to the popularity of
    /// `item`, an item the build did not see (interned if new). Ranks move
    /// incrementally; see `Popularity.boosting`.
    public func boostingLiveItem(_ item: [UInt8], by weight: Float) -> RecIndex {
        var items = self.items
        let id = item.withUnsafeBufferPointer { items.intern($0) }
        var catalog = self.catalog
        catalog.ensureCount(items.count)
        let category = catalog.category[Int(id)]
        // The incremental path needs every category in the ranked lists.
        if popularity.categoryOffsets.count == catalog.categories.count + 1 {
            return with(items: items, catalog: catalog, popularity: popularity.boosting(id, by: weight, category: category))
        }
        return applying(patches: [], popularityBoosts: [(item, weight)])
    }

    /// Whether `item` was in the snapshot this index was built from (live
    /// items have ids past the built rows).
    public func isBuilt(_ item: UInt32) -> Bool { Int(item) < neighbors.itemCount }

    /// Weight of a live event in a user's affinity: type weight, decayed like
    /// snapshot events (live events newer than the snapshot count in full).
    @inline(__always)
    public func liveWeight(_ type: EventType, time: Int64) -> Float {
        config.weights[type] * UserHistories.decay(age: referenceTime.saturatingMinus(time), halfLifeSeconds: config.halfLifeDays * 86_400)
    }
}
