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

    public init(events: EventTable) {
        // Purchases ordered by (user, item, time): a counting sort by user,
        // then a small sort of each user's own purchases.
        var userStart = [Int](repeating: 0, count: events.users.count + 1)
        var purchases = 0
        for e in 0..<events.count where events.type[e] == .purchase {
            userStart[Int(events.user[e]) + 1] += 1
            purchases += 1
        }
        for u in 0..<events.users.count { userStart[u + 1] += userStart[u] }
        var order = [Int](repeating: 0, count: purchases)
        var cursor = userStart
        for e in 0..<events.count where events.type[e] == .purchase {
            let u = Int(events.user[e])
            order[cursor[u]] = e
            cursor[u] += 1
        }
        for u in 0..<events.users.count where userStart[u + 1] - userStart[u] > 1 {
            order[userStart[u]..<userStart[u + 1]].sort { a, b in
                let ia = events.item[a], ib = events.item[b]
                return ia != ib ? ia < ib : events.time[a] < events.time[b]
            }
        }
        var gaps = [[Int64]](repeating: [], count: events.items.count)
        var offsets = [UInt32](repeating: 0, count: events.users.count + 1)
        var items: [UInt32] = [], last: [Int64] = []
        var x = 0
        while x < order.count {
            let u = events.user[order[x]], i = events.item[order[x]]
            var previous = events.time[order[x]]
            var y = x + 1
            while y < order.count && events.user[order[y]] == u && events.item[order[y]] == i {
                let t = events.time[order[y]]
                if t - previous >= Repurchase.sameVisit {
                    gaps[Int(i)].append(t - previous)
                    previous = t
                }
                y += 1
            }
            items.append(i)
            last.append(events.time[order[y - 1]])
            offsets[Int(u) + 1] = UInt32(items.count)
            x = y
        }
        for u in 0..<events.users.count where offsets[u + 1] < offsets[u] { offsets[u + 1] = offsets[u] }
        self.offsets = offsets
        self.items = items
        self.lastPurchase = last
        self.interval = gaps.map { g in
            guard g.count >= Repurchase.minGaps else { return 0 }
            let s = g.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
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
