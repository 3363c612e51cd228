import Testing
import RecTestSupport
@testable import RecCore

/// Builds over the real data sets in ../shared/data; skipped, with the reason
/// shown, where they are absent.
@Suite struct RealDataTests {
    /// Online Retail purchases with a customer id, as the sample converter keeps them.
    static func onlineRetail(_ path: String) throws -> EventTable {
        let bytes = try FileBytes.read(path)
        var events = EventTable()
        bytes.withUnsafeBufferPointer { buf in
            var scanner = TSVScanner(bytes: buf)
            _ = scanner.next()
            while scanner.next() {
                guard scanner.fieldCount >= 8, !scanner.field(6).isEmpty, scanner.field(0).first != UInt8(ascii: "C"),
                      let q = ByteParsing.parseInt(scanner.field(3)), q > 0,
                      let t = Timestamp.parse(scanner.field(4)) else { continue }
                let u = events.users.intern(scanner.field(6)), i = events.items.intern(scanner.field(1))
                events.append(user: u, item: i, type: .purchase, time: t, quantity: Float(q))
            }
        }
        return events
    }

    static func checkInvariants(_ index: RecIndex) {
        var bad = 0
        for i in 0..<index.itemCount {
            let r = index.neighbors.range(of: UInt32(i))
            #expect(r.count <= index.config.neighbors)
            for x in r {
                let s = index.neighbors.scores[x]
                if index.neighbors.ids[x] == UInt32(i) || !(s > 0) || !s.isFinite { bad += 1 }
                if x > r.lowerBound && index.neighbors.scores[x - 1] < s { bad += 1 }
            }
        }
        #expect(bad == 0, "neighbour rows must hold other items, positive scores, best first")
    }

    @Test(.enabled(if: Fixtures.sharedData("online_retail.tsv") != nil, "needs ../shared/data/online_retail.tsv"))
    func onlineRetail_BuildsAllCustomersPurchases_WithSoundNeighbourRows() throws {
        let events = try Self.onlineRetail(try #require(Fixtures.sharedData("online_retail.tsv")))
        #expect(events.users.count == 4339)  // customers with at least one kept purchase
        let index = IndexBuilder.build(Snapshot(events: events), config: BuildConfig())
        Self.checkInvariants(index)
        // The white and red hanging heart T-light holders are bought together.
        let white = try #require(index.items.lookup("85123A"))
        let top = index.neighbors.range(of: white).prefix(10).map { index.items.name(index.neighbors.ids[$0]) }
        #expect(top.contains("21733"), "top neighbours of 85123A: \(top)")
        let scratch = QueryScratch()
        index.recommend(user: index.users.lookup("17850"), options: QueryOptions(k: 10), scratch: scratch)
        #expect(scratch.result.count == 10)
        #expect(scratch.result.fallbackCount == 0)
    }

    @Test(.enabled(if: Fixtures.sharedData("ml100k_ratings.tsv") != nil, "needs ../shared/data/ml100k_ratings.tsv"))
    func movieLens_LoadsThroughTheSnapshotLoader_AndEverySimilarityBuilds() throws {
        // Ratings as events: 4-5 stars a purchase, the rest views.
        let bytes = try FileBytes.read(try #require(Fixtures.sharedData("ml100k_ratings.tsv")))
        var text = "user\titem\ttype\ttimestamp\n"
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst().forEach { line in
            let f = line.split(separator: "\t")
            text += "\(f[0])\t\(f[1])\t\(Int(f[2])! >= 4 ? "purchase" : "view")\t\(f[3])\n"
        }
        let snapshot = try SnapshotLoader.load(directory: Fixtures.directory(["events.tsv": text]))
        #expect(snapshot.events.count == 100_000)
        #expect(snapshot.events.users.count == 943)
        #expect(snapshot.events.items.count == 1682)
        for kind in SimilarityKind.allCases {
            var config = BuildConfig()
            config.similarity = kind
            let index = IndexBuilder.build(snapshot, config: config)
            Self.checkInvariants(index)
            #expect(index.stats.neighborEntries > 1682 * 40, "\(kind)")
        }
    }
}
