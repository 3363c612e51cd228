import RecCore

/// `recbench vectors`: exact nearest-neighbour search speed and recall on a
/// vector file (`embeddings.f32`) or random unit vectors, one query at a
/// time, on one thread and fanned out over shards.
enum VectorBench {
    static func run(_ options: Options) {
        let k = options.int("k", 10)
        let queryCount = options.int("queries", 1000)
        var table: EmbeddingTable
        var items = ByteInterner()
        if let input = options.string("input") {
            guard let bytes = try? FileBytes.read(input) else { Options.fail("cannot read \(input)") }
            do { table = try EmbeddingTable.parseBinary(bytes, path: input, items: &items) } catch { Options.fail(error.description) }
        } else {
            let count = options.int("count", 100_000), dim = options.int("dim", 64)
            var rng = SplitMix64(seed: 1)
            table = EmbeddingTable(dimension: dim)
            for i in 0..<count { table.append(item: UInt32(i), (0..<dim).map { _ in rng.nextUnit() * 2 - 1 }) }
        }
        let t0 = Measure.now()
        let index = VectorIndex(table: table, itemCount: table.count)
        let buildSeconds = Double(Measure.now() - t0) / 1e9
        var rng = SplitMix64(seed: 2)
        let queries: [[Float]] = (0..<queryCount).map { _ in
            var q = (0..<index.dimension).map { _ in rng.nextUnit() * 2 - 1 }
            let n = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
            q = q.map { $0 / n } + [Float](repeating: 0, count: index.stride - index.dimension)
            return q
        }
        print("vectors: \(index.count) x \(index.dimension) (normalised in \(Measure.format(buildSeconds, 3)) s), \(queryCount) queries, k=\(k)")
        var heaps: [TopKHeap] = []
        var heap = TopKHeap(capacity: k)
        var results: [[UInt32]] = []
        for shards in [1, options.int("shards", BuildConfig.defaultShards)] {
            var checksum: UInt64 = 0
            let start = Measure.now()
            results.removeAll()
            for q in queries {
                q.withUnsafeBufferPointer { index.search($0, k: k, shards: shards, heaps: &heaps, into: &heap) { _ in true } }
                var ids: [UInt32] = []
                heap.drainBestFirst { id, _ in ids.append(id) }
                checksum &+= UInt64(ids.first ?? 0)
                results.append(ids)
            }
            let seconds = Double(Measure.now() - start) / 1e9
            let parallel = index.count * index.stride >= VectorIndex.parallelThreshold && shards > 1
            print("exact, \(shards) shard(s)\(parallel ? " in parallel" : ""): \(Measure.format(Double(queryCount) / seconds, 0)) queries/s, "
                  + "\(Measure.format(seconds / Double(queryCount) * 1e6, 1)) µs/query (checksum \(checksum % 1000))")
        }
        // Recall against a plain scalar brute force on the first 100 queries.
        var hits = 0, total = 0
        for (qi, q) in queries.prefix(100).enumerated() {
            var scored: [(Int, Float)] = []
            for j in 0..<index.count {
                var s: Float = 0
                for x in 0..<index.dimension { s += index.values[j * index.stride + x] * q[x] }
                scored.append((j, s))
            }
            let truth = Set(scored.sorted { $0.1 > $1.1 }.prefix(k).map { UInt32($0.0) })
            hits += results[qi].filter(truth.contains).count
            total += k
        }
        print("recall@\(k) against brute force: \(Measure.format(Double(hits) / Double(max(1, total)), 4))")
        if options.flag("hnsw") { hnsw(index, queries: queries, exact: results, k: k, options: options) }
    }

    /// Graph build time, then queries/s and recall@k (against the exact
    /// answers above) for a sweep of ef, one thread.
    static func hnsw(_ index: VectorIndex, queries: [[Float]], exact: [[UInt32]], k: Int, options: Options) {
        let m = options.int("m", 16), efc = options.int("ef-construction", 200)
        let t0 = Measure.now()
        let graph = HNSWGraph(vectors: index, members: (0..<UInt32(index.count)).map { $0 }, m: m, efConstruction: efc)
        let buildSeconds = Double(Measure.now() - t0) / 1e9
        print("hnsw M=\(m) ef_construction=\(efc): built in \(Measure.format(buildSeconds, 2)) s (one thread), \(Measure.mib(graph.memoryBytes)) of links, top level \(graph.maxLevel)")
        let scratch = HNSWScratch()
        var heap = TopKHeap(capacity: k)
        for ef in (options.string("ef").map { $0.split(separator: ",").compactMap { Int($0) } } ?? [10, 20, 40, 80, 160]) {
            var hits = 0
            let start = Measure.now()
            for (qi, q) in queries.enumerated() {
                heap.reset(keeping: k)
                q.withUnsafeBytes { raw in
                    graph.search(raw.baseAddress!, vectors: index, k: k, ef: ef, scratch: scratch, into: &heap) { _ in true }
                }
                let truth = Set(exact[qi])
                heap.drainBestFirst { id, _ in if truth.contains(id) { hits += 1 } }
            }
            let seconds = Double(Measure.now() - start) / 1e9
            print("hnsw ef=\(ef): \(Measure.format(Double(queries.count) / seconds, 0)) queries/s, recall@\(k) \(Measure.format(Double(hits) / Double(queries.count * k), 4))")
        }
    }
}
