import Testing
import RecCore
import RecTestSupport

@Suite struct PopularityTests {
    /// The incremental re-rank after a live event must equal a full rebuild.
    @Test func boosting_MatchesAFullRebuild_OnRandomScoresAndCategories() {
        var rng = SplitMix64(seed: 11)
        var catalog = Catalog()
        let n = 300
        catalog.ensureCount(n + 5)
        for i in 0..<UInt32(n + 5) where rng.next() % 3 != 0 { catalog.setCategory(i, "c\(rng.next() % 4)") }
        var score = (0..<n).map { _ in rng.next() % 4 == 0 ? 0 : Float(rng.next() % 20) }
        score += [0, 0, 0, 0, 0]
        var popularity = Popularity(score: score, catalog: catalog)
        for _ in 0..<200 {
            let item = UInt32(rng.next() % UInt64(n + 5))
            let w = Float(rng.next() % 5 + 1)
            popularity = popularity.boosting(item, by: w, category: catalog.category[Int(item)])
            score[Int(item)] += w
            let full = Popularity(score: score, catalog: catalog)
            #expect(popularity.ranked == full.ranked)
            #expect(popularity.categoryOffsets == full.categoryOffsets)
            #expect(popularity.categoryItems == full.categoryItems)
        }
    }
}
