extension RecIndex {
    /// `DUE user`: the user's items whose typical repurchase interval has
    /// passed since their last purchase of it, most overdue first, scored
    /// by days overdue. Live purchases (`scratch.livePurchases`) count.
    /// No popularity top-up: an item nobody needs yet is not due.
    /// - Complexity: O(P log P) for P items the user has bought.
    public func due(user: UInt32?, now: Int64, options: QueryOptions, scratch: QueryScratch, snapshotHistory: Bool = true) {
        scratch.begin(itemCount: itemCount)
        blockExcluded(scratch)
        let range = snapshotHistory ? user.map { repurchase.range(of: $0) } ?? 0..<0 : 0..<0
        if range.isEmpty && scratch.livePurchases.isEmpty && (user == nil || !snapshotHistory) {
            scratch.result.unknownSubject = true
            return
        }
        // Last purchase per item: snapshot entries, then later live ones.
        for x in range { scratch.livePurchases.append((repurchase.items[x], repurchase.lastPurchase[x])) }
        scratch.livePurchases.sort { $0.item != $1.item ? $0.item < $1.item : $0.time > $1.time }
        scratch.heap.reset(keeping: options.k)
        var previous = UInt32.max
        for (item, last) in scratch.livePurchases where item != previous {
            previous = item
            guard Int(item) < itemCount, !scratch.isBlocked(item), passes(item, options) else { continue }
            let interval = repurchase.interval[Int(item)]
            // Times are checked on the way in (ValueRanges); saturating all the same.
            let since = now.saturatingMinus(last)
            guard interval > 0, since >= interval else { continue }
            scratch.heap.insert(item, Float(Double(since.saturatingMinus(interval)) / 86_400))
        }
        scratch.heap.drainBestFirst { id, s in scratch.result.append(id, s) }
    }
}
