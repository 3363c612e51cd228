/// Replenishment signal for `DUE`: how long customers typically wait before
/// buying an item again, and when each user last bought each item.
///
/// An item's interval is the median gap between consecutive purchases of it
/// by the same user, over all users; purchases less than `sameVisit` apart
/// count as one (several invoice lines of one order). Items with fewer than
/// `minGaps` gaps get no interval: too little evidence to nag anyone.
public struct Repurchase: Sendable {
    public static let sameVisit: Int64 = 12 * 3600
    public static let minGaps = 2

    /// Median repurchase gap per item, seconds; 0 where unknown.
    public let interval: [Int64]
    /// CSR per user: items bought and the time of the last purchase, by item id.
    public let offsets: [UInt32]
    public let items: [UInt32]
    public let lastPurchase: [Int64]

    public var memoryBytes: Int { interval.capacity * 8 + offsets.capacity * 4 + items.capacity * 4 + lastPurchase.capacity * 8 }

    @inline(__always)
    public func range(of user: UInt32) -> Range<Int> {
        guard Int(user) + 1 < offsets.count else { return 0..<0 }
        return Int(offsets[Int(user)])..<Int(offsets[Int(user) + 1])
    }

    /// Collects purchases during `UserHistories`' pass over the events in
    /// (user, item, file) order, so no second sort of the events is needed.
    struct Builder {
        var gapItems: [UInt32] = []
        var gaps: [Int64] = []
        var offsets: [UInt32]
        var items: [UInt32] = []
        var last: [Int64] = []
        let itemCount: Int
        /// The current (user, item) run's purchase times.
        var times: [Int64] = []

        init(userCount: Int, itemCount: Int) {
            offsets = [UInt32](repeating: 0, count: userCount + 1)
            self.itemCount = itemCount
        }

        /// Ends user u's run of events on `item` whose purchases are `times`
        /// (file order, usually time order).
        @inline(__always)
        mutating func endRun(user u: Int, item: UInt32) {
            if times.isEmpty { return }
            if times.count > 1 {
                var sorted = true
                for x in 1..<times.count where times[x] < times[x - 1] { sorted = false }
                if !sorted { times.sort() }
                var previous = times[0]
                for t in times.dropFirst() where t - previous >= Repurchase.sameVisit {
                    gapItems.append(item)
                    gaps.append(t - previous)
                    previous = t
                }
            }
            items.append(item)
            last.append(times[times.count - 1])
            offsets[u + 1] = UInt32(items.count)
            times.removeAll(keepingCapacity: true)
        }

        /// The median gap per item: gaps grouped by item with a counting sort.
        func finish() -> Repurchase {
            var start = [Int](repeating: 0, count: itemCount + 1)
            for i in gapItems { start[Int(i) + 1] += 1 }
            for i in 0..<itemCount { start[i + 1] += start[i] }
            var grouped = [Int64](repeating: 0, count: gaps.count)
            var cursor = start
            for (i, g) in zip(gapItems, gaps) {
                grouped[cursor[Int(i)]] = g
                cursor[Int(i)] += 1
            }
            var interval = [Int64](repeating: 0, count: itemCount)
            for i in 0..<itemCount where start[i + 1] - start[i] >= Repurchase.minGaps {
                grouped[start[i]..<start[i + 1]].sort()
                let s = grouped[start[i]..<start[i + 1]]
                let mid = s.startIndex + s.count / 2
                interval[i] = s.count % 2 == 1 ? s[mid] : s[mid - 1] + (s[mid] - s[mid - 1]) / 2  // no sum to overflow
            }
            var offsets = offsets
            for u in 0..<(offsets.count - 1) where offsets[u + 1] < offsets[u] { offsets[u + 1] = offsets[u] }
            return Repurchase(interval: interval, offsets: offsets, items: items, lastPurchase: last)
        }
    }

    init(interval: [Int64], offsets: [UInt32], items: [UInt32], lastPurchase: [Int64]) {
        self.interval = interval
        self.offsets = offsets
        self.items = items
        self.lastPurchase = lastPurchase
    }

    /// The same data for a catalog grown by live items (no intervals yet).
    func grown(to itemCount: Int) -> Repurchase {
        guard itemCount > interval.count else { return self }
        return Repurchase(interval: interval + repeatElement(0, count: itemCount - interval.count),
                          offsets: offsets, items: items, lastPurchase: lastPurchase)
    }
}
