/// Audience queries: they return users, not items.
extension RecIndex {
    /// Users whose affinity vectors are nearest `seed` (sparse cosine over
    /// the items they share), best first, leaving out `excluding`.
    /// - Complexity: O(sum over seed items of their users, + U log k).
    public func lookalikes(seed: [(item: UInt32, weight: Float)], excluding: Set<UInt32>, k: Int) -> ResultList {
        var dot = [Float](repeating: 0, count: userCount)
        var touched: [UInt32] = []
        var seedNorm: Float = 0
        for (item, w) in seed where Int(item) < itemUsers.itemCount {
            seedNorm += w * w
            for r in Int(itemUsers.offsets[Int(item)])..<Int(itemUsers.offsets[Int(item) + 1]) {
                let u = Int(itemUsers.users[r])
                if dot[u] == 0 { touched.append(UInt32(u)) }
                dot[u] += w * itemUsers.weights[r]
            }
        }
        var heap = TopKHeap(capacity: k)
        for u in touched where !excluding.contains(u) && dot[Int(u)] > 0 && isVisible(u) {
            var norm: Float = 0
            for h in histories.range(of: u) { norm += histories.weights[h] * histories.weights[h] }
            heap.insert(u, dot[Int(u)] / (seedNorm.squareRoot() * norm.squareRoot()))
        }
        var result = ResultList()
        heap.drainBestFirst { result.append($0, $1) }
        return result
    }

    /// A user's affinity vector: snapshot history plus extra (live) entries.
    public func affinity(user: UInt32?, extraItems: [UInt32], extraWeights: [Float]) -> [(item: UInt32, weight: Float)] {
        var weights: [UInt32: Float] = [:]
        if let user, Int(user) < userCount {
            for h in histories.range(of: user) { weights[histories.items[h], default: 0] += histories.weights[h] }
        }
        for (i, w) in zip(extraItems, extraWeights) { weights[i, default: 0] += w }
        return weights.map { ($0.key, $0.value) }.sorted { $0.item < $1.item }
    }

    /// Whether `user` bought `item` in the snapshot.
    public func bought(user: UInt32, item: UInt32) -> Bool {
        repurchase.range(of: user).contains { repurchase.items[$0] == item }
    }
}
