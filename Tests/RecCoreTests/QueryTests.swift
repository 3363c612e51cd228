import Testing
import RecTestSupport
@testable import RecCore

/// Queries on the tiny fixture: A=0, B=1, C=2, D=3; cosine A-B 2/3,
/// A-C 1/sqrt(6), B-C 2/sqrt(6); popularity A=3, B=3, C=2, D=1.
@Suite struct QueryTests {
    let scratch = QueryScratch()

    func options(k: Int = 10, _ edit: (inout QueryOptions) -> Void = { _ in }) -> QueryOptions {
        var o = QueryOptions(k: k)
        edit(&o)
        return o
    }

    func names(_ index: RecIndex) -> [String] { index.names(scratch.result).map(\.0) }

    /// x, y categories; C out of stock.
    func shopIndex() -> RecIndex {
        var catalog = Catalog()
        catalog.ensureCount(4)
        catalog.setCategory(0, "x")
        catalog.setCategory(1, "x")
        catalog.setCategory(2, "y")
        catalog.setCategory(3, "y")
        catalog.setInStock(2, false)
        return Fixtures.tinyIndex(.cosine, catalog: catalog)
    }

    @Test func sim_ReturnsNeighboursBestFirst_ThenTopsUpFromPopularity() {
        let index = Fixtures.tinyIndex()
        index.similar(to: index.items.lookup("A"), options: options(k: 2), scratch: scratch)
        #expect(names(index) == ["B", "C"])
        #expect(abs(scratch.result.scores[0] - 2.0 / 3) < 1e-6)
        #expect(scratch.result.fallbackCount == 0)
        index.similar(to: index.items.lookup("A"), options: options(k: 3), scratch: scratch)
        #expect(names(index) == ["B", "C", "D"])
        #expect(scratch.result.fallbackCount == 1)
        #expect(!scratch.result.unknownSubject)
    }

    @Test func unknownItemOrUser_FallsBackToPopularity_AndSaysSo() {
        let index = Fixtures.tinyIndex()
        index.similar(to: nil, options: options(), scratch: scratch)
        #expect(names(index) == ["A", "B", "C", "D"])  // A and B tie at 3: lower id first
        #expect(scratch.result.unknownSubject)
        #expect(scratch.result.fallbackCount == 4)
        index.recommend(user: nil, options: options(k: 2), scratch: scratch)
        #expect(names(index) == ["A", "B"])
        #expect(scratch.result.unknownSubject)
    }

    @Test func rec_SumsHistoryTimesSimilarity_AndExcludesWhatTheUserHas() {
        let index = Fixtures.tinyIndex()
        index.recommend(user: index.users.lookup("u1"), options: options(k: 1), scratch: scratch)
        // u1 has A, B: C scores sim(A,C) + sim(B,C) = 1/sqrt(6) + 2/sqrt(6).
        #expect(names(index) == ["C"])
        #expect(abs(Double(scratch.result.scores[0]) - 3 / 6.0.squareRoot()) < 1e-5)
        index.recommend(user: index.users.lookup("u1"), options: options(), scratch: scratch)
        #expect(names(index) == ["C", "D"])
        #expect(scratch.result.fallbackCount == 1)
    }

    @Test func rec_SeenInclude_LetsOwnedItemsBack() {
        let index = Fixtures.tinyIndex()
        index.recommend(user: index.users.lookup("u1"), options: options { $0.seen = .include }, scratch: scratch)
        // A and B are each other's neighbours: A gets sim(B,A) = 2/3, B gets 2/3; C 3/sqrt(6).
        #expect(names(index) == ["C", "A", "B", "D"])
        #expect(scratch.result.fallbackCount == 1)
    }

    @Test func filters_CategoryInStockAndExclude_ApplyToScoredAndFallbackItems() {
        let index = shopIndex()
        index.recommend(user: index.users.lookup("u4"), options: options { $0.category = .only(index.catalog.categories.lookup("y")!) },
                        scratch: scratch)
        #expect(names(index) == ["C", "D"])
        index.similar(to: index.items.lookup("A"), options: options { $0.inStockOnly = true }, scratch: scratch)
        #expect(names(index) == ["B", "D"])
        scratch.excludeItems = [index.items.lookup("B")!]
        index.similar(to: index.items.lookup("A"), options: options(), scratch: scratch)
        #expect(names(index) == ["C", "D"])
        scratch.excludeItems = []
        index.similar(to: index.items.lookup("A"), options: options { $0.category = .unknown }, scratch: scratch)
        #expect(names(index).isEmpty)
    }

    @Test func session_WeighsLaterClicksMore_AndSkipsUnknownItems() {
        let index = Fixtures.tinyIndex()
        scratch.requestItems = [UInt32.max, index.items.lookup("C")!, index.items.lookup("A")!]
        index.recommendSession(options: options(k: 1), scratch: scratch)
        // B: C at position 2/3 gives 2/3 * 2/sqrt(6); A at 3/3 gives 1 * 2/3.
        #expect(names(index) == ["B"])
        let expected = 2.0 / 3 * 2 / 6.0.squareRoot() + 2.0 / 3
        #expect(abs(Double(scratch.result.scores[0]) - expected) < 1e-5)
        scratch.requestItems = [UInt32.max]
        index.recommendSession(options: options(k: 2), scratch: scratch)
        #expect(scratch.result.unknownSubject)
        #expect(names(index) == ["A", "B"])
    }

    @Test func popular_RanksByDecayedWeight_OverallAndPerCategory() {
        let index = shopIndex()
        index.popular(options: options(k: 2), scratch: scratch)
        #expect(names(index) == ["A", "B"])
        #expect(scratch.result.fallbackCount == 0)
        #expect(scratch.result.scores == [3, 3])
        index.popular(options: options { $0.category = .only(index.catalog.categories.lookup("y")!) }, scratch: scratch)
        #expect(names(index) == ["C", "D"])
        index.popular(options: options { $0.category = .only(index.catalog.categories.lookup("y")!); $0.inStockOnly = true },
                      scratch: scratch)
        #expect(names(index) == ["D"])
    }

    @Test func answers_AreDeterministic_AcrossScratchReuseAndIndexRebuilds() {
        let events = Fixtures.randomEvents(users: 500, items: 200, seed: 9)
        let a = IndexBuilder.build(Snapshot(events: events), config: Fixtures.plainConfig())
        let b = IndexBuilder.build(Snapshot(events: events), config: Fixtures.plainConfig(shards: 3))
        let other = QueryScratch()
        for u in stride(from: 0, to: 500, by: 13) {
            a.recommend(user: UInt32(u), options: options(), scratch: scratch)
            b.recommend(user: UInt32(u), options: options(), scratch: other)
            #expect(scratch.result.ids == other.result.ids)
            #expect(scratch.result.scores == other.result.scores)
        }
    }

    @Test func rec_AgreesWithABruteForceScoreOfEveryItem() {
        let events = Fixtures.randomEvents(users: 300, items: 90, groups: 4, seed: 21)
        var config = Fixtures.plainConfig()
        config.halfLifeDays = 10
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        for u in stride(from: 0, to: 300, by: 17) {
            var expected = [Float](repeating: 0, count: index.itemCount)
            var touched = Set<Int>()
            let range = index.histories.range(of: UInt32(u))
            for h in range {
                for x in index.neighbors.range(of: index.histories.items[h]) {
                    expected[Int(index.neighbors.ids[x])] += index.histories.weights[h] * index.neighbors.scores[x]
                    touched.insert(Int(index.neighbors.ids[x]))
                }
            }
            for h in range { touched.remove(Int(index.histories.items[h])) }
            let best = touched.sorted { expected[$0] != expected[$1] ? expected[$0] > expected[$1] : $0 < $1 }.prefix(5)
            index.recommend(user: UInt32(u), options: options(k: 5), scratch: scratch)
            let personal = scratch.result.count - scratch.result.fallbackCount
            #expect(scratch.result.ids.prefix(personal).map { Int($0) } == Array(best.prefix(personal)))
        }
    }
}
