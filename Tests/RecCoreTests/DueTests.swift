import Testing
import RecCore
import RecTestSupport

/// Replenishment on a history worked out by hand.
@Suite struct DueTests {
    static let day = Fixtures.day, t0 = Fixtures.t0

    /// Coffee is rebought every 10 days (gaps 10, 10, 10 by two users), soap
    /// every 30 (gaps 30, 30), the mug never.
    static func index() -> RecIndex {
        var e = EventTable()
        for t in [0, 10, 20] as [Int64] { e.append(user: "a", item: "coffee", type: .purchase, time: t0 + t * day) }
        for t in [0, 10] as [Int64] { e.append(user: "b", item: "coffee", type: .purchase, time: t0 + t * day) }
        e.append(user: "b", item: "coffee", type: .purchase, time: t0 + 10 * day + 3600)  // same visit: no gap
        for t in [0, 30, 60] as [Int64] { e.append(user: "c", item: "soap", type: .purchase, time: t0 + t * day) }
        e.append(user: "a", item: "soap", type: .purchase, time: t0 + 5 * day)
        e.append(user: "a", item: "mug", type: .purchase, time: t0)
        e.append(user: "a", item: "tea", type: .view, time: t0)
        return IndexBuilder.build(Snapshot(events: e), config: Fixtures.plainConfig())
    }

    @Test func intervals_AreMedianGapsBetweenPurchases_SameVisitCountingOnce() {
        let index = Self.index()
        let interval = { (name: String) in index.repurchase.interval[Int(index.items.lookup(name)!)] }
        #expect(interval("coffee") == 10 * Self.day)
        #expect(interval("soap") == 30 * Self.day)
        #expect(interval("mug") == 0)
        #expect(interval("tea") == 0)
    }

    @Test func purchasesOutOfTimeOrder_GiveTheSameIntervalsAndLastPurchases() {
        // The same purchases with the rows reversed and views of the same items between them.
        let ordered = Self.index()
        let t0 = Self.t0, day = Self.day
        var e = EventTable()
        let rows: [(String, String, Int64)] = [("a", "coffee", 0), ("a", "coffee", 10), ("a", "coffee", 20),
                                               ("b", "coffee", 0), ("b", "coffee", 10), ("c", "soap", 0),
                                               ("c", "soap", 30), ("c", "soap", 60), ("a", "soap", 5), ("a", "mug", 0)]
        e.append(user: "b", item: "coffee", type: .purchase, time: t0 + 10 * day + 3600)
        for (user, item, t) in rows.reversed() {
            e.append(user: user, item: item, type: .purchase, time: t0 + t * day)
            e.append(user: user, item: item, type: .view, time: t0 + (t + 1) * day)
        }
        let shuffled = IndexBuilder.build(Snapshot(events: e), config: Fixtures.plainConfig())
        for name in ["coffee", "soap", "mug"] {
            let a = ordered.repurchase.interval[Int(ordered.items.lookup(name)!)]
            let b = shuffled.repurchase.interval[Int(shuffled.items.lookup(name)!)]
            #expect(a == b, "\(name)")
        }
        let user = shuffled.users.lookup("a")!, coffee = shuffled.items.lookup("coffee")!
        let last = shuffled.repurchase.range(of: user).first { shuffled.repurchase.items[$0] == coffee }
        #expect(last.map { shuffled.repurchase.lastPurchase[$0] } == t0 + 20 * day)
    }

    @Test func due_ListsOverdueItems_MostOverdueFirst_WithDays() {
        let index = Self.index()
        let scratch = QueryScratch()
        // a last bought coffee on day 20 (due day 30) and soap on day 5 (due day 35).
        index.due(user: index.users.lookup("a"), now: Self.t0 + 40 * Self.day, options: QueryOptions(k: 10), scratch: scratch)
        #expect(index.names(scratch.result).map(\.0) == ["coffee", "soap"])
        #expect(index.names(scratch.result).map(\.1) == [10, 5])
        // On day 32 only coffee is due.
        index.due(user: index.users.lookup("a"), now: Self.t0 + 32 * Self.day, options: QueryOptions(k: 10), scratch: scratch)
        #expect(index.names(scratch.result).map(\.0) == ["coffee"])
        #expect(index.names(scratch.result).map(\.1) == [2])
    }

    @Test func livePurchases_ResetTheClock() {
        let index = Self.index()
        let scratch = QueryScratch()
        scratch.livePurchases = [(index.items.lookup("coffee")!, Self.t0 + 38 * Self.day)]
        index.due(user: index.users.lookup("a"), now: Self.t0 + 40 * Self.day, options: QueryOptions(k: 10), scratch: scratch)
        #expect(index.names(scratch.result).map(\.0) == ["soap"])
    }

    @Test func unknownUser_IsSaidSo_AndNothingIsDue() {
        let index = Self.index()
        let scratch = QueryScratch()
        index.due(user: nil, now: Self.t0, options: QueryOptions(k: 10), scratch: scratch)
        #expect(scratch.result.count == 0)
        #expect(scratch.result.unknownSubject)
    }
}
