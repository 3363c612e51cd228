import RecCore

/// `recbench build`: how long a snapshot takes to parse and build, phase by
/// phase, the memory it takes, and in-process latency per query command over
/// random known ids (no network, so this is the index's own cost).
enum BuildBench {
    static func run(_ options: Options) {
        let directory = options.required("snapshot")
        var config = BuildConfig()
        config.shards = options.int("shards", config.shards)
        config.neighbors = options.int("neighbors", config.neighbors)
        config.alsFactors = options.int("als-factors", 0)
        config.hnswThreshold = options.int("hnsw-threshold", config.hnswThreshold)
        if let s = options.string("similarity") {
            guard let kind = SimilarityKind(rawValue: s) else { Options.fail("--similarity: \(SimilarityKind.names)") }
            config.similarity = kind
        }
        let queries = options.int("queries", 100_000)
        let rssBefore = Measure.currentRSS()
        let t0 = Measure.now()
        let snapshot: Snapshot
        do {
            snapshot = try SnapshotLoader.load(directory: directory)
        } catch {
            Options.fail(error.description)
        }
        let parseSeconds = Double(Measure.now() - t0) / 1e9
        let index = IndexBuilder.build(snapshot, config: config)
        let totalSeconds = Double(Measure.now() - t0) / 1e9
        let peak = Measure.peakRSS()
        print("snapshot \(directory): \(snapshot.events.count) events, \(index.userCount) users, \(index.itemCount) items, \(snapshot.report.rowsRejected) rows rejected")
        print("config: similarity=\(config.similarity.rawValue) neighbors=\(config.neighbors) shards=\(index.stats.shards) half-life-days=\(config.halfLifeDays) max-history=\(config.maxHistory)")
        let width = max(22, (index.stats.phases.map(\.name.count).max() ?? 0) + 2)
        print("phase".padded(width) + "seconds")
        print("parse+intern".padded(width) + Measure.format(parseSeconds, 3))
        for (name, seconds) in index.stats.phases { print(name.padded(width) + Measure.format(seconds, 3)) }
        print("total (wall)".padded(width) + Measure.format(totalSeconds, 3))
        print("peak RSS \(Measure.mib(peak)) (\(Measure.mib(rssBefore)) before loading); index arrays \(Measure.mib(index.memoryBytes)), \(index.memoryBytes / max(1, index.itemCount)) bytes per item; \(index.stats.neighborEntries) neighbour entries")
        latency(index, queries: queries)
    }

    static func latency(_ index: RecIndex, queries: Int) {
        let scratch = QueryScratch()
        var rng = SplitMix64(seed: 42)
        let options = QueryOptions(k: 10)
        var checksum = 0
        print("\nin-process latency, \(queries) queries each, k=10 (microseconds)")
        print("command    p50      p90      p99      p99.9    max      qps")
        func measure(_ name: String, _ body: () -> Void) {
            var samples = [UInt64](repeating: 0, count: queries)
            let start = Measure.now()
            for q in 0..<queries {
                let t = Measure.now()
                body()
                samples[q] = Measure.now() - t
                checksum &+= scratch.result.count
            }
            let elapsed = Double(Measure.now() - start) / 1e9
            samples.sort()
            let us = { (p: Double) in Measure.format(Double(Measure.percentile(samples, p)) / 1000, 2).padded(9) }
            print(name.padded(11) + us(50) + us(90) + us(99) + us(99.9)
                  + Measure.format(Double(samples.last!) / 1000, 1).padded(9) + String(Int(Double(queries) / elapsed)))
        }
        let items = UInt32(index.itemCount), users = UInt32(index.userCount)
        measure("SIM") { index.similar(to: UInt32(rng.next() % UInt64(items)), options: options, scratch: scratch) }
        measure("REC") { index.recommend(user: UInt32(rng.next() % UInt64(users)), options: options, scratch: scratch) }
        measure("SESSION") {
            scratch.requestItems.removeAll(keepingCapacity: true)
            for _ in 0..<3 { scratch.requestItems.append(UInt32(rng.next() % UInt64(items))) }
            index.recommendSession(options: options, scratch: scratch)
        }
        measure("POPULAR") { index.popular(options: options, scratch: scratch) }
        // Consumed so the optimiser cannot drop the queries.
        if checksum == 0 { print("warning: every query returned nothing") }
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
