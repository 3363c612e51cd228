import Foundation
import RecCore

/// Small snapshots with answers that can be worked out by hand.
public enum Fixtures {
    public static let day: Int64 = 86_400
    public static let t0: Int64 = 1_700_000_000

    /// Users and what they bought, all at `t0`:
    ///
    ///     u1: A B      u2: A B C      u3: B C      u4: A      u5: D
    ///
    /// Users per item: c_A = 3, c_B = 3, c_C = 2, c_D = 1; N = 5.
    /// Pairs: c_AB = 2, c_AC = 1, c_BC = 2, nothing pairs with D.
    public static func tinyEvents() -> EventTable {
        var e = EventTable()
        for (user, items) in [("u1", "AB"), ("u2", "ABC"), ("u3", "BC"), ("u4", "A"), ("u5", "D")] {
            for item in items { e.append(user: user, item: String(item), type: .purchase, time: t0) }
        }
        return e
    }

    /// Unit weights and no decay, so affinities are 0/1 and the maths stays by hand.
    public static func plainConfig(_ kind: SimilarityKind = .cosine, shards: Int = 2) -> BuildConfig {
        var c = BuildConfig()
        c.similarity = kind
        c.halfLifeDays = 0
        c.weights = EventWeights(view: 1, cart: 1, purchase: 1)
        c.shards = shards
        return c
    }

    public static func tinyIndex(_ kind: SimilarityKind = .cosine, catalog: Catalog = Catalog()) -> RecIndex {
        IndexBuilder.build(Snapshot(events: tinyEvents(), catalog: catalog), config: plainConfig(kind))
    }

    /// A random shop under a fixed seed: `users` users, each buying a few
    /// items from one of `groups` clusters, so similar items exist.
    public static func randomEvents(users: Int, items: Int, groups: Int = 10, seed: UInt64) -> EventTable {
        var rng = SplitMix64(seed: seed)
        var e = EventTable()
        let perGroup = max(1, items / groups)
        for u in 0..<users {
            let g = Int(rng.next() % UInt64(groups))
            let n = 2 + Int(rng.next() % 6)
            for _ in 0..<n {
                let i = g * perGroup + Int(rng.next() % UInt64(perGroup))
                let type = EventType(rawValue: UInt8(rng.next() % 3))!
                e.append(user: "user\(u)", item: "item\(i)", type: type, time: t0 - Int64(rng.next() % 60) * day)
            }
        }
        return e
    }

    /// Writes files into a fresh temporary directory and returns its path.
    public static func directory(_ files: [String: String]) -> String {
        let path = NSTemporaryDirectory() + "recd-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files {
            try! text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
        return path
    }

    /// The shared data sets, when this checkout sits beside them.
    public static func sharedData(_ file: String) -> String? {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { dir.deleteLastPathComponent() }  // Tests/RecTestSupport/Fixtures.swift -> repo root's parent
        let path = dir.appendingPathComponent("shared/data/" + file).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

extension RecIndex {
    /// Neighbours of `item` as (name, score), best first: test convenience.
    public func neighborNames(_ item: String) -> [(String, Float)] {
        guard let id = items.lookup(item) else { return [] }
        return neighbors.range(of: id).map { (items.name(neighbors.ids[$0]), neighbors.scores[$0]) }
    }

    /// The current result of `scratch` as (name, score).
    public func names(_ result: ResultList) -> [(String, Float)] {
        (0..<result.count).map { (items.name(result.ids[$0]), result.scores[$0]) }
    }
}

extension Fixtures {
    /// The tiny shop as a snapshot directory (events.tsv), timestamps `t0`.
    public static func tinySnapshotDirectory(extraRows: String = "") -> String {
        var rows = "user\titem\ttype\ttimestamp\n"
        for (user, items) in [("u1", "AB"), ("u2", "ABC"), ("u3", "BC"), ("u4", "A"), ("u5", "D")] {
            for item in items { rows += "\(user)\t\(item)\tpurchase\t\(t0)\n" }
        }
        return directory(["events.tsv": rows + extraRows])
    }
}

extension Fixtures {
    /// The tiny shop with 2-d item vectors: A and B point one way, C and D
    /// another (cos(A,B) = 0.993884, cos(C,D) = 0.993884, cos(A,D) = 0.110432).
    public static func tinySnapshotWithVectors() -> Snapshot {
        var snapshot = Snapshot(events: tinyEvents())
        var table = EmbeddingTable(dimension: 2)
        for (name, v) in [("A", [1, 0]), ("B", [0.9, 0.1]), ("C", [0, 1]), ("D", [0.1, 0.9])] as [(String, [Float])] {
            table.append(item: snapshot.events.items.lookup(name)!, v)
        }
        snapshot.embeddings = table
        return snapshot
    }
}
