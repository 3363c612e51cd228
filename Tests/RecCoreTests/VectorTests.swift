import Testing
@testable import RecCore
import RecTestSupport

@Suite struct EmbeddingFileTests {
    static func parse(_ text: String) throws(SnapshotError) -> (EmbeddingTable, ByteInterner) {
        var items = ByteInterner()
        let table = try EmbeddingTable.parse(Array(text.utf8), path: "e.tsv", items: &items)
        return (table, items)
    }

    @Test func goodFile_WithHeaderAndExponentForms() throws {
        let (t, items) = try Self.parse("item\tv1\tv2\tv3\nA\t1\t-5.2e-33\t0.5\nB\t1E2\t0\t-0.25\n")
        #expect(t.dimension == 3 && t.count == 2)
        #expect(items.name(t.items[1]) == "B")
        #expect(t.values == [1, -5.2e-33, 0.5, 100, 0, -0.25])
    }

    @Test func wrongLengthNaNAndJunk_AreErrorsNamingTheLine() {
        #expect(throws: SnapshotError.badEmbedding(path: "e.tsv", line: 3, reason: "2 values, expected 3 like the first row")) {
            _ = try Self.parse("item\tv1\tv2\tv3\nA\t1\t2\t3\nB\t1\t2\n")
        }
        #expect(throws: SnapshotError.badEmbedding(path: "e.tsv", line: 2, reason: "value 2 'NaN' is not a finite number")) {
            _ = try Self.parse("A\t1\t2\nB\t1\tNaN\n")
        }
        #expect(throws: SnapshotError.badEmbedding(path: "e.tsv", line: 1, reason: "value 1 '1e99' is not a finite number")) {
            _ = try Self.parse("A\t1e99\t2\n")
        }
        #expect(throws: SnapshotError.badEmbedding(path: "e.tsv", line: 1, reason: "no vectors")) {
            _ = try Self.parse("item\tv1\n")
        }
    }

    @Test func snapshotLoader_ReadsEmbeddings_AndAnItemWithOnlyAVectorBecomesAnItem() throws {
        let dir = Fixtures.directory([
            "events.tsv": "user\titem\ttype\ttimestamp\nu\tA\tview\t1\nu\tB\tview\t1\n",
            "embeddings.tsv": "A\t1\t0\nB\t0\t1\nNEW\t1\t1\n",
        ])
        let snapshot = try SnapshotLoader.load(directory: dir)
        #expect(snapshot.embeddings?.count == 3)
        #expect(snapshot.events.items.lookup("NEW") != nil)
        let index = IndexBuilder.build(snapshot, config: Fixtures.plainConfig())
        let scratch = QueryScratch()
        // A brand-new item, bought by nobody, is found by its vector.
        index.vectorSimilar(to: index.items.lookup("A"), options: QueryOptions(k: 1), scratch: scratch)
        #expect(index.names(scratch.result).map(\.0) == ["NEW"])
    }
}

@Suite struct VectorSearchTests {
    static func randomTable(items: Int, dimension: Int, seed: UInt64) -> (EmbeddingTable, [[Float]]) {
        var rng = SplitMix64(seed: seed)
        var table = EmbeddingTable(dimension: dimension)
        var rows: [[Float]] = []
        for i in 0..<items {
            let v = (0..<dimension).map { _ in rng.nextUnit() * 2 - 1 }
            table.append(item: UInt32(i), v)
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            rows.append(v.map { $0 / n })
        }
        return (table, rows)
    }

    func check(items: Int, dimension: Int, shards: Int) {
        let (table, rows) = Self.randomTable(items: items, dimension: dimension, seed: UInt64(items))
        let index = VectorIndex(table: table, itemCount: items)
        var rng = SplitMix64(seed: 99)
        var heaps: [TopKHeap] = []
        for _ in 0..<5 {
            var query = (0..<dimension).map { _ in rng.nextUnit() * 2 - 1 }
            let n = query.reduce(0) { $0 + $1 * $1 }.squareRoot()
            query = query.map { $0 / n } + [Float](repeating: 0, count: index.stride - dimension)
            var heap = TopKHeap(capacity: 10)
            query.withUnsafeBufferPointer { q in
                index.search(q, k: 10, shards: shards, heaps: &heaps, into: &heap) { $0 % 7 != 0 }
            }
            var got: [UInt32] = []
            heap.drainBestFirst { id, _ in got.append(id) }
            let brute = (0..<items).filter { $0 % 7 != 0 }.map { j in
                (j, zip(rows[j], query).reduce(Float(0)) { $0 + $1.0 * $1.1 })
            }.sorted { $0.1 > $1.1 }.prefix(10).map { UInt32($0.0) }
            #expect(got == Array(brute), "recall must be 1.0 against brute force")
        }
    }

    @Test func exactSearch_MatchesBruteForce_OnOneThread() { check(items: 2000, dimension: 37, shards: 1) }

    @Test func exactSearch_MatchesBruteForce_AcrossShards() {
        // 40,000 x 64 floats passes the parallel threshold: the scan fans out.
        check(items: 40_000, dimension: 64, shards: 3)
    }
}

@Suite struct HybridTests {
    /// The tiny shop with vectors: C and D point the same way, A and B another.
    static func index() throws -> RecIndex {
        IndexBuilder.build(Fixtures.tinySnapshotWithVectors(), config: Fixtures.plainConfig())
    }

    @Test func modes_ScoreByCooccurrenceVectorsOrBoth() throws {
        let index = try Self.index()
        let scratch = QueryScratch()
        var options = QueryOptions(k: 2)
        options.fallback = false
        // u4 has only A. By co-occurrence B (0.667) then C (0.408); D never co-occurs.
        index.recommend(user: index.users.lookup("u4"), options: options, scratch: scratch)
        #expect(index.names(scratch.result).map(\.0) == ["B", "C"])
        // By vectors: B is nearest A, then D (cos 0.11 / 0.906) before C (0).
        options.mode = .vec
        index.recommend(user: index.users.lookup("u4"), options: options, scratch: scratch)
        #expect(index.names(scratch.result).map(\.0) == ["B", "D"])
        // Hybrid with w = 0.5: B = 0.5 x 0.994 + 0.5 x 1, C = 0.5 x 0 + 0.5 x 0.612, D = 0.5 x 0.110.
        options.mode = .hybrid
        options.vectorWeight = 0.5
        index.recommend(user: index.users.lookup("u4"), options: options, scratch: scratch)
        let names = index.names(scratch.result)
        #expect(names.map(\.0) == ["B", "C"])
        #expect(abs(names[0].1 - (0.5 * 0.99388 + 0.5)) < 1e-3)
        #expect(abs(names[1].1 - 0.5 * 0.408248 / 0.666667) < 1e-3)
    }
}

@Suite struct HNSWTests {
    @Test func recallOnAFixedSeed_IsAboveTheFloor_AndTheBuildIsDeterministic() {
        let (table, rows) = VectorSearchTests.randomTable(items: 3000, dimension: 16, seed: 7)
        let index = VectorIndex(table: table, itemCount: 3000)
        let members = (0..<UInt32(3000)).map { $0 }
        let graph = HNSWGraph(vectors: index, members: members, m: 12, efConstruction: 100, seed: 1)
        let again = HNSWGraph(vectors: index, members: members, m: 12, efConstruction: 100, seed: 1)
        #expect(graph.links0 == again.links0 && graph.upperLinks == again.upperLinks && graph.entry == again.entry)
        var rng = SplitMix64(seed: 3)
        let scratch = HNSWScratch()
        var hits = 0, filteredOK = true
        for _ in 0..<100 {
            var q = (0..<16).map { _ in rng.nextUnit() * 2 - 1 }
            let n = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
            q = q.map { $0 / n } + [Float](repeating: 0, count: index.stride - 16)
            let truth = Set((0..<3000).map { j in (j, zip(rows[j], q).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                .sorted { $0.1 > $1.1 }.prefix(10).map { UInt32($0.0) })
            var heap = TopKHeap(capacity: 10)
            q.withUnsafeBytes { graph.search($0.baseAddress!, vectors: index, k: 10, ef: 64, scratch: scratch, into: &heap) { _ in true } }
            heap.drainBestFirst { id, _ in if truth.contains(id) { hits += 1 } }
            // A filter is honoured: only even ids come back.
            heap.reset(keeping: 10)
            q.withUnsafeBytes { graph.search($0.baseAddress!, vectors: index, k: 10, ef: 64, scratch: scratch, into: &heap) { $0 % 2 == 0 } }
            heap.drainBestFirst { id, _ in if id % 2 != 0 { filteredOK = false } }
        }
        let recall = Double(hits) / 1000
        #expect(recall >= 0.9, "recall@10 at ef=64 was \(recall)")
        #expect(filteredOK)
    }

    @Test func indexBuilder_BuildsGraphsPastTheThreshold_AndVSIMUsesThem() {
        var config = Fixtures.plainConfig()
        config.hnswThreshold = 1
        let index = IndexBuilder.build(Fixtures.tinySnapshotWithVectors(), config: config)
        #expect(index.vectors?.graphs.count == 2)
        let scratch = QueryScratch()
        var options = QueryOptions(k: 2)
        options.ef = 10
        index.vectorSimilar(to: index.items.lookup("C"), options: options, scratch: scratch)
        #expect(index.names(scratch.result).map(\.0) == ["D", "B"])
    }
}

@Suite struct ALSTests {
    /// Two planted groups: users 0-9 take items 0-4, users 10-19 items 5-9.
    static func rows() -> (ALSFactorizer.Rows, ALSFactorizer.Rows) {
        var byUser: [[UInt32]] = []
        var rng = SplitMix64(seed: 5)
        for u in 0..<20 {
            let base = u < 10 ? 0 : 5
            byUser.append((0..<5).map { UInt32(base + $0) }.filter { _ in rng.next() % 4 != 0 })
        }
        func csr(_ lists: [[UInt32]]) -> ALSFactorizer.Rows {
            var offsets: [UInt32] = [0], columns: [UInt32] = []
            for l in lists {
                columns += l
                offsets.append(UInt32(columns.count))
            }
            return ALSFactorizer.Rows(offsets: offsets, columns: columns, values: [Float](repeating: 1, count: columns.count))
        }
        var byItem = [[UInt32]](repeating: [], count: 10)
        for (u, l) in byUser.enumerated() { for i in l { byItem[Int(i)].append(UInt32(u)) } }
        return (csr(byUser), csr(byItem))
    }

    @Test func lossDecreases_AndThePlantedGroupsAreRecovered() {
        let (byUser, byItem) = Self.rows()
        var als = ALSFactorizer()
        als.factors = 4
        als.iterations = 15
        als.cgSteps = 4
        als.alpha = 10
        als.shards = 2
        var losses: [Double] = []
        let model = als.fit(byUser: byUser, byItem: byItem) { _, m in losses.append(als.loss(m, byUser: byUser)) }
        for (a, b) in zip(losses, losses.dropFirst()) { #expect(b <= a * 1.0001, "loss went up: \(losses)") }
        #expect(losses.last! < losses.first! * 0.9 || losses.first! < 1)
        func cosine(_ i: Int, _ j: Int) -> Float {
            let a = model.items[(i * 4)..<(i * 4 + 4)], b = model.items[(j * 4)..<(j * 4 + 4)]
            let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            return dot / (a.reduce(0) { $0 + $1 * $1 }.squareRoot() * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        // Within a group items point the same way; across groups they do not.
        var within: Float = 0, across: Float = 0
        for i in 0..<5 { for j in 0..<5 where i != j { within += cosine(i, j) + cosine(5 + i, 5 + j) } }
        for i in 0..<5 { for j in 5..<10 { across += cosine(i, j) } }
        // Groups come out orthogonal; items of one group clearly share a direction.
        #expect(abs(across / 25) < 0.1, "mean across-group cosine \(across / 25)")
        #expect(within / 40 > abs(across / 25) + 0.3, "mean within-group cosine \(within / 40)")
    }
}
