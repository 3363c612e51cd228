import Foundation
import RecCore

/// `recbench quality`: offline accuracy of `REC`. Holds out part of each
/// user's items, builds on the rest in-process, asks for k picks per test
/// user and scores them against what was held out, for every similarity.
enum QualityBench {
    enum Split {
        /// Each user's most recent distinct item is the test item.
        case leaveLastOut
        /// Each user keeps this share of their distinct items for training.
        case random(Double)
    }

    struct Scores {
        var users = 0
        var hitRate = 0.0, precision = 0.0, recall = 0.0, ndcg = 0.0, map = 0.0
        var recommended = Set<UInt32>()
    }

    static func run(_ options: Options) {
        let dir = options.required("snapshot")
        let k = options.int("k", 10)
        let splitText = options.string("split") ?? "leave-last-out"
        let split: Split
        if splitText == "leave-last-out" {
            split = .leaveLastOut
        } else if splitText.hasPrefix("random:"), let share = Double(splitText.dropFirst(7)), share > 0, share < 1 {
            split = .random(share)
        } else {
            Options.fail("--split must be leave-last-out or random:SHARE (e.g. random:0.75)")
        }
        let snapshot: Snapshot
        do { snapshot = try SnapshotLoader.load(directory: dir) } catch { Options.fail(error.description) }
        // `--test FILE` (user TAB item rows): the snapshot is the training
        // set as it is and the file the relevant items, so another tool's
        // split (Benchmarks/compare-implicit.py) is measured identically.
        let (train, test): (EventTable, [Set<UInt32>])
        if let file = options.string("test") {
            (train, test) = (snapshot.events, readTest(file, snapshot.events))
        } else {
            (train, test) = divide(snapshot.events, split, seed: UInt64(options.int("seed", 42)))
        }
        let testUsers = test.indices.filter { !test[$0].isEmpty }
        // Without --mode, each model's own: `auto` may choose hybrid.
        let modeText = options.string("mode")
        let pinnedMode: RecMode?
        switch modeText {
        case nil: pinnedMode = nil
        case "cf": pinnedMode = .cf
        case "vec": pinnedMode = .vec
        case "hybrid": pinnedMode = .hybrid
        default: Options.fail("--mode must be cf, vec or hybrid")
        }
        let pinnedWeight = options.string("vector-weight").map { Float($0) ?? 0.3 }
        if let modeText, pinnedMode != .cf && snapshot.embeddings == nil && options.int("als-factors", 0) == 0 {
            Options.fail("--mode \(modeText) needs embeddings.tsv in the snapshot or --als-factors N")
        }
        let splitName = options.string("test").map { "from \($0)" } ?? splitText
        print("snapshot \(dir): \(snapshot.events.count) events\(snapshot.embeddings.map { ", \($0.count) item vectors of \($0.dimension)" } ?? ""); split \(splitName): \(train.count) training events, \(testUsers.count) test users, k=\(k)")
        let kinds: [SimilarityKind]
        if let only = options.string("similarity") {
            guard let kind = SimilarityKind(rawValue: only) else { Options.fail("--similarity: \(SimilarityKind.names)") }
            kinds = [kind]
        } else {
            kinds = SimilarityKind.allCases
        }
        print("similarity".padded(12) + ["HitRate", "Precision", "Recall", "nDCG", "MAP", "Coverage"].map { "\($0)@\(k)".padded(13) }.joined())
        for kind in kinds {
            var config = BuildConfig()
            config.similarity = kind
            config.shards = options.int("shards", config.shards)
            config.neighbors = options.int("neighbors", config.neighbors)
            if let h = options.string("half-life-days"), let v = Double(h) { config.halfLifeDays = v }
            // `auto` stands for a server's defaults, which learn vectors.
            config.alsFactors = options.int("als-factors", kind == .auto ? BuildConfig.servedALSFactors : 0)
            config.alsIterations = options.int("als-iterations", config.alsIterations)
            if let a = options.string("als-alpha"), let v = Float(a) { config.alsAlpha = v }
            if let v = options.string("ease-lambda").flatMap(Double.init) { config.easeLambda = v }
            if let v = options.string("rp3-beta").flatMap(Double.init) { config.rp3Beta = v }
            if let v = options.string("asymmetric-alpha").flatMap(Double.init) { config.asymmetricAlpha = v }
            var trainSnapshot = Snapshot(events: train, catalog: snapshot.catalog)
            trainSnapshot.embeddings = snapshot.embeddings
            let index = IndexBuilder.build(trainSnapshot, config: config)
            if let chosen = index.stats.selection {
                for c in chosen.candidates { print("  auto candidate \(c.name.padded(20)) holdout nDCG@10 \(Measure.format(c.ndcg, 4))") }
                print("  auto chose \(chosen.chosen.name) (\(chosen.testUsers) holdout users, \(Measure.format(chosen.seconds, 2)) s)")
            }
            let mode = pinnedMode ?? (index.vectors == nil ? .cf : index.config.recMode)
            let weight = pinnedWeight ?? (pinnedMode == nil ? index.config.vectorWeight : 0.3)
            let s = evaluate(index, testUsers: testUsers, test: test, users: snapshot.events.users, k: k, mode: mode, weight: weight)
            let n = Double(max(1, s.users))
            print(kind.rawValue.padded(12) + [s.hitRate / n, s.precision / n, s.recall / n, s.ndcg / n, s.map / n,
                                               Double(s.recommended.count) / Double(max(1, snapshot.events.items.count))]
                .map { Measure.format($0, 4).padded(13) }.joined())
        }
    }

    /// Each user's relevant items from a `user TAB item` file; items the
    /// training set never saw stay relevant (a miss for every model).
    static func readTest(_ path: String, _ events: EventTable) -> [Set<UInt32>] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { Options.fail("cannot read \(path)") }
        var test = [Set<UInt32>](repeating: [], count: events.users.count)
        var unseen = UInt32.max
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 2, let u = events.users.lookup(String(f[0])) else { continue }
            if let i = events.items.lookup(String(f[1])) { test[Int(u)].insert(i) } else {
                test[Int(u)].insert(unseen)
                unseen -= 1
            }
        }
        return test
    }

    /// Training events (same id spaces as `events`) and each user's test items.
    static func divide(_ events: EventTable, _ split: Split, seed: UInt64) -> (EventTable, [Set<UInt32>]) {
        var rng = SplitMix64(seed: seed)
        let userCount = events.users.count
        var byUser = [[Int]](repeating: [], count: userCount)
        for e in 0..<events.count { byUser[Int(events.user[e])].append(e) }
        var test = [Set<UInt32>](repeating: [], count: userCount)
        for u in 0..<userCount {
            var distinct: [UInt32] = []
            var seen = Set<UInt32>()
            // Distinct items in order of their latest event.
            let ordered = byUser[u].sorted { events.time[$0] != events.time[$1] ? events.time[$0] < events.time[$1] : $0 < $1 }
            for e in ordered.reversed() where seen.insert(events.item[e]).inserted { distinct.append(events.item[e]) }
            guard distinct.count >= 2 else { continue }
            switch split {
            case .leaveLastOut:
                test[u] = [distinct[0]]
            case .random(let share):
                var items = distinct
                for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                let keep = max(1, Int((Double(items.count) * share).rounded()))
                if keep < items.count { test[u] = Set(items[keep...]) }
            }
        }
        return (events.withoutHeldOut(test), test)
    }

    static func evaluate(_ index: RecIndex, testUsers: [Int], test: [Set<UInt32>], users: ByteInterner, k: Int,
                         mode: RecMode, weight: Float) -> Scores {
        var s = Scores()
        let scratch = QueryScratch()
        var options = QueryOptions(k: k)
        options.seen = .exclude
        options.mode = mode
        options.vectorWeight = weight
        for u in testUsers {
            let relevant = test[u]
            index.recommend(user: UInt32(u), options: options, scratch: scratch)
            var hits = 0, dcg = 0.0, ap = 0.0
            for (rank, item) in scratch.result.ids.enumerated() {
                s.recommended.insert(item)
                if relevant.contains(item) {
                    hits += 1
                    dcg += 1 / log2(Double(rank + 2))
                    ap += Double(hits) / Double(rank + 1)
                }
            }
            var idcg = 0.0
            for r in 0..<min(k, relevant.count) { idcg += 1 / log2(Double(r + 2)) }
            s.users += 1
            s.hitRate += hits > 0 ? 1 : 0
            s.precision += Double(hits) / Double(k)
            s.recall += Double(hits) / Double(relevant.count)
            s.ndcg += idcg > 0 ? dcg / idcg : 0
            s.map += ap / Double(min(k, relevant.count))
        }
        return s
    }
}
