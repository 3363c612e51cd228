/// The top-K most similar items of every item, as CSR: item `i`'s neighbours
/// are `ids[offsets[i] ..< offsets[i + 1]]`, best first, with `scores` beside.
/// Immutable once built, so any thread reads it without a lock.
public struct NeighborIndex: Sendable {
    public let offsets: [UInt32]
    public let ids: [UInt32]
    public let scores: [Float]

    public init(offsets: [UInt32], ids: [UInt32], scores: [Float]) {
        precondition(offsets.count >= 1 && Int(offsets.last!) == ids.count && ids.count == scores.count)
        self.offsets = offsets
        self.ids = ids
        self.scores = scores
    }

    public var itemCount: Int { offsets.count - 1 }
    /// Total neighbour entries over all items.
    public var entryCount: Int { ids.count }

    /// Items added live (by `ITEM` or `EVENT`) have ids past the built rows
    /// and no neighbours until the next build.
    /// - Complexity: O(1).
    @inline(__always)
    public func range(of item: UInt32) -> Range<Int> {
        guard Int(item) < itemCount else { return 0..<0 }
        return Int(offsets[Int(item)])..<Int(offsets[Int(item) + 1])
    }

    /// Each row cut to its best `k` (rows are best first).
    public func truncated(to k: Int) -> NeighborIndex {
        var o: [UInt32] = [0], i: [UInt32] = [], s: [Float] = []
        for item in 0..<itemCount {
            let r = range(of: UInt32(item))
            i.append(contentsOf: ids[r].prefix(k))
            s.append(contentsOf: scores[r].prefix(k))
            o.append(UInt32(i.count))
        }
        return NeighborIndex(offsets: o, ids: i, scores: s)
    }

    public var memoryBytes: Int { offsets.capacity * 4 + ids.capacity * 4 + scores.capacity * 4 }
}
