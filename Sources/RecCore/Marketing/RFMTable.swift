/// Recency, frequency and monetary value per buying user, the marketer's
/// RFM, with each measure's sorted values so any user's (or an updated
/// user's) quintile score is a binary search.
///
/// Frequency counts orders: purchases at least 12 hours apart (the lines of
/// one invoice are one order). Monetary is quantity x price where the price
/// is known. Users who never bought have no RFM.
public struct RFMTable: Sendable {
    public struct Values: Sendable, Equatable {
        public var lastPurchase: Int64
        public var orders: Int
        public var monetary: Double

        public init(lastPurchase: Int64, orders: Int, monetary: Double) {
            self.lastPurchase = lastPurchase
            self.orders = orders
            self.monetary = monetary
        }
    }

    /// Per user id; nil for users without purchases.
    public let values: [Values?]
    let sortedLast: [Int64]
    let sortedOrders: [Int]
    let sortedMonetary: [Double]

    public var buyers: Int { sortedLast.count }

    public init(events: EventTable, catalog: Catalog) {
        let userCount = events.users.count
        // Purchase times grouped by user with a counting sort (one array
        // per user was a million allocations at 10M events).
        var start = [Int](repeating: 0, count: userCount + 1)
        for e in 0..<events.count where events.type[e] == .purchase { start[Int(events.user[e]) + 1] += 1 }
        for u in 0..<userCount { start[u + 1] += start[u] }
        var times = [Int64](repeating: 0, count: start[userCount])
        var money = [Double](repeating: 0, count: userCount)
        var cursor = start
        for e in 0..<events.count where events.type[e] == .purchase {
            let u = Int(events.user[e])
            times[cursor[u]] = events.time[e]
            cursor[u] += 1
            let price = Int(events.item[e]) < catalog.count ? catalog.price[Int(events.item[e])] : .nan
            if !price.isNaN { money[u] += Double(events.quantity[e]) * Double(price) }
        }
        var values = [Values?](repeating: nil, count: userCount)
        times.withUnsafeMutableBufferPointer { times in
            for u in 0..<userCount where start[u + 1] > start[u] {
                values[u] = RFMTable.values(sorting: UnsafeMutableBufferPointer(rebasing: times[start[u]..<start[u + 1]]),
                                            monetary: money[u])
            }
        }
        self.values = values
        let present = values.compactMap { $0 }
        sortedLast = present.map(\.lastPurchase).sorted()
        sortedOrders = present.map(\.orders).sorted()
        sortedMonetary = present.map(\.monetary).sorted()
    }

    /// Orders are purchases at least 12 hours after the previous order began.
    public static func values(purchaseTimes: [Int64], monetary: Double) -> Values {
        var times = purchaseTimes
        return times.withUnsafeMutableBufferPointer { values(sorting: $0, monetary: monetary) }
    }

    /// The same from times it may sort in place.
    static func values(sorting times: UnsafeMutableBufferPointer<Int64>, monetary: Double) -> Values {
        var times = times
        times.sort()
        var orders = 0
        var orderStart = Int64.min
        for t in times where orderStart == Int64.min || t - orderStart >= Repurchase.sameVisit {
            orders += 1
            orderStart = t
        }
        return Values(lastPurchase: times.last ?? 0, orders: orders, monetary: monetary)
    }

    /// Quintile score 1-5 of `v` among the sorted values: 1 + how many
    /// users have a strictly smaller value, in fifths. Equal values always
    /// get equal scores, so a tie never straddles a boundary.
    static func quintile<T: Comparable>(_ v: T, _ sorted: [T]) -> Int {
        guard !sorted.isEmpty else { return 1 }
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return 1 + min(4, lo * 5 / sorted.count)
    }

    /// (R, F, M) scores, 5 best: the latest purchase, the most orders, the most spent.
    public func scores(_ v: Values) -> (r: Int, f: Int, m: Int) {
        (RFMTable.quintile(v.lastPurchase, sortedLast), RFMTable.quintile(v.orders, sortedOrders),
         RFMTable.quintile(v.monetary, sortedMonetary))
    }
}
