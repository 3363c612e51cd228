import Testing
import RecCore
import RecTestSupport

@Suite struct RFMTests {
    /// Ten buyers; five spent the same smallest amount.
    static func table() -> (RFMTable, EventTable) {
        var e = EventTable()
        let day = Fixtures.day, t0 = Fixtures.t0
        var catalog = Catalog()
        let spend: [Float] = [1, 1, 1, 1, 1, 2, 3, 4, 5, 6]
        for (u, s) in spend.enumerated() {
            // u buys u + 1 orders, a day apart; the last one on day 10 + u.
            for o in 0...u { e.append(user: "u\(u)", item: "x", type: .purchase, time: t0 + Int64(10 + u - o) * day, quantity: o == 0 ? s : 0) }
        }
        e.append(user: "browser", item: "x", type: .view, time: t0)
        catalog.ensureCount(e.items.count)
        catalog.setPrice(e.items.lookup("x")!, 1)
        return (RFMTable(events: e, catalog: catalog), e)
    }

    @Test func quintiles_GiveTiesOneScore_AndRankRecencyFrequencyMoney() {
        let (rfm, e) = Self.table()
        #expect(rfm.buyers == 10)
        #expect(rfm.values[Int(e.users.lookup("browser")!)] == nil)
        func scores(_ u: Int) -> (Int, Int, Int) {
            let s = rfm.scores(rfm.values[Int(e.users.lookup("u\(u)")!)]!)
            return (s.r, s.f, s.m)
        }
        // Money: the five tied at 1 all score 1 (no boundary splits a tie), then 3, 4, 4, 5, 5.
        #expect((0..<10).map { scores($0).2 } == [1, 1, 1, 1, 1, 3, 4, 4, 5, 5])
        // Recency and orders both grow with u: quintiles 1,1,2,2,3,3,4,4,5,5.
        #expect((0..<10).map { scores($0).0 } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect((0..<10).map { scores($0).1 } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(rfm.values[Int(e.users.lookup("u3")!)]!.orders == 4)
    }

    @Test func ordersCountPurchasesHalfADayApart() {
        let t0 = Fixtures.t0
        let v = RFMTable.values(purchaseTimes: [t0, t0 + 3600, t0 + 13 * 3600, t0 + 14 * 3600, t0 + 40 * 3600], monetary: 7)
        #expect(v.orders == 3)
        #expect(v.lastPurchase == t0 + 40 * 3600)
    }
}
