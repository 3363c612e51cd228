import Foundation
import Testing
import RecTestSupport
@testable import RecCore

/// `similarity auto`: the holdout, the choice, and the build that follows.
@Suite struct ModelSelectionTests {
    @Test func holdout_TakesEachSampledUsersLatestItem_AndTrainsOnTheRest() {
        var events = EventTable()
        // u1: A, B, C in time order, then A again (A is now the latest).
        for (item, day) in [("A", 0), ("B", 1), ("C", 2), ("A", 3)] {
            events.append(user: "u1", item: item, type: .view, time: Fixtures.t0 + Int64(day) * Fixtures.day)
        }
        events.append(user: "u2", item: "A", type: .view, time: Fixtures.t0)
        events.append(user: "u2", item: "B", type: .view, time: Fixtures.t0)  // two items: too few to test
        let (train, test) = ModelSelection.holdout(events, sampleUsers: 10, seed: 1)
        #expect(test.count == 1)
        #expect(test.first.map { events.users.name($0.user) } == "u1")
        #expect(test.first?.items == [events.items.lookup("A")!])
        #expect(train.count == 4, "both A events of u1 leave; u2 keeps everything")
    }

    @Test func holdout_AlsoTakesARandomQuarterOfTheEarlierItems_FromLongerHistories() throws {
        var events = EventTable()
        for (day, item) in ["A", "B", "C", "D", "E", "F", "G", "H", "I"].enumerated() {
            events.append(user: "u", item: item, type: .view, time: Fixtures.t0 + Int64(day) * Fixtures.day)
        }
        let (train, test) = ModelSelection.holdout(events, sampleUsers: 10, seed: 3)
        let held = try #require(test.first)
        #expect(events.items.name(held.latest) == "I", "what they did next")
        #expect(held.other.count == 2, "a quarter of the 8 earlier items")
        #expect(!held.other.contains(held.latest))
        #expect(train.count == 6)
        let again = ModelSelection.holdout(events, sampleUsers: 10, seed: 3).1.first?.other
        #expect(again == held.other, "seeded")
    }

    /// The selection scores the hybrid blend itself (REC on every candidate
    /// would take a full index per candidate): its ranking must be REC's.
    @Test func hybridHoldoutScores_RankAsRecModeHybridDoes() {
        let events = Fixtures.randomEvents(users: 300, items: 80, groups: 4, seed: 11)
        var table = EmbeddingTable(dimension: 8)
        var rng = SplitMix64(seed: 5)
        for i in 0..<events.items.count { table.append(item: UInt32(i), (0..<8).map { _ in Float(rng.next() % 1000) / 500 - 1 }) }
        let (train, test) = ModelSelection.holdout(events, sampleUsers: 150, seed: 42)
        var snapshot = Snapshot(events: train)
        snapshot.embeddings = table
        let index = IndexBuilder.build(snapshot, config: Fixtures.plainConfig(.cosine))
        let weights: [Float] = [0.2, 0.6]
        let selection = ModelSelection.ndcg(histories: index.histories, neighbors: index.neighbors, test: test,
                                            itemCount: index.itemCount,
                                            vectors: UnitVectors(table, itemCount: index.itemCount), blends: weights)
        func ndcg(_ top: [UInt32], _ relevant: Set<UInt32>) -> Double {
            var dcg = 0.0, ideal = 0.0
            for (rank, j) in top.enumerated() where relevant.contains(j) { dcg += 1 / log2(Double(rank + 2)) }
            for r in 0..<min(10, relevant.count) { ideal += 1 / log2(Double(r + 2)) }
            return dcg / ideal
        }
        let scratch = QueryScratch()
        for (b, w) in weights.enumerated() {
            var total = 0.0
            for held in test {
                var options = QueryOptions(k: 10)
                options.seen = .exclude
                options.mode = .hybrid
                options.vectorWeight = w
                index.recommend(user: held.user, options: options, scratch: scratch)
                let top = Array(scratch.result.ids.prefix(10))
                let next = ndcg(top, [held.latest])
                total += held.other.isEmpty ? next : (next + ndcg(top, held.other)) / 2
            }
            #expect(abs(selection[1 + b] - total / Double(test.count)) < 0.005, "w=\(w): selection \(selection[1 + b]), REC \(total / Double(test.count))")
        }
        #expect(selection[1] != selection[2], "the weight changes the ranking")
    }

    @Test func hybridIsTried_OnlyWhereItsVectorScanIsCheap() {
        let events = Fixtures.randomEvents(users: 300, items: 80, groups: 4, seed: 11)
        var config = Fixtures.plainConfig(.auto)
        config.alsFactors = 8
        let small = ModelSelection.choose(events: events, config: config)
        #expect(small.candidates.contains { $0.config.recMode == .hybrid })
        let large = ModelSelection.choose(events: events, config: config, hybridMaxItems: 50)
        #expect(!large.candidates.contains { $0.config.recMode == .hybrid }, "80 items is past a limit of 50")
        #expect(large.chosen.config.recMode == .cf)
    }

    @Test func auto_ChoosesTheBestHoldoutCandidate_AndBuildsWithIt() throws {
        let events = Fixtures.randomEvents(users: 600, items: 150, groups: 3, seed: 7)
        var config = Fixtures.plainConfig(.auto)
        config.halfLifeDays = 30
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        let selection = try #require(index.stats.selection)
        #expect(selection.candidates.count >= 9, "every model, EASE included at 150 items, then the winner's variants")
        #expect(selection.candidates.contains { $0.config.similarity == .ease })
        // The best candidate with the configured neighbours, unless four
        // times as many win by the margin that pays for them.
        let narrow = selection.candidates.filter { $0.config.neighbors == config.neighbors }.map(\.ndcg).max()!
        #expect(selection.chosen.ndcg >= narrow)
        if selection.chosen.config.neighbors > config.neighbors {
            #expect(selection.chosen.ndcg > narrow * ModelSelection.widerRowsMargin)
        } else {
            #expect(selection.candidates.allSatisfy { $0.ndcg <= narrow * ModelSelection.widerRowsMargin })
        }
        #expect(selection.chosen.ndcg > 0)
        #expect(index.config.similarity == selection.chosen.config.similarity && index.config.similarity != .auto)
        // The served model is exactly the chosen configuration pinned.
        let pinned = IndexBuilder.build(Snapshot(events: events), config: selection.chosen.config)
        #expect(pinned.neighbors.ids == index.neighbors.ids && pinned.neighbors.scores == index.neighbors.scores)
        // Deterministic: the same snapshot chooses the same.
        #expect(IndexBuilder.build(Snapshot(events: events), config: config).stats.selection?.chosen.name == selection.chosen.name)
    }

    @Test func aCatalogBeyondTheDenseLimit_LeavesEaseOut() {
        let names = ModelSelection.candidates(BuildConfig(), itemCount: EASESolver.maxItems + 1).map(\.config.similarity)
        #expect(!names.contains(.ease) && names.contains(.rp3beta))
        #expect(EASESolver.neighbors(histories: UserHistories(events: EventTable(), config: BuildConfig()),
                                     inverted: ItemUsers(histories: UserHistories(events: EventTable(), config: BuildConfig()), itemCount: 0),
                                     itemCount: EASESolver.maxItems + 1, lambda: 1, k: 1, threads: 1) == nil)
    }

    /// On MovieLens 100K the holdout prefers a model that beats plain
    /// cosine, and the choice holds on the recbench split it never saw.
    @Test(.enabled(if: Fixtures.sharedData("ml100k_ratings.tsv") != nil, "needs ../shared/data/ml100k_ratings.tsv"))
    func movieLens_AutoBeatsCosineOnItsHoldout() throws {
        let bytes = try FileBytes.read(try #require(Fixtures.sharedData("ml100k_ratings.tsv")))
        var events = EventTable()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t")
            events.append(user: String(f[0]), item: String(f[1]), type: Int(f[2])! >= 4 ? .purchase : .view, time: Int64(f[3])!)
        }
        let outcome = ModelSelection.choose(events: events, config: BuildConfig())
        let cosine = try #require(outcome.candidates.first { $0.name == "cosine" })
        #expect(outcome.chosen.ndcg > cosine.ndcg * 1.1, "\(outcome.candidates.map { ($0.name, $0.ndcg) })")
    }
}
