import Foundation
import Testing
import RecTestSupport
@testable import RecCore

/// The tiny fixture (see `Fixtures.tinyEvents`) worked by hand:
/// c_A = 3, c_B = 3, c_C = 2, c_D = 1, N = 5; c_AB = 2, c_AC = 1, c_BC = 2.
@Suite struct SimilarityTests {
    func score(_ index: RecIndex, _ a: String, _ b: String) -> Float? {
        index.neighborNames(a).first { $0.0 == b }?.1
    }

    func close(_ x: Float?, _ y: Double, _ tolerance: Double = 1e-5) -> Bool {
        guard let x else { return false }
        return abs(Double(x) - y) < tolerance
    }

    @Test func cosine_OnBinaryAffinities_IsSharedUsersOverRootOfCounts() {
        let index = Fixtures.tinyIndex(.cosine)
        #expect(close(score(index, "A", "B"), 2 / 3))           // 2 / sqrt(3 * 3)
        #expect(close(score(index, "A", "C"), 1 / sqrt(6.0)))   // 1 / sqrt(3 * 2)
        #expect(close(score(index, "B", "C"), 2 / sqrt(6.0)))   // 2 / sqrt(3 * 2)
        #expect(close(score(index, "C", "B"), 2 / sqrt(6.0)))   // symmetric
        #expect(index.neighborNames("D").isEmpty)
        #expect(index.neighborNames("B").map(\.0) == ["C", "A"])  // best first
    }

    @Test func jaccard_IsSharedOverUnion() {
        let index = Fixtures.tinyIndex(.jaccard)
        #expect(close(score(index, "A", "B"), 0.5))       // 2 / (3 + 3 - 2)
        #expect(close(score(index, "A", "C"), 0.25))      // 1 / (3 + 2 - 1)
        #expect(close(score(index, "B", "C"), 2.0 / 3))   // 2 / (3 + 2 - 2)
    }

    @Test func lift_IsObservedOverExpectedCooccurrence() {
        let index = Fixtures.tinyIndex(.lift)
        #expect(close(score(index, "A", "B"), 5.0 * 2 / 9))  // N c_AB / (c_A c_B)
        #expect(close(score(index, "A", "C"), 5.0 * 1 / 6))
        #expect(close(score(index, "B", "C"), 5.0 * 2 / 6))
    }

    @Test func llr_MatchesDunningsFormula_AndDropsNegativeAssociation() {
        let index = Fixtures.tinyIndex(.llr)
        // B,C: k11 = 2, k12 = 1, k21 = 0, k22 = 2 (u4, u5 have neither).
        // G^2 = 2 (H(rows) + H(cols) - H(matrix)), H(x...) = xlnx(sum) - sum xlnx(each).
        func xlx(_ x: Double) -> Double { x > 0 ? x * log(x) : 0 }
        let rows = xlx(5) - xlx(3) - xlx(2), cols = xlx(5) - xlx(2) - xlx(3)
        let matrix = xlx(5) - xlx(2) - xlx(1) - xlx(0) - xlx(2)
        #expect(close(score(index, "B", "C"), 2 * (rows + cols - matrix)))
        // A,C: k11 = 1, k12 = 2, k21 = 1, k22 = 1: P(C|A) = 1/3 < P(C|not A) = 1/2.
        #expect(score(index, "A", "C") == nil)
        #expect(PairScorer.logLikelihoodRatio(k11: 1, k12: 2, k21: 1, k22: 1) == 0)
    }

    @Test func cosine_CountsEachUserOnce_WhateverTheirEventsWeights() {
        // u1 views B (weight 1) and buys A (weight 5), u2 buys both: binary
        // incidence has both users on both items, so cos(A, B) = 2 / sqrt(2 * 2).
        var events = EventTable()
        events.append(user: "u1", item: "A", type: .purchase, time: Fixtures.t0)
        events.append(user: "u1", item: "B", type: .view, time: Fixtures.t0)
        events.append(user: "u1", item: "B", type: .view, time: Fixtures.t0 - 90 * Fixtures.day)
        events.append(user: "u2", item: "A", type: .purchase, time: Fixtures.t0)
        events.append(user: "u2", item: "B", type: .purchase, time: Fixtures.t0)
        var config = Fixtures.plainConfig()
        config.weights = EventWeights(view: 1, cart: 3, purchase: 5)
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        #expect(close(score(index, "A", "B"), 1))
    }

    /// RP3beta: walk_ij = sum over shared users of 1/|I_u|; s(i -> j) = walk / (c_i c_j^beta).
    @Test func rp3beta_IsTheRandomWalkOverPopularity_AndAsymmetric() {
        var config = Fixtures.plainConfig(.rp3beta)
        config.rp3Beta = 0.5
        let index = IndexBuilder.build(Snapshot(events: Fixtures.tinyEvents()), config: config)
        // A,B: u1 (2 items) and u2 (3 items): walk 1/2 + 1/3.
        #expect(close(score(index, "A", "B"), (5.0 / 6) / (3 * sqrt(3.0))))
        // A,C: u2 only, walk 1/3; c_A = 3, c_C = 2, so the two directions differ.
        #expect(close(score(index, "A", "C"), (1.0 / 3) / (3 * sqrt(2.0))))
        #expect(close(score(index, "C", "A"), (1.0 / 3) / (2 * sqrt(3.0))))
    }

    @Test func asymmetricCosine_WeighsTheTwoCountsByAlpha() {
        var config = Fixtures.plainConfig(.asymmetric)
        config.asymmetricAlpha = 0.25
        let index = IndexBuilder.build(Snapshot(events: Fixtures.tinyEvents()), config: config)
        #expect(close(score(index, "A", "C"), 1 / (pow(3, 0.25) * pow(2, 0.75))))
        #expect(close(score(index, "C", "A"), 1 / (pow(2, 0.25) * pow(3, 0.75))))
        config.asymmetricAlpha = 0.5
        let half = IndexBuilder.build(Snapshot(events: Fixtures.tinyEvents()), config: config)
        #expect(close(score(half, "B", "C"), 2 / sqrt(6.0)), "a = 0.5 is cosine")
    }

    /// implicit's weighting on the tiny shop: idf_u = ln 4 - ln(1 + |I_u|)
    /// over 4 items (u2 has 3 items: idf 0; u1, u3: ln 4/3; u4, u5: ln 2).
    @Test func tfidfAndBm25_WeighUsersByIdf_AsImplicitDoes() {
        let idf = [log(4.0 / 3), 0, log(4.0 / 3), log(2.0), log(2.0)]  // u1 ... u5
        func sq(_ users: [Int]) -> Double { users.reduce(0) { $0 + idf[$1] * idf[$1] } }
        let a = [0, 1, 3], b = [0, 1, 2], c = [1, 2]
        let tfidf = Fixtures.tinyIndex(.tfidf)
        #expect(close(score(tfidf, "A", "B"), sq([0, 1]) / (sq(a) * sq(b)).squareRoot()))
        #expect(close(score(tfidf, "B", "C"), sq([1, 2]) / (sq(b) * sq(c)).squareRoot()))
        #expect(score(tfidf, "A", "C") == nil, "their one shared user, u2, has idf 0")
        let bm25 = Fixtures.tinyIndex(.bm25)
        let mean = 9.0 / 4
        func h(_ count: Double) -> Double { 101 / (100 * (0.2 + 0.8 * count / mean) + 1) }
        #expect(close(score(bm25, "A", "B"), sq([0, 1]) * h(3) * h(3)))
        #expect(close(score(bm25, "C", "B"), sq([1, 2]) * h(2) * h(3)))
    }

    /// Gauss-Jordan with partial pivoting in Double: the reference.
    static func bruteInverse(_ m: [[Double]]) -> [[Double]] {
        let n = m.count
        var a = m.map { $0 + [Double](repeating: 0, count: n) }
        for i in 0..<n { a[i][n + i] = 1 }
        for c in 0..<n {
            let p = (c..<n).max { abs(a[$0][c]) < abs(a[$1][c]) }!
            a.swapAt(c, p)
            let d = a[c][c]
            for j in 0..<(2 * n) { a[c][j] /= d }
            for r in 0..<n where r != c {
                let f = a[r][c]
                if f != 0 { for j in 0..<(2 * n) { a[r][j] -= f * a[c][j] } }
            }
        }
        return a.map { Array($0[n...]) }
    }

    /// The blocked Cholesky and inverse against Gauss-Jordan on random SPD
    /// matrices whose sizes straddle the block (64) and strip (32) widths.
    @Test(arguments: [1, 7, 33, 64, 65, 150, 129, 300])
    func easeInverse_MatchesABruteForceSolve(n: Int) throws {
        var rng = SplitMix64(seed: UInt64(n))
        let x = (0..<(n + 20)).map { _ in (0..<n).map { _ in Double(rng.next() % 3 == 0 ? 1 : 0) } }
        var g = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for row in x { for i in 0..<n where row[i] != 0 { for j in 0..<n { g[i][j] += row[j] } } }
        for i in 0..<n { g[i][i] += 5 }
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { a.deallocate() }
        for i in 0..<n { for j in 0..<n { a[i * n + j] = Float(g[i][j]) } }
        let p = try #require(EASESolver.inverse(a, n: n, threads: 2))
        defer { p.deallocate() }
        let expected = Self.bruteInverse(g)
        var worst = 0.0
        for i in 0..<n { for j in 0..<n { worst = max(worst, abs(Double(p[i * n + j]) - expected[i][j])) } }
        let scale = expected.map { $0.map(abs).max()! }.max()!
        #expect(worst <= 1e-4 * scale, "largest error \(worst) against entries up to \(scale)")
    }

    @Test func ease_OnTheTinyShop_IsMinusPOverItsDiagonal() {
        var config = Fixtures.plainConfig(.ease)
        config.easeLambda = 1
        let index = IndexBuilder.build(Snapshot(events: Fixtures.tinyEvents()), config: config)
        let names = ["A", "B", "C", "D"].map { index.items.lookup($0)! }
        // G = X'X + I over A, B, C, D for u1 AB, u2 ABC, u3 BC, u4 A, u5 D.
        let counts: [[Double]] = [[3, 2, 1, 0], [2, 3, 2, 0], [1, 2, 2, 0], [0, 0, 0, 1]]
        var g = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 4)
        for (a, i) in names.enumerated() { for (b, j) in names.enumerated() { g[Int(i)][Int(j)] = counts[a][b] + (a == b ? 1 : 0) } }
        let p = Self.bruteInverse(g)
        for (a, i) in names.enumerated() {
            for (b, j) in names.enumerated() where a != b {
                let expected = -p[Int(i)][Int(j)] / p[Int(j)][Int(j)]
                let got = score(index, ["A", "B", "C", "D"][a], ["A", "B", "C", "D"][b])
                if expected > 1e-6 { #expect(close(got, expected, 1e-4), "B[\(a),\(b)]") } else { #expect(got == nil) }
            }
        }
    }

    @Test func timeDecay_HalvesAnEventsWeightPerHalfLife() throws {
        var events = EventTable()
        events.append(user: "u1", item: "old", type: .purchase, time: Fixtures.t0 - 2 * Fixtures.day)
        events.append(user: "u1", item: "new", type: .purchase, time: Fixtures.t0)
        events.append(user: "u1", item: "new", type: .view, time: Fixtures.t0 - Fixtures.day)
        var config = Fixtures.plainConfig()
        config.halfLifeDays = 1
        config.weights = EventWeights(view: 2, cart: 1, purchase: 4)
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        let range = index.histories.range(of: 0)
        let weights = Dictionary(uniqueKeysWithValues: range.map { (index.items.name(index.histories.items[$0]), index.histories.weights[$0]) })
        #expect(close(weights["old"], 1))      // 4 * 2^-2
        #expect(close(weights["new"], 4 + 1))  // 4 * 2^0 + 2 * 2^-1
        #expect(close(index.popularity.score[Int(try #require(index.items.lookup("new")))], 5))
    }

    @Test func minSupport_DropsPairsSharedByTooFewUsers() {
        var config = Fixtures.plainConfig(.jaccard)
        config.minSupport = 2
        let index = IndexBuilder.build(Snapshot(events: Fixtures.tinyEvents()), config: config)
        #expect(score(index, "A", "B") != nil)  // 2 shared users
        #expect(score(index, "A", "C") == nil)  // 1 shared user
    }

    @Test func longHistories_AreCappedToTheMostRecentItems() {
        var events = EventTable()
        for i in 0..<10 {
            events.append(user: "whale", item: "i\(i)", type: .purchase, time: Fixtures.t0 + Int64(i))
        }
        var config = Fixtures.plainConfig()
        config.maxHistory = 3
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        let kept = index.histories.range(of: 0).map { index.items.name(index.histories.items[$0]) }
        #expect(kept == ["i7", "i8", "i9"])
    }

    @Test(arguments: SimilarityKind.allCases)
    func shardCount_DoesNotChangeTheIndex(kind: SimilarityKind) {
        let events = Fixtures.randomEvents(users: 400, items: 120, seed: 11)
        var one = Fixtures.plainConfig(kind, shards: 1)
        one.halfLifeDays = 30
        var five = one
        five.shards = 5
        let a = IndexBuilder.build(Snapshot(events: events), config: one)
        let b = IndexBuilder.build(Snapshot(events: events), config: five)
        #expect(a.neighbors.offsets == b.neighbors.offsets)
        #expect(a.neighbors.ids == b.neighbors.ids)
        #expect(a.neighbors.scores == b.neighbors.scores)
    }

    @Test(arguments: SimilarityKind.sparse)
    func halfProduct_MatchesFullRows(kind: SimilarityKind) {
        let events = Fixtures.randomEvents(users: 500, items: 150, seed: 23)
        var config = Fixtures.plainConfig(kind, shards: 3)
        config.neighbors = 9
        config.halfLifeDays = 30
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        // A zero budget forces the full-row product: each pair scored from both sides.
        let full = NeighborBuilder.build(histories: index.histories, inverted: index.itemUsers, config: config,
                                         shards: 3, halfProductBudget: 0)
        #expect(index.neighbors.entryCount > 9 * 100)
        #expect(full.offsets == index.neighbors.offsets)
        #expect(full.ids == index.neighbors.ids)
        for (a, b) in zip(full.scores, index.neighbors.scores) { #expect(abs(a - b) <= 1e-6 * max(1, abs(a))) }
    }

    @Test func neighbourRows_AreTopKByBruteForce_SortedWithStableTies() {
        let events = Fixtures.randomEvents(users: 300, items: 60, groups: 3, seed: 5)
        var config = Fixtures.plainConfig(.jaccard, shards: 3)
        config.neighbors = 7
        let index = IndexBuilder.build(Snapshot(events: events), config: config)
        // Brute force: every pair's jaccard from user sets.
        var usersOf = [Set<UInt32>](repeating: [], count: index.itemCount)
        for u in 0..<index.userCount {
            for h in index.histories.range(of: UInt32(u)) { usersOf[Int(index.histories.items[h])].insert(UInt32(u)) }
        }
        for i in 0..<index.itemCount {
            var all: [(UInt32, Float)] = []
            for j in 0..<index.itemCount where j != i {
                let both = usersOf[i].intersection(usersOf[j]).count
                if both == 0 { continue }
                all.append((UInt32(j), Float(both) / Float(usersOf[i].count + usersOf[j].count - both)))
            }
            all.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            let expected = all.prefix(7)
            let range = index.neighbors.range(of: UInt32(i))
            #expect(Array(index.neighbors.ids[range]) == expected.map(\.0))
            for (x, e) in zip(range, expected) { #expect(abs(index.neighbors.scores[x] - e.1) < 1e-6) }
        }
    }
}
